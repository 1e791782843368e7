package match_test

import (
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/zeek"
)

// eachEvent calls fn for the first n events of a real Zeek log read with
// needs (n < 0: all).
func eachEvent(t *testing.T, path string, needs telemetry.Needs, n int, fn func(*telemetry.Event)) {
	t.Helper()
	in, err := fileio.Open(path, fileio.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	rd, err := zeek.TSV{Needs: needs}.Open(in.R, path)
	if err != nil {
		t.Fatal(err)
	}
	var ev telemetry.Event
	for i := 0; n < 0 || i < n; i++ {
		err := rd.Next(&ev)
		if err == io.EOF {
			return
		}
		if telemetry.IsRecordError(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		fn(&ev)
	}
}

// indicatorOf is a one-observable indicator of a value seen in real traffic.
func indicatorOf(t *testing.T, vt intel.ValueType, raw string) *intel.Object {
	// raw shares the reader's buffer, valid only until its next event
	v, err := intel.Normalize(vt, strings.Clone(raw))
	if err != nil {
		t.Fatalf("%s %q: %v", vt, raw, err)
	}
	return &intel.Object{ID: intel.DeriveID(intel.TypeIndicator, string(vt), v), Type: intel.TypeIndicator, Confidence: -1,
		Indicator: &intel.IndicatorSpec{PatternType: "zeek-intel", Observables: []intel.Observable{{Type: vt, Value: v}}}}
}

// realIndicatorSets builds indicator sets of one family each from values
// of the real WRCCDC logs, so that every set has hits there.
func realIndicatorSets(t *testing.T, dir string) map[string][]*intel.Object {
	sets := map[string][]*intel.Object{}
	i := 0
	eachEvent(t, filepath.Join(dir, "dns.log.gz"), telemetry.Needs{}, 50_000, func(ev *telemetry.Event) {
		i++
		if i%97 == 0 && ev.Query != "" {
			sets["domains"] = append(sets["domains"], indicatorOf(t, intel.Domain, ev.Query))
		}
		if i%89 == 0 && ev.DstIP.Is4() {
			sets["addresses"] = append(sets["addresses"], indicatorOf(t, intel.IPv4, ev.DstIP.String()))
		}
		if i == 5000 && ev.SrcIP.Is4() {
			p := netip.PrefixFrom(ev.SrcIP, 24).Masked()
			sets["addresses"] = append(sets["addresses"], indicatorOf(t, intel.CIDR, p.String()))
		}
	})
	i = 0
	eachEvent(t, filepath.Join(dir, "ssl.log.gz"), telemetry.Needs{}, -1, func(ev *telemetry.Event) {
		i++
		if i%53 == 0 && len(ev.CertChain) > 0 {
			vt := intel.X509SHA256
			if len(ev.CertChain[0]) == 40 {
				vt = intel.X509SHA1
			}
			sets["certs"] = append(sets["certs"], indicatorOf(t, vt, ev.CertChain[0]))
		}
	})
	eachEvent(t, filepath.Join(dir, "smtp.log.gz"), telemetry.Needs{}, -1, func(ev *telemetry.Event) {
		if ev.MailFrom != "" && len(sets["mail"]) < 20 {
			sets["mail"] = append(sets["mail"], indicatorOf(t, intel.Email, ev.MailFrom))
		}
	})
	for name, s := range sets {
		if len(s) < 5 {
			t.Fatalf("only %d indicators for the %s set", len(s), name)
		}
	}
	sets["apt1"] = apt1Objects(t)
	return sets
}

// TestUnreadKeepsSightings: a reader told to skip what Snapshot.Unread
// names gives, on real logs, exactly the sightings of a full decode, for
// indicator sets of each family taken from the same traffic.
func TestUnreadKeepsSightings(t *testing.T) {
	dir := needShared(t, "telemetry", "zeek", "wrccdc-2018")
	for name, objs := range realIndicatorSets(t, dir) {
		t.Run(name, func(t *testing.T) {
			snap, err := match.Compile(objs, match.Options{})
			if err != nil {
				t.Fatal(err)
			}
			skip := snap.Unread()
			if skip == 0 {
				t.Fatalf("a %s-only snapshot skips nothing", name)
			}
			total := 0
			for _, log := range []string{"dns.log.gz", "ssl.log.gz", "x509.log.gz", "smtp.log.gz", "files.log.gz"} {
				path := filepath.Join(dir, log)
				if log == "files.log.gz" {
					path = filepath.Join(sharedData, "telemetry", "zeek", "stratosphere", "009-zeek-malicious", "data", "files.log.labeled")
				}
				full := sightingsOf(t, snap, path, telemetry.Needs{})
				lean := sightingsOf(t, snap, path, telemetry.Needs{MatchOnly: true, Skip: skip})
				if len(lean) != len(full) {
					t.Fatalf("%s: %d sightings with skip %b, %d with a full decode", log, len(lean), skip, len(full))
				}
				for i := range full {
					if lean[i] != full[i] {
						t.Fatalf("%s: sighting %d:\nskip %s\nfull %s", log, i, lean[i], full[i])
					}
				}
				total += len(full)
			}
			t.Logf("%s: %d sightings, skip %b", name, total, skip)
			if total == 0 && name != "apt1" {
				t.Errorf("no sighting of the %s set: the test proves nothing", name)
			}
		})
	}
}

func sightingsOf(t *testing.T, snap *match.Snapshot, path string, needs telemetry.Needs) []string {
	var out []string
	eachEvent(t, path, needs, 100_000, func(ev *telemetry.Event) {
		snap.Match(ev, func(sg *match.Sighting) { out = append(out, fmt.Sprintf("%+v", *sg)) })
	})
	return out
}
