package obsindex_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/whodunit-project/whodunit/internal/obsindex"
	"github.com/whodunit-project/whodunit/internal/scan"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/formats"
)

// eventRecorder keeps copies of the events a scan reads.
type eventRecorder struct {
	mu  *sync.Mutex
	evs *[]*telemetry.Event
}

func (r eventRecorder) ObserveFrom(ev *telemetry.Event, _ string) {
	r.mu.Lock()
	*r.evs = append(*r.evs, ev.Clone())
	r.mu.Unlock()
}

// BenchmarkCollectorObserve is the per-event cost of the index on real
// events (the WRCCDC dns, ssl and x509 logs, held in memory): the first
// pass meets every value for the first time, later passes only count.
func BenchmarkCollectorObserve(b *testing.B) {
	dir := needShared(b, "telemetry", "zeek", "wrccdc-2018")
	var mu sync.Mutex
	var evs []*telemetry.Event
	paths := []string{filepath.Join(dir, "dns.log.gz"), filepath.Join(dir, "ssl.log.gz"), filepath.Join(dir, "x509.log.gz")}
	if _, err := scan.Run(context.Background(), scan.Config{Paths: paths, Registry: formats.Default(formats.Options{}), Workers: 1,
		NewObserver: func() scan.Observer { return eventRecorder{&mu, &evs} }}); err != nil {
		b.Fatal(err)
	}
	for _, fresh := range []bool{true, false} {
		name := "seen-before"
		if fresh {
			name = "first-sight"
		}
		b.Run(name, func(b *testing.B) {
			c := obsindex.NewCollector()
			for _, ev := range evs {
				c.ObserveFrom(ev, "s")
			}
			b.ReportAllocs()
			b.ResetTimer()
			var cpu float64 // CPU seconds of the timed passes: the machine is shared
			for b.Loop() {
				cpu0 := scan.ProcessCPU()
				if fresh {
					b.StopTimer()
					c = obsindex.NewCollector()
					b.StartTimer()
				}
				for _, ev := range evs {
					c.ObserveFrom(ev, "s")
				}
				cpu += scan.ProcessCPU() - cpu0
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(evs)), "ns/event")
			b.ReportMetric(cpu*1e9/float64(b.N)/float64(len(evs)), "cpu-ns/event")
			b.ReportMetric(float64(len(c.Flush())), "values")
		})
	}
}
