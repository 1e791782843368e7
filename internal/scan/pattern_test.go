package scan_test

import (
	"testing"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/scan"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// lastQuery is a pattern evaluator stand-in that, at the end of the input,
// reports the last event whose DNS query equals the pattern.
type lastQuery struct{}

type lastSet struct{ rules map[string]string } // id → query

type lastStream struct {
	set  *lastSet
	last map[string]*telemetry.Event
}

func (lastQuery) CompilePatterns(objs []*intel.Object) (match.PatternSet, map[string]error, error) {
	s := &lastSet{rules: map[string]string{}}
	for _, o := range objs {
		s.rules[o.ID] = o.Indicator.Pattern
	}
	return s, nil, nil
}

// NewGroup: the stand-in's streams remember events each on their own.
func (s *lastSet) NewGroup() match.PatternGroup { return s }

func (s *lastSet) NewStream() match.PatternStream {
	return &lastStream{set: s, last: map[string]*telemetry.Event{}}
}

func (st *lastStream) Observe(ev *telemetry.Event, _ func(match.PatternHit)) {
	for id, q := range st.set.rules {
		if ev.Query == q {
			st.last[id] = ev.Clone()
		}
	}
}

func (st *lastStream) Flush(hit func(match.PatternHit)) {
	for id, ev := range st.last {
		hit(match.PatternHit{IndicatorID: id, Field: "domain-name:value", Value: ev.Query, Event: ev})
	}
}

func TestEndOfInputPatternSightingsAreCounted(t *testing.T) {
	data, _ := mixedLog(100)
	p := writeFile(t, t.TempDir(), "dns.log", data)
	snap, err := match.Compile([]*intel.Object{{ID: "p1", Type: intel.TypeIndicator,
		Indicator: &intel.IndicatorSpec{PatternType: "stix", Pattern: "q20.host4.example"}}}, match.Options{Patterns: lastQuery{}})
	if err != nil {
		t.Fatal(err)
	}
	sum, _, sgs := runCollect(t, scan.Config{Paths: []string{p}, Snapshot: snap, Workers: 2})
	if len(sgs) != 1 || sgs[0].Line != 20 || sgs[0].File != p || sgs[0].Indicator != "q20.host4.example" {
		t.Fatalf("sightings: %+v", sgs)
	}
	if sum.Sightings != 1 || sum.Files[0].Sightings != 1 {
		t.Errorf("summary counts %d (file %d), want 1", sum.Sightings, sum.Files[0].Sightings)
	}
}
