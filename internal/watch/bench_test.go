package watch_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/watch"
)

// benchRate is the append rate of the latency benchmark (events/s).
const benchRate = 50_000

// benchStream is real WRCCDC DNS records and one injected APT1 record.
func benchStream(b *testing.B) (header string, background []string, hit string) {
	logs, _ := scenarioLogs(b)
	dns := logs["dns"]
	for _, r := range dns.records {
		switch {
		case strings.Contains(r, "hugesoft.org"):
			hit = r
		case strings.Contains(r, "msnhome.org") || strings.Contains(r, "arrowservice.net"):
		default:
			background = append(background, r)
		}
	}
	if hit == "" {
		b.Fatal("no injected record")
	}
	full := readLog(b, filepath.Join(needShared(b, "telemetry", "zeek", "wrccdc-2018"), "dns.log.gz"))
	return dns.head(), append(background, full.records...), hit
}

// alertClock records when each alert's line was reported.
type alertClock struct {
	mu   sync.Mutex
	at   map[int64]time.Time
	seen chan struct{}
}

func (c *alertClock) Write(p []byte) (int, error) {
	now := time.Now()
	c.mu.Lock()
	for _, ln := range bytes.Split(bytes.TrimSuffix(p, []byte("\n")), []byte("\n")) {
		var a struct{ Line int64 }
		if json.Unmarshal(ln, &a) == nil {
			c.at[a.Line] = now
		}
	}
	c.mu.Unlock()
	select {
	case c.seen <- struct{}{}:
	default:
	}
	return len(p), nil
}

// BenchmarkWatchLatency appends real DNS records to a followed log at
// 50,000 events/s, one in every 1,000 an APT1 hit, and measures for each
// of b.N hits the time from its write to its alert: p50, p99 and max,
// with the default poll interval.
func BenchmarkWatchLatency(b *testing.B) {
	header, background, hit := benchStream(b)
	dir := b.TempDir()
	dbPath := filepath.Join(dir, "w.db")
	apt1Store(b, dbPath)
	live := filepath.Join(dir, "live")
	os.Mkdir(live, 0o755)
	path := filepath.Join(live, "dns.log")
	os.WriteFile(path, []byte(header+strings.Join(background[:200], "")), 0o644)
	clock := &alertClock{at: map[int64]time.Time{}, seen: make(chan struct{}, 1)}
	r := startWatchB(b, dbPath, watch.Options{Paths: []string{live}, State: filepath.Join(dir, "state.json"),
		Alerts: clock, NoBehavior: true, Poll: 200 * time.Millisecond})
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	line := int64(strings.Count(header, "\n") + 200)
	written := map[int64]time.Time{}
	const tick = 10 * time.Millisecond
	perTick := benchRate * int(tick) / int(time.Second)
	next, bg := time.Now(), 200
	b.ResetTimer()
	for hits := 0; hits < b.N; {
		var buf strings.Builder
		for i := 0; i < perTick; i++ {
			line++
			if line%1000 == 0 && hits < b.N {
				buf.WriteString(hit)
				hits++
				written[line] = time.Time{}
			} else {
				buf.WriteString(background[bg%len(background)])
				bg++
			}
		}
		if _, err := f.WriteString(buf.String()); err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		for l, t := range written {
			if t.IsZero() {
				written[l] = now
			}
		}
		next = next.Add(tick)
		time.Sleep(time.Until(next))
	}
	deadline := time.Now().Add(time.Minute)
	for {
		clock.mu.Lock()
		missing := 0
		for l := range written {
			if _, ok := clock.at[l]; !ok {
				missing++
			}
		}
		clock.mu.Unlock()
		if missing == 0 || time.Now().After(deadline) {
			break
		}
		select {
		case <-clock.seen:
		case <-time.After(time.Second):
		}
	}
	b.StopTimer()
	r.stopB(b)
	var lat []time.Duration
	for l, t := range written {
		if at, ok := clock.at[l]; ok {
			lat = append(lat, at.Sub(t))
		}
	}
	if len(lat) != len(written) {
		b.Fatalf("%d of %d hits alerted", len(lat), len(written))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Milliseconds()), "max-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkWatchThroughput appends b.N real DNS records at once to a
// followed log and measures how fast the watcher reads, matches and
// checkpoints them (events/s): the rate it can sustain.
func BenchmarkWatchThroughput(b *testing.B) { benchThroughput(b, true) }

// BenchmarkWatchThroughputBehavior is BenchmarkWatchThroughput with the
// behaviour window on (default size and interval, or the interval of
// WHODUNIT_BENCH_WATCH_EVERY), and reports
// the heap in use at the end (the window's events).
func BenchmarkWatchThroughputBehavior(b *testing.B) { benchThroughput(b, false) }

func benchThroughput(b *testing.B, noBehavior bool) {
	header, background, _ := benchStream(b)
	dir := b.TempDir()
	dbPath := filepath.Join(dir, "w.db")
	apt1Store(b, dbPath)
	live := filepath.Join(dir, "live")
	os.Mkdir(live, 0o755)
	path := filepath.Join(live, "dns.log")
	os.WriteFile(path, []byte(header+strings.Join(background[:200], "")), 0o644)
	state := filepath.Join(dir, "state.json")
	r := startWatchB(b, dbPath, watch.Options{Paths: []string{live}, State: state, NoBehavior: noBehavior,
		Poll: 10 * time.Millisecond, Every: benchEvery(b)})
	waitFor(b, "the start", func() bool { return caughtUp(b, state, path) })
	var buf strings.Builder
	for i := 0; i < b.N; i++ {
		buf.WriteString(background[i%len(background)])
	}
	b.ResetTimer()
	start := time.Now()
	appendFile(b, path, buf.String())
	waitFor(b, "the records", func() bool { return caughtUp(b, state, path) })
	took := time.Since(start)
	b.StopTimer()
	if !noBehavior {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
	}
	r.stopB(b)
	b.ReportMetric(float64(b.N)/took.Seconds(), "events/s")
}

// benchEvery is the analytics' interval from WHODUNIT_BENCH_WATCH_EVERY
// (a Go duration); zero, the default minute, without it.
func benchEvery(b *testing.B) time.Duration {
	v := os.Getenv("WHODUNIT_BENCH_WATCH_EVERY")
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		b.Fatalf("WHODUNIT_BENCH_WATCH_EVERY=%q: %v", v, err)
	}
	return d
}
