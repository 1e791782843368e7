package patternmatch_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/patternmatch"
	"github.com/whodunit-project/whodunit/internal/scan"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/formats"
)

// TestPatternAcrossChunksAndWorkers scans a real Zeek dns.log (Stratosphere
// 005: a host resolving Microsoft's connectivity check, then hundreds of
// DGA names) cut into 4 KiB chunks with one to four workers. The two events
// of a FOLLOWEDBY pattern lie 140 KB apart, in chunks that different
// workers may read; the match is found whatever the split.
func TestPatternAcrossChunksAndWorkers(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "data", "telemetry", "zeek", "stratosphere", "005-zeek-scenario-malicious", "dns.log")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	inds := []*intel.Object{
		// line 9 (13.18 s), then line 900 (350.95 s)
		{ID: "indicator--seq", Type: intel.TypeIndicator, Indicator: &intel.IndicatorSpec{PatternType: "stix",
			Pattern: "([domain-name:value = 'dns.msftncsi.com'] FOLLOWEDBY [domain-name:value = 'puzybep.com']) WITHIN 400 SECONDS"}},
		// the same pair too far apart in time: never
		{ID: "indicator--too-far", Type: intel.TypeIndicator, Indicator: &intel.IndicatorSpec{PatternType: "stix",
			Pattern: "([domain-name:value = 'dns.msftncsi.com'] FOLLOWEDBY [domain-name:value = 'puzybep.com']) WITHIN 60 SECONDS"}},
	}
	snap, err := match.Compile(inds, match.Options{Patterns: patternmatch.Compiler{}})
	if err != nil {
		t.Fatal(err)
	}
	// two workers' matchers of one group: the first event to one, the
	// second to the other
	var first, second *telemetry.Event
	_, err = scan.Run(context.Background(), scan.Config{Paths: []string{path}, Registry: formats.Default(formats.Options{}), Workers: 1,
		OnEvent: func(ev *telemetry.Event) {
			switch ev.Line {
			case 9:
				first = ev.Clone()
			case 900:
				second = ev.Clone()
			}
		}})
	if err != nil || first == nil || second == nil {
		t.Fatalf("reading lines 9 and 900: %v", err)
	}
	var got []match.Sighting
	collect := func(s *match.Sighting) { got = append(got, s.Clone()) }
	g := snap.NewMatcherGroup()
	a, b := g.NewMatcher(), g.NewMatcher()
	a.Match(first, collect)
	b.Match(second, collect)
	if len(got) != 1 || got[0].IndicatorID != "indicator--seq" || got[0].Line != 900 {
		t.Fatalf("two matchers of one group: %+v, want indicator--seq at line 900", got)
	}
	// matchers of separate groups remember separately
	got = nil
	snap.NewMatcher().Match(first, collect)
	snap.NewMatcher().Match(second, collect)
	if len(got) != 0 {
		t.Fatalf("separate groups: %+v, want none", got)
	}

	// the whole scan, whichever worker reads which chunk
	for _, workers := range []int{1, 2, 3, 4} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			var got []match.Sighting
			sum, err := scan.Run(context.Background(), scan.Config{Paths: []string{path}, Registry: formats.Default(formats.Options{}),
				Snapshot: snap, Workers: workers, ChunkSize: 4096, OnSighting: func(s match.Sighting) { got = append(got, s) }})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Events != 992 {
				t.Errorf("%d events, want 992", sum.Events)
			}
			if len(got) == 0 {
				t.Fatal("no sighting of the FOLLOWEDBY pattern")
			}
			for _, s := range got {
				if s.IndicatorID != "indicator--seq" {
					t.Errorf("sighting of %s", s.IndicatorID)
				}
			}
			// In file order, the binding completes once, at line 900. With
			// several workers chunks may be matched out of order, and a
			// binding can complete on its earlier event or complete twice.
			if workers == 1 && (len(got) != 1 || got[0].Line != 900 || got[0].Value != "puzybep.com") {
				t.Errorf("one worker: %+v, want one sighting at line 900", got)
			}
		})
	}
}

// TestLongPatternSightingsBounded: a sighting of a 30 KB pattern carries
// an excerpt, not the pattern: the audit's 200,000 such sightings made a
// 6.7 GB database. The indicator id still names the whole.
func TestLongPatternSightingsBounded(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "data", "telemetry", "zeek", "stratosphere", "005-zeek-scenario-malicious", "dns.log")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	pattern := "[domain-name:value = 'puzybep.com'"
	for i := 0; len(pattern) < 30000; i++ {
		pattern += fmt.Sprintf(" OR domain-name:value = 'never-seen-%05d.example'", i)
	}
	pattern += "]"
	inds := []*intel.Object{{ID: "indicator--long", Type: intel.TypeIndicator,
		Indicator: &intel.IndicatorSpec{PatternType: "stix", Pattern: pattern}}}
	snap, err := match.Compile(inds, match.Options{Patterns: patternmatch.Compiler{}})
	if err != nil {
		t.Fatal(err)
	}
	var got []match.Sighting
	_, err = scan.Run(context.Background(), scan.Config{Paths: []string{path}, Registry: formats.Default(formats.Options{}),
		Snapshot: snap, Workers: 1, OnSighting: func(s match.Sighting) { got = append(got, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatal("the pattern matched nothing; the test checks nothing")
	}
	for _, s := range got {
		if s.IndicatorID != "indicator--long" || len(s.Indicator) > match.MaxPatternExcerpt+len("…") || s.Indicator != pattern[:match.MaxPatternExcerpt]+"…" {
			t.Fatalf("sighting carries %d bytes of the pattern (want an excerpt of %d): %.80q", len(s.Indicator), match.MaxPatternExcerpt, s.Indicator)
		}
	}
}
