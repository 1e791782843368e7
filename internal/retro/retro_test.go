package retro_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/obsindex"
	"github.com/whodunit-project/whodunit/internal/retro"
	"github.com/whodunit-project/whodunit/internal/scan"
	"github.com/whodunit-project/whodunit/internal/telemetry/formats"
)

// realQuery indexes the real WRCCDC dns log and returns a queried name
// seen at four distinct times or more, with its observation.
func realQuery(t *testing.T) obsindex.Observation {
	path := filepath.Join("..", "..", "..", "shared", "data", "telemetry", "zeek", "wrccdc-2018", "dns.log.gz")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	c := obsindex.NewCollector()
	if _, err := scan.Run(context.Background(), scan.Config{Paths: []string{path}, Registry: formats.Default(formats.Options{}), Workers: 1,
		NewObserver: func() scan.Observer { return c }}); err != nil {
		t.Fatal(err)
	}
	for _, o := range c.Flush() {
		rs := o.Records
		if o.Field == "dns.query" && len(rs) == obsindex.MaxRecords && rs[0].Time.Before(rs[1].Time) && rs[1].Time.Before(rs[2].Time) && rs[2].Time.Before(rs[3].Time) {
			return o
		}
	}
	t.Fatal("no query seen at four distinct times")
	return obsindex.Observation{}
}

func hunter(t *testing.T, value string, from, until time.Time) *retro.Hunter {
	b := match.NewBuilder(match.Options{})
	b.Add(&intel.Object{ID: "indicator--window", Type: intel.TypeIndicator, Indicator: &intel.IndicatorSpec{PatternType: "plain",
		ValidFrom: from, ValidUntil: until, Observables: []intel.Observable{{Type: intel.Domain, Value: value}}}})
	snap, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return &retro.Hunter{Snap: snap}
}

// A validity window is honoured against the time each record was seen,
// not the time of the hunt: only the cited records inside [from, until)
// give sightings, with their own times and positions.
func TestValidityWindowAgainstTheTimeSeen(t *testing.T) {
	o := realQuery(t)
	rs := o.Records
	out := hunter(t, o.Value, rs[1].Time, rs[3].Time).Probe(&o)
	if len(out.Sightings) != 2 || out.Uncited != 0 {
		t.Fatalf("window [record 1, record 3): %d sightings, %d uncited; want 2, 0", len(out.Sightings), out.Uncited)
	}
	for i, sg := range out.Sightings {
		r := rs[i+1]
		if !sg.Retrospective || !sg.Time.Equal(r.Time) || sg.Line != r.Line || sg.Offset != r.Offset || sg.Source != r.Source || sg.Field != "dns.query" {
			t.Errorf("sighting %d: %+v, want record %+v", i, sg, r)
		}
	}
	// a window that ended before the value was first seen: matched, but
	// no cited record in it, so nothing is claimed
	out = hunter(t, o.Value, time.Time{}, rs[0].Time).Probe(&o)
	if len(out.Sightings) != 0 || out.Uncited != 1 {
		t.Errorf("window before first seen: %d sightings, %d uncited; want 0, 1", len(out.Sightings), out.Uncited)
	}
	// the same indicator with no window: every cited record
	out = hunter(t, o.Value, time.Time{}, time.Time{}).Probe(&o)
	if len(out.Sightings) != obsindex.MaxRecords {
		t.Errorf("no window: %d sightings, want %d", len(out.Sightings), obsindex.MaxRecords)
	}
}

// Run gives the same sightings in the same order whatever the workers.
func TestRunSameForAnyWorkers(t *testing.T) {
	o := realQuery(t)
	h := hunter(t, o.Value, time.Time{}, time.Time{})
	list := make([]obsindex.Observation, 3000)
	for i := range list {
		list[i] = o
	}
	stream := func(fn func(*obsindex.Observation) error) error {
		for i := range list {
			if err := fn(&list[i]); err != nil {
				return err
			}
		}
		return nil
	}
	one, err := retro.Run(context.Background(), h, 1, stream)
	if err != nil {
		t.Fatal(err)
	}
	four, err := retro.Run(context.Background(), h, 4, stream)
	if err != nil {
		t.Fatal(err)
	}
	if one.Probed != 3000 || len(one.Sightings) != 3000*obsindex.MaxRecords || len(four.Sightings) != len(one.Sightings) {
		t.Fatalf("probed %d, %d and %d sightings", one.Probed, len(one.Sightings), len(four.Sightings))
	}
	for i := range one.Sightings {
		if one.Sightings[i].Key() != four.Sightings[i].Key() {
			t.Fatalf("sighting %d differs between 1 and 4 workers", i)
		}
	}
}
