package zeek_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/zeek"
)

// TestJSONLogTypeFromColumns: real Zeek JSON dns records with their _path
// removed, in a file whose name says nothing ("capture.json") or says the
// wrong log ("conn.json"), are still read as dns: every query is there.
func TestJSONLogTypeFromColumns(t *testing.T) {
	path := filepath.Join(sharedZeek(t), "wrccdc-2018", "json", "dns.json.gz")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(io.LimitReader(gz, 4<<20))
	if err != nil {
		t.Fatal(err)
	}
	raw = raw[:bytes.LastIndexByte(raw, '\n')+1]
	stripped := regexp.MustCompile(`"_path":"dns",`).ReplaceAll(raw, nil)
	want := countQueries(t, raw, "dns.json")
	if want == 0 {
		t.Fatal("no dns queries in the sample; the test looks at nothing")
	}
	for _, name := range []string{"capture.json", "conn.json", "host1-ssl.json"} {
		if got := countQueries(t, stripped, name); got != want {
			t.Errorf("%s without _path: %d events with a query, want %d", name, got, want)
		}
	}
}

func countQueries(t *testing.T, data []byte, name string) int {
	t.Helper()
	r, err := zeek.JSON{}.Open(bytes.NewReader(data), name)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var ev telemetry.Event
	for {
		err := r.Next(&ev)
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ev.Kind == telemetry.KindDNS && ev.Query != "" {
			n++
		}
	}
}
