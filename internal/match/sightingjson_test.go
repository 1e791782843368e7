package match_test

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// sameJSON fails unless AppendJSON writes what json.Marshal writes.
func sameJSON(t *testing.T, sg *match.Sighting) {
	t.Helper()
	want, wantErr := json.Marshal(sg)
	got, err := sg.AppendJSON(nil)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("AppendJSON error %v, json.Marshal error %v", err, wantErr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("AppendJSON wrote\n%s\njson.Marshal writes\n%s", got, want)
	}
}

func TestSightingJSONIsJSONMarshal(t *testing.T) {
	full := match.Sighting{IndicatorID: "indicator--8f1c", Snapshot: "v1", Type: intel.Domain, Indicator: "hugesoft.org",
		Field: "dns.query", Value: "a.hugesoft.org", Direction: "", Suppressed: true, Warninglist: "List of known <CDN> & co",
		Retrospective: true, Time: time.Date(2018, 3, 24, 0, 5, 1, 120000000, time.UTC), Kind: telemetry.KindDNS,
		Source: "wrccdc/dns.log", File: "/data/dns.log.gz", Line: 1200, Offset: 99812, UID: "CX1",
		SrcIP: netip.MustParseAddr("10.47.1.5"), DstIP: netip.MustParseAddr("fe80::1%eth0"), SrcPort: 51234, DstPort: 53}
	odd := full
	odd.Value, odd.File, odd.Warninglist = "\x00\b\f\n\r\t\x1f\"\\ \u2028\u2029é\xff\xfe", "日本\x7f", ""
	odd.Time = time.Date(2018, 3, 24, 0, 5, 1, 0, time.FixedZone("x", 3600))
	late := full
	late.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, sg := range []match.Sighting{{}, full, odd, late} {
		sameJSON(t, &sg)
	}
}

func FuzzSightingJSON(f *testing.F) {
	f.Add("indicator--1", "a.hugesoft.org", "dns.log\x00<>&", int64(1522000000), int64(5), uint8(4), true, "fe80::1%x")
	f.Add("", "\u2028\xff", "", int64(-62135596800), int64(0), uint8(0), false, "")
	f.Fuzz(func(t *testing.T, id, value, file string, sec, nsec int64, kind uint8, flag bool, addr string) {
		a, _ := netip.ParseAddr(addr)
		sg := match.Sighting{IndicatorID: id, Value: value, Field: value + id, File: file, Source: file, Time: time.Unix(sec, nsec%1e9).UTC(),
			Kind: telemetry.Kind(kind), Suppressed: flag, Retrospective: !flag, SrcIP: a, Line: sec, Offset: nsec, UID: addr}
		sameJSON(t, &sg)
	})
}
