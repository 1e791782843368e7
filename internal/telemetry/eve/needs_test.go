package eve_test

import (
	"bytes"
	"os"
	"reflect"
	"testing"

	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/eve"
	"github.com/whodunit-project/whodunit/internal/telemetry/readertest"
)

// withoutUnmatched is ev with what MatchOnly leaves undecoded set to zero.
func withoutUnmatched(ev *telemetry.Event) *telemetry.Event {
	c := ev.Clone()
	c.Proto, c.Service, c.Duration, c.ConnState = "", "", 0, ""
	c.SrcBytes, c.DstBytes, c.SrcPackets, c.DstPackets = 0, 0, 0, 0
	c.Signature, c.SignatureID, c.Severity = "", 0, 0
	return c
}

// TestMatchOnly: with Needs.MatchOnly the reader gives every record of the
// fixture (all event types, good and bad) as a full decode does, with only
// the skipped fields zero, and the bad records that remain bad.
func TestMatchOnly(t *testing.T) {
	data, err := os.ReadFile("testdata/eve.json")
	if err != nil {
		t.Fatal(err)
	}
	full := readertest.Read(t, eve.Format{}, bytes.NewReader(data), "eve.json")
	lean := readertest.Read(t, eve.Format{Needs: telemetry.Needs{MatchOnly: true}}, bytes.NewReader(data), "eve.json")
	if full.Err != nil || lean.Err != nil {
		t.Fatal(full.Err, lean.Err)
	}
	if len(lean.Events) != len(full.Events) || len(full.Events) < 10 {
		t.Fatalf("%d events lean, %d full", len(lean.Events), len(full.Events))
	}
	changed := 0
	for i, ev := range full.Events {
		want := withoutUnmatched(ev)
		if !reflect.DeepEqual(want, ev) {
			changed++
		}
		if !reflect.DeepEqual(want, lean.Events[i]) {
			t.Errorf("event %d (line %d):\nwant %+v\nlean %+v", i, ev.Line, want, lean.Events[i])
		}
	}
	if changed == 0 {
		t.Error("no event had a field to skip: the test proves nothing")
	}
	// a record bad only in a skipped member is good under MatchOnly
	if len(lean.Bad) > len(full.Bad) {
		t.Errorf("%d bad records lean, %d full", len(lean.Bad), len(full.Bad))
	}
}
