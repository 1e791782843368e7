package match_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/scan/benchgen"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// sampleEvents are background events of every kind the matcher reads,
// none of which matches the generated indicator sets.
func sampleEvents(n int) []*telemetry.Event {
	r := rand.New(rand.NewPCG(7, 7))
	// like benchgen's background: public, even last octet, first octet
	// not ≡ 7 mod 8, so no generated indicator matches
	ip := func() netip.Addr {
		for {
			a := 1 + r.IntN(223)
			if a%8 != 7 && a != 10 && a != 127 {
				return netip.AddrFrom4([4]byte{byte(a), byte(r.IntN(256)), byte(r.IntN(256)), byte(2 + 2*r.IntN(127))})
			}
		}
	}
	internal := func() netip.Addr { return netip.AddrFrom4([4]byte{10, 0, byte(r.IntN(16)), byte(1 + r.IntN(254))}) }
	names := []string{"www.google.com", "api.github.com", "cdn.jsdelivr.net", "login.microsoftonline.com", "update.example.org",
		"static.cloudflare.com", "a.b.c.deep.example.co.uk", "mail.yahoo.co.jp", "img-12.akamaized.net", "xn--bcher-kva.example"}
	hex := func(n int) string {
		const h = "0123456789abcdef"
		b := make([]byte, n)
		for i := range b {
			b[i] = h[r.IntN(16)]
		}
		return string(b)
	}
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	var out []*telemetry.Event
	for i := 0; i < n; i++ {
		ev := &telemetry.Event{Time: t0.Add(time.Duration(i) * time.Millisecond), File: "bench.log", Line: int64(i + 1),
			SrcIP: internal(), DstIP: ip(), SrcPort: uint16(32768 + r.IntN(20000)), DstPort: 443}
		name := names[r.IntN(len(names))]
		switch i % 10 {
		case 0, 1, 2, 3:
			ev.Kind = telemetry.KindConn
		case 4, 5:
			ev.Kind, ev.Query, ev.DstPort = telemetry.KindDNS, name, 53
			ev.Answers = []string{"edge." + name, ip().String()}
		case 6, 7:
			ev.Kind, ev.SNI, ev.JA3, ev.JA3S = telemetry.KindTLS, name, hex(32), hex(32)
			ev.CertSHA256 = hex(64)
			ev.CertChain = []string{ev.CertSHA256, hex(64)}
		case 8:
			ev.Kind, ev.Host, ev.URI, ev.DstPort = telemetry.KindHTTP, name, "/index.html?v=1", 80
			ev.UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36"
		case 9:
			ev.Kind, ev.MD5, ev.SHA1, ev.SHA256 = telemetry.KindFile, hex(32), hex(40), hex(64)
		}
		out = append(out, ev)
	}
	return out
}

var (
	snapOnce sync.Once
	snaps    map[int]*match.Snapshot
)

func benchSnapshot(b *testing.B, n int) *match.Snapshot {
	snapOnce.Do(func() { snaps = map[int]*match.Snapshot{} })
	if s, ok := snaps[n]; ok {
		return s
	}
	s, err := match.Compile(benchgen.Objects(benchgen.Indicators(n, 1)), match.Options{})
	if err != nil {
		b.Fatal(err)
	}
	snaps[n] = s
	return s
}

// BenchmarkMatch reports events/s of Snapshot.Match on background events
// (the no-hit path, as almost all real traffic is).
func BenchmarkMatch(b *testing.B) {
	evs := sampleEvents(1 << 14)
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("indicators=%d", n), func(b *testing.B) {
			s := benchSnapshot(b, n)
			hits := 0
			emit := func(*match.Sighting) { hits++ }
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				s.Match(evs[i&(len(evs)-1)], emit)
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			if hits != 0 {
				b.Fatalf("%d unexpected hits", hits)
			}
		})
	}
}

// BenchmarkCompile1M reports the compile time of 1,000,000 mixed
// indicators and the heap the snapshot keeps (snapshot-MB).
func BenchmarkCompile1M(b *testing.B) {
	objs := benchgen.Objects(benchgen.Indicators(1_000_000, 1))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	var s *match.Snapshot
	for b.Loop() {
		var err error
		if s, err = match.Compile(objs, match.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "snapshot-MB")
	runtime.KeepAlive(s)
	runtime.KeepAlive(objs)
}

func TestNoAllocationWithoutHits(t *testing.T) {
	objs := append(testIndicators(), benchgen.Objects(benchgen.Indicators(5000, 3))...)
	s := mustCompile(t, objs, match.Options{Suppress: listSet{"domain|google.com": "x"}})
	for _, ev := range sampleEvents(200) {
		if ev.Kind == telemetry.KindDNS && strings.HasSuffix(ev.Query, "google.com") {
			ev.Query = "www.example.org" // google.com is an indicator here
		}
		for i, a := range ev.Answers {
			if strings.HasSuffix(a, "google.com") {
				ev.Answers[i] = "edge.example.org"
			}
		}
		if ev.Kind == telemetry.KindTLS && strings.HasSuffix(ev.SNI, "google.com") {
			ev.SNI = "www.example.org"
		}
		if ev.Kind == telemetry.KindHTTP && strings.HasSuffix(ev.Host, "google.com") {
			ev.Host = "www.example.org"
		}
		ev.CertSubject, ev.CertSANs, ev.CertSerial, ev.CertIssuer = "CN=www.example.org,O=Example", []string{"example.org"}, "0ABC", "CN=CA"
		ev.MailFrom, ev.RcptTo = "<a@example.org>", []string{"b@example.net"}
		emit := func(sg *match.Sighting) { t.Fatalf("unexpected hit %+v", sg) }
		if n := testing.AllocsPerRun(50, func() { s.Match(ev, emit) }); n != 0 {
			t.Errorf("%v event: %.1f allocations per Match, want 0", ev.Kind, n)
		}
	}
}

var _ = intel.Domain

// BenchmarkLoadCache reports the time to load a compiled snapshot from
// its cache bytes (already in memory: the file read is the page cache's)
// beside compiling the same indicators, for 100k and 1M mixed indicators.
func BenchmarkLoadCache(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		objs := benchgen.Objects(benchgen.Indicators(n, 1))
		s, err := match.Compile(objs, match.Options{})
		if err != nil {
			b.Fatal(err)
		}
		var key [match.CacheKeyLen]byte
		data := snapshotBytes(b, s, key)
		b.Run(fmt.Sprintf("load/indicators=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				if _, err := match.LoadCache(data, key, match.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			// CPU time leaves out the moments other processes had the core
			b.ReportMetric(float64((processCPU()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(len(data))/1e6, "file-MB")
		})
		b.Run(fmt.Sprintf("compile/indicators=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				if _, err := match.Compile(objs, match.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((processCPU()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
