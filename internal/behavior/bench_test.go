package behavior_test

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkConn10M feeds synthetic conn records (BEHAVIOR_BENCH_EVENTS,
// default 10,000,000) spread over BEHAVIOR_BENCH_PAIRS distinct pairs
// (default 100,000) and one day, then runs Finish. Half the records go
// round-robin (every pair a regular series), half to random pairs. It
// reports events/s (wall clock), events per CPU-second (user + system time
// of the process, including the garbage collector: the honest figure on a
// shared machine) and the peak Go heap in use, sampled every 250,000 records
// and after Finish. Run it once:
//
//	go test ./internal/behavior -run '^$' -bench Conn10M -benchtime 1x
func BenchmarkConn10M(b *testing.B) {
	n := envInt("BEHAVIOR_BENCH_EVENTS", 10_000_000)
	pairs := envInt("BEHAVIOR_BENCH_PAIRS", 100_000)
	srcs := make([]netip.Addr, pairs)
	dsts := make([]netip.Addr, pairs)
	for i := range srcs {
		srcs[i] = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		dsts[i] = netip.AddrFrom4([4]byte{203, byte(i >> 16), byte(i >> 8), byte(i % 251)})
	}
	step := 24 * time.Hour / time.Duration(n)
	var peak uint64
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var findings int
	var elapsed, cpu time.Duration
	for it := 0; it < b.N; it++ {
		rng := rand.New(rand.NewPCG(1, uint64(it)))
		a := behavior.New(behavior.DefaultConfig(), nil)
		ev := telemetry.Event{Kind: telemetry.KindConn, File: "bench/conn.log", Proto: "tcp", DstPort: 443}
		start, cpu0 := time.Now(), cpuTime()
		for i := 0; i < n; i++ {
			p := i % pairs
			if i&1 == 1 {
				p = rng.IntN(pairs)
			}
			ev.Time = t0.Add(time.Duration(i)*step + time.Duration(rng.IntN(1000))*time.Millisecond)
			ev.Line = int64(i + 1)
			ev.SrcIP, ev.DstIP = srcs[p], dsts[p]
			ev.SrcPort = uint16(1024 + i%60000)
			ev.Duration = time.Duration(rng.IntN(2000)) * time.Millisecond
			ev.SrcBytes, ev.DstBytes = int64(200+rng.IntN(100)), int64(500+rng.IntN(5000))
			a.Observe(&ev)
			if i%250_000 == 0 {
				sample()
			}
		}
		findings = len(a.Finish())
		elapsed += time.Since(start)
		cpu += cpuTime() - cpu0
		sample()
	}
	b.StopTimer()
	b.ReportMetric(float64(n)*float64(b.N)/elapsed.Seconds(), "events/s")
	if cpu > 0 {
		b.ReportMetric(float64(n)*float64(b.N)/cpu.Seconds(), "events/cpu-s")
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(findings), "findings")
}
