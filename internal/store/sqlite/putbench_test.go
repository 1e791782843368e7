package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

func BenchmarkPutIndicators(b *testing.B) {
	ctx := context.Background()
	n := 100000
	objs := make([]*intel.Object, n)
	for i := range objs {
		v := fmt.Sprintf("host%d.example.com", i)
		ob := intel.Observable{Type: intel.Domain, Value: v}
		objs[i] = &intel.Object{ID: intel.DeriveID("indicator", "domain", v), Type: "indicator", Name: v, Confidence: -1, Modified: time.Unix(0, 0),
			Raw:       []byte(`{"indicator":"` + v + `"}`),
			Indicator: &intel.IndicatorSpec{PatternType: "stix", Pattern: ob.STIXPattern(), Observables: []intel.Observable{ob}}}
	}
	for i := 0; i < b.N; i++ {
		s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "b.db"))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		_, err = s.Import(ctx, intel.Source{Name: "x", SHA256: "y"}, func(sink intel.Sink) error {
			for _, o := range objs {
				if err := sink.Put(ctx, o); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "indicators/s")
		s.Close()
	}
}
