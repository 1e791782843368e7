package obsindex_test

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/obsindex"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// FuzzCollector feeds arbitrary field values (as a reader could deliver
// them from hostile traffic) to a collector: it never panics, every
// observation it keeps turns back into an event (Observation.Event), and
// indexing that event again gives the same key, so a retro-hunt probes
// the value the matcher would have seen.
func FuzzCollector(f *testing.F) {
	f.Add("www.Example.COM.", "example.com:8080", "/a?b=1", "[2001:db8::1]:443", "Name <Bob@Example.org>", "192.0.2.1", uint8(2))
	f.Add("xn--bcher-kva.example", "http://evil.test/x", "http://evil.test/x", "evil.test", "a@b", "10.0.0.1 10.0.0.2", uint8(3))
	f.Add("", "1.2.3.4", "", "*.wild.example", "<>", "::ffff:1.2.3.4", uint8(1))
	f.Fuzz(func(t *testing.T, query, host, uri, sni, mail, answers string, kind uint8) {
		ev := &telemetry.Event{Kind: telemetry.Kind(kind % 12), Time: time.Unix(1521911906, 0), File: "f", Line: 1,
			SrcIP: netip.MustParseAddr("10.0.0.5"), Query: query, Host: host, URI: uri, SNI: sni, MailFrom: mail,
			Answers: strings.Fields(answers), CertSANs: []string{sni}, JA3: query, MD5: host}
		c := obsindex.NewCollector()
		c.Observe(ev)
		for _, o := range c.Flush() {
			probe, ok := o.Event(&o.Records[0])
			if !ok {
				t.Fatalf("observation %+v does not turn back into an event", o)
			}
			again := obsindex.NewCollector()
			again.Observe(probe)
			found := false
			for _, p := range again.Flush() {
				found = found || p.Key() == o.Key()
			}
			if !found {
				t.Errorf("%+v: its probe event does not index it again", o.Key())
			}
		}
	})
}

// FuzzDecodeRecords: stored bytes, however damaged, give records or an
// error wrapping ErrBadRecords, never a panic; what decodes encodes back
// to the same bytes.
func FuzzDecodeRecords(f *testing.F) {
	recs := []obsindex.Record{{Source: "s", File: "f", Line: 3, Offset: 120, Time: time.Unix(1521911906, 5).UTC(),
		SrcIP: netip.MustParseAddr("10.0.0.5"), DstIP: netip.MustParseAddr("2001:db8::1"), SrcPort: 5353, DstPort: 53}, {Source: "s", File: "f"}}
	ids := func(obsindex.SourceKey) uint64 { return 1 }
	f.Add(obsindex.AppendRecords(nil, recs, ids))
	f.Add(obsindex.AppendRecords(nil, nil, ids))
	f.Add([]byte{1, 1, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := obsindex.DecodeRecords(b, func(id uint64) (obsindex.SourceKey, bool) {
			return obsindex.SourceKey{Source: "s", File: "f"}, id == 1
		})
		if err != nil {
			if !errors.Is(err, obsindex.ErrBadRecords) {
				t.Fatalf("error %v does not wrap ErrBadRecords", err)
			}
			return
		}
		if again := obsindex.AppendRecords(nil, got, ids); !bytes.Equal(again, b) && canonical(b) {
			t.Errorf("decoded %+v encodes to %x, read from %x", got, again, b)
		}
	})
}

// canonical reports whether b could be AppendRecords' own output: varints
// have no redundant bytes (the decoder accepts those too).
func canonical(b []byte) bool {
	for i := 1; i < len(b); i++ {
		if b[i] == 0x80 || b[i-1]&0x80 != 0 && b[i] == 0 {
			return false
		}
	}
	return true
}

// FuzzFirstPorts: what FirstPorts reads of any bytes agrees with
// DecodeRecords: the first record's ports when those decode, and an
// ErrBadRecords error, never a panic, otherwise.
func FuzzFirstPorts(f *testing.F) {
	recs := []obsindex.Record{{Source: "s", File: "f", Line: 3, Offset: 120, Time: time.Unix(1521911906, 5).UTC(),
		SrcIP: netip.MustParseAddr("10.0.0.5"), DstIP: netip.MustParseAddr("2001:db8::1"), SrcPort: 5353, DstPort: 53}}
	f.Add(obsindex.AppendRecords(nil, recs, func(obsindex.SourceKey) uint64 { return 1 }))
	f.Add(obsindex.AppendRecords(nil, nil, func(obsindex.SourceKey) uint64 { return 1 }))
	f.Add([]byte{1, 1, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		src, dst, err := obsindex.FirstPorts(b)
		if err != nil && !errors.Is(err, obsindex.ErrBadRecords) {
			t.Fatalf("error %v does not wrap ErrBadRecords", err)
		}
		all, derr := obsindex.DecodeRecords(b, func(uint64) (obsindex.SourceKey, bool) { return obsindex.SourceKey{}, true })
		if derr != nil {
			return // FirstPorts reads less, and may accept what follows the first record
		}
		if err != nil {
			t.Fatalf("FirstPorts refused %x (%v), which DecodeRecords reads", b, err)
		}
		if len(all) > 0 && (all[0].SrcPort != src || all[0].DstPort != dst) {
			t.Errorf("first ports %d/%d, DecodeRecords says %d/%d", src, dst, all[0].SrcPort, all[0].DstPort)
		}
	})
}
