package match_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// seqPatterns is a stand-in pattern evaluator for patterns written
// "A THEN B": it fires when a DNS query for A is followed, on the same
// stream, by one for B; "COUNT A" fires at Flush when A was queried twice.
// Anything else is rejected.
type seqPatterns struct{}

type seqRule struct {
	id, a, b string
	count    bool
}

type seqSet struct{ rules []seqRule }

func (seqPatterns) CompilePatterns(objs []*intel.Object) (match.PatternSet, map[string]error, error) {
	set := &seqSet{}
	rejected := map[string]error{}
	for _, o := range objs {
		p := o.Indicator.Pattern
		switch {
		case strings.Contains(p, " THEN "):
			ab := strings.SplitN(p, " THEN ", 2)
			set.rules = append(set.rules, seqRule{id: o.ID, a: ab[0], b: ab[1]})
		case strings.HasPrefix(p, "COUNT "):
			set.rules = append(set.rules, seqRule{id: o.ID, a: strings.TrimPrefix(p, "COUNT "), count: true})
		default:
			rejected[o.ID] = errors.New("unsupported")
		}
	}
	return set, rejected, nil
}

// NewGroup: the stand-in's streams remember events each on their own.
func (s *seqSet) NewGroup() match.PatternGroup { return s }

func (s *seqSet) NewStream() match.PatternStream {
	return &seqStream{set: s, seenA: map[string]bool{}, counts: map[string]int{}, last: map[string]*telemetry.Event{}}
}

type seqStream struct {
	set    *seqSet
	seenA  map[string]bool
	counts map[string]int
	last   map[string]*telemetry.Event
}

func (st *seqStream) Observe(ev *telemetry.Event, hit func(match.PatternHit)) {
	for _, r := range st.set.rules {
		if r.count {
			if ev.Query == r.a {
				st.counts[r.id]++
				st.last[r.id] = ev.Clone()
			}
			continue
		}
		if ev.Query == r.b && st.seenA[r.id] {
			hit(match.PatternHit{IndicatorID: r.id, Field: "domain-name:value", Value: ev.Query})
		}
		if ev.Query == r.a {
			st.seenA[r.id] = true
		}
	}
}

func (st *seqStream) Flush(hit func(match.PatternHit)) {
	for _, r := range st.set.rules {
		if r.count && st.counts[r.id] >= 2 {
			hit(match.PatternHit{IndicatorID: r.id, Field: "count", Value: r.a, Event: st.last[r.id]})
		}
	}
}

func patternInd(id, pattern string) *intel.Object {
	return &intel.Object{ID: id, Type: intel.TypeIndicator, Indicator: &intel.IndicatorSpec{PatternType: "stix", Pattern: pattern}}
}

func TestMatcherRunsPatterns(t *testing.T) {
	old := patternInd("seq-window", "a.example THEN b.example")
	old.Indicator.ValidUntil = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	objs := []*intel.Object{
		patternInd("seq", "a.example THEN b.example"),
		patternInd("count", "COUNT c.example"),
		patternInd("bad", "[this is not supported]"),
		old,
		ind("plain", ob(intel.Domain, "b.example")),
	}
	s := mustCompile(t, objs, match.Options{Patterns: seqPatterns{}})
	st := s.Stats()
	if st.Patterns != 3 || st.Skipped["pattern-rejected"] != 1 || len(st.Rejected) != 1 || !strings.HasPrefix(st.Rejected[0], "bad:") {
		t.Fatalf("stats: %+v", st)
	}
	m := s.NewMatcher()
	type got struct{ ID, Indicator, Field, Value, File string }
	var hits []got
	emit := func(sg *match.Sighting) {
		hits = append(hits, got{sg.IndicatorID, sg.Indicator, sg.Field, sg.Value, fmt.Sprintf("%s:%d", sg.File, sg.Line)})
	}
	t2021 := time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)
	for i, q := range []string{"c.example", "a.example", "x.example", "b.example", "c.example"} {
		m.Match(&telemetry.Event{Kind: telemetry.KindDNS, Time: t2021, Query: q, File: "dns.log", Line: int64(i + 1)}, emit)
	}
	m.Flush(emit)
	want := []got{
		{"plain", "b.example", "dns.query", "b.example", "dns.log:4"},
		{"seq", "a.example THEN b.example", "domain-name:value", "b.example", "dns.log:4"},
		{"count", "COUNT c.example", "count", "c.example", "dns.log:5"},
	}
	if diff := cmp.Diff(want, hits); diff != "" {
		t.Errorf("sightings (-want +got):\n%s", diff)
	}
	// without an evaluator the pattern indicators are only counted
	s2 := mustCompile(t, objs, match.Options{})
	if s2.Stats().Skipped["needs-pattern-evaluator"] != 4 {
		t.Errorf("stats without evaluator: %+v", s2.Stats())
	}
}
