package queue

import (
	"testing"
	"time"
	"unsafe"

	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// A reader rewrites its buffer from one record to the next, and an
// event's strings point into it: what the encoder remembers of the last
// record must be its own copy, or a record reusing the bytes is written
// as the one before.
func TestFeaturesDoNotKeepTheReadersBuffer(t *testing.T) {
	buf := []byte("udp example.org")
	view := func(from, to int) string { return unsafe.String(&buf[from], to-from) }
	at := time.Unix(1522000000, 0).UTC()
	res := &Result{Scan: "ab"}
	ev := telemetry.Event{Kind: telemetry.KindDNS, Time: at, Proto: view(0, 3), Query: view(4, 15)}
	res.AddFeatures(&ev)
	copy(buf, "tcp example.net")
	ev.Time = at.Add(time.Second)
	ev.Proto, ev.Query = view(0, 3), view(4, 15)
	res.AddFeatures(&ev)
	_, got := roundTrip(t, res)
	var seen []string
	if err := got.EachFeature(func(e *telemetry.Event) { seen = append(seen, e.Proto+" "+e.Query) }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[0] != "udp example.org" || seen[1] != "tcp example.net" {
		t.Errorf("decoded %q, want [udp example.org tcp example.net]", seen)
	}
}
