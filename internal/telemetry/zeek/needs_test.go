package zeek_test

import (
	"io"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/zeek"
)

// readAll reads path with f, returning the events and the number of
// bad records.
func readAll(t *testing.T, path string, f telemetry.Format) ([]*telemetry.Event, int) {
	t.Helper()
	in, err := fileio.Open(path, fileio.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	rd, err := f.Open(in.R, path)
	if err != nil {
		t.Fatal(err)
	}
	var evs []*telemetry.Event
	bad := 0
	var ev telemetry.Event
	for {
		ev.Reset()
		err := rd.Next(&ev)
		if err == io.EOF {
			return evs, bad
		}
		if telemetry.IsRecordError(err) {
			bad++
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		evs = append(evs, ev.Clone())
	}
}

// withoutUnmatched is ev with the fields MatchOnly may leave undecoded
// set to zero.
func withoutUnmatched(ev *telemetry.Event) *telemetry.Event {
	c := ev.Clone()
	c.Proto, c.Service, c.Duration, c.ConnState = "", "", 0, ""
	c.SrcBytes, c.DstBytes, c.SrcPackets, c.DstPackets = 0, 0, 0, 0
	c.QType, c.RCode, c.TTLs = "", "", nil
	c.Method, c.Referrer, c.StatusCode, c.TLSVersion = "", "", 0, ""
	c.NotBefore, c.NotAfter = time.Time{}, time.Time{}
	c.MIMEType, c.FileSize, c.Signature, c.Label, c.DetailedLabel = "", 0, "", "", ""
	return c
}

// TestMatchOnlyOnRealLogs: with Needs.MatchOnly the reader gives, on the
// real WRCCDC and Stratosphere logs, exactly the events of a full decode
// with the statistics it may skip left zero, and no other difference.
func TestMatchOnlyOnRealLogs(t *testing.T) {
	dir := sharedZeek(t)
	for _, name := range []string{"wrccdc-2018/dns.log.gz", "wrccdc-2018/ssl.log.gz", "wrccdc-2018/x509.log.gz",
		"wrccdc-2018/weird.log.gz", "stratosphere/008-zeek-mixed/data/conn.log.labeled",
		"stratosphere/009-zeek-malicious/data/files.log.labeled", "stratosphere/001-zeek-scenario-malicious/conn.log"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			full, badFull := readAll(t, path, zeek.TSV{})
			lean, badLean := readAll(t, path, zeek.TSV{Needs: telemetry.Needs{MatchOnly: true}})
			if len(full) < 100 || len(lean) != len(full) || badLean != badFull {
				t.Fatalf("%d events (%d bad) lean, %d (%d bad) full", len(lean), badLean, len(full), badFull)
			}
			skipped := 0
			for i := range full {
				want := withoutUnmatched(full[i])
				if !reflect.DeepEqual(want, full[i]) {
					skipped++
				}
				if !reflect.DeepEqual(lean[i], want) {
					t.Fatalf("event %d (line %d):\nlean %+v\nwant %+v", i, full[i].Line, lean[i], want)
				}
			}
			if skipped == 0 {
				t.Errorf("no event had a field to skip: the test proves nothing here")
			}
		})
	}
}
