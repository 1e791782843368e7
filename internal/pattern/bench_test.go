package pattern

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// benchEvents is the number of events one benchmark iteration feeds:
// WHODUNIT_BENCH_EVENTS, default 200,000 so a CI run stays cheap.
func benchEvents() int {
	if v, err := strconv.Atoi(os.Getenv("WHODUNIT_BENCH_EVENTS")); err == nil && v > 0 {
		return v
	}
	return 200_000
}

func benchIP(i int) string { return fmt.Sprintf("198.%d.%d.%d", 18+i/65536%2, i/256%256, i%256) }

// benchPatterns returns n non-trivial patterns: compound comparisons,
// FOLLOWEDBY with WITHIN, REPEATS, certificate issuer+serial, file hashes,
// and a few unanchored LIKE / MATCHES / ISSUBSET ones.
func benchPatterns(n int, simpleOnly bool) []string {
	out := make([]string, 0, n)
	for i := 0; len(out) < n; i++ {
		ip := benchIP(i)
		if simpleOnly {
			out = append(out, fmt.Sprintf("[network-traffic:dst_ref.value = '%s' AND network-traffic:dst_port = %d]", ip, 443+i%3))
			continue
		}
		switch i % 20 {
		case 0, 1, 2, 3, 4, 5:
			out = append(out, fmt.Sprintf("[network-traffic:dst_ref.value = '%s' AND network-traffic:dst_port = %d]", ip, 443+i%3))
		case 6, 7, 8, 9:
			out = append(out, fmt.Sprintf("([domain-name:value = 'c2-%d.example'] FOLLOWEDBY [network-traffic:dst_ref.value = '%s']) WITHIN 300 SECONDS", i, ip))
		case 10, 11, 12:
			out = append(out, fmt.Sprintf("[network-traffic:dst_ref.value = '%s' AND network-traffic:dst_port = 22] REPEATS 5 TIMES WITHIN 60 SECONDS", ip))
		case 13, 14:
			out = append(out, fmt.Sprintf("[x509-certificate:issuer = 'CN=Bench CA %d' AND x509-certificate:serial_number = '%s']", i, colonSerial(i)))
		case 15, 16:
			out = append(out, fmt.Sprintf("[file:hashes.'SHA-256' = '%064x' AND file:size > 1000]", i))
		case 17:
			out = append(out, fmt.Sprintf("[domain-name:value = 'c2-%d.example' AND domain-name:resolves_to_refs[*].value ISSUBSET '203.0.113.0/24'] AND [network-traffic:dst_port = %d]", i, 1024+i%1000))
		case 18:
			out = append(out, fmt.Sprintf("[url:value = 'http://c2-%d.example/gate.php'] OR [network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'Bench/%d']", i, i))
		case 19:
			// one in 100 patterns has no equality to index on
			switch i / 20 % 5 {
			case 0:
				out = append(out, fmt.Sprintf("[domain-name:value LIKE '%%.bad%d.example']", i))
			case 1:
				out = append(out, fmt.Sprintf("[network-traffic:dst_ref.value ISSUBSET '203.0.%d.0/24' AND network-traffic:dst_port > 8000]", i%256))
			default:
				out = append(out, fmt.Sprintf("[domain-name:value = 'c2-%d.example'] REPEATS 3 TIMES", i))
			}
		}
	}
	return out
}

func colonSerial(i int) string {
	return fmt.Sprintf("0b:%02x:%02x:%02x", i>>16&0xff, i>>8&0xff, i&0xff)
}

// benchEventPool builds synthetic events: connections, DNS with answers,
// HTTP and TLS, a small share of them carrying indicator values.
func benchEventPool(n int) []telemetry.Event {
	r := rand.New(rand.NewPCG(1, 2))
	pool := make([]telemetry.Event, n)
	for i := range pool {
		ev := &pool[i]
		ev.File, ev.Line = "bench.log", int64(i+1)
		ev.SrcIP = netip.AddrFrom4([4]byte{10, 0, byte(r.IntN(256)), byte(r.IntN(256))})
		hit := r.IntN(100) < 2
		dst := netip.AddrFrom4([4]byte{byte(1 + r.IntN(200)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
		k := r.IntN(10000)
		if hit {
			dst = netip.MustParseAddr(benchIP(k))
		}
		ev.DstIP, ev.SrcPort, ev.Proto = dst, uint16(1024+r.IntN(60000)), "tcp"
		switch x := r.IntN(10); {
		case x < 5:
			ev.Kind, ev.DstPort = telemetry.KindConn, []uint16{443, 80, 22, 444, 445}[r.IntN(5)]
			ev.SrcBytes, ev.DstBytes = int64(r.IntN(5000)), int64(r.IntN(50000))
		case x < 8:
			ev.Kind, ev.DstPort, ev.Proto = telemetry.KindDNS, 53, "udp"
			if hit {
				ev.Query = fmt.Sprintf("c2-%d.example", k)
			} else {
				ev.Query = fmt.Sprintf("host%d.example.org", r.IntN(100000))
			}
			ev.Answers = []string{fmt.Sprintf("203.0.%d.%d", r.IntN(256), r.IntN(256))}
		case x < 9:
			ev.Kind, ev.DstPort = telemetry.KindHTTP, 80
			ev.Method, ev.Host, ev.URI = "GET", fmt.Sprintf("site%d.example", r.IntN(1000)), "/index.html"
			ev.UserAgent = "Mozilla/5.0"
		default:
			ev.Kind, ev.DstPort = telemetry.KindTLS, 443
			ev.SNI = fmt.Sprintf("site%d.example", r.IntN(1000))
			ev.CertIssuer = fmt.Sprintf("CN=Bench CA %d", k)
			ev.CertSerial = fmt.Sprintf("b%06x", k)
			if !hit {
				ev.CertIssuer = "CN=Let's Encrypt R3"
			}
		}
	}
	return pool
}

func benchIndex(b *testing.B, srcs []string) *Index {
	rules := make([]Rule, len(srcs))
	for i, src := range srcs {
		p, err := Parse(src)
		if err != nil {
			b.Fatalf("%s: %v", src, err)
		}
		prog, err := Compile(p)
		if err != nil {
			b.Fatalf("%s: %v", src, err)
		}
		rules[i] = Rule{ID: strconv.Itoa(i), Program: prog}
	}
	ix, err := NewIndex(rules)
	if err != nil {
		b.Fatal(err)
	}
	return ix
}

// BenchmarkStream10kPatterns1MEvents feeds WHODUNIT_BENCH_EVENTS events
// (set it to 1000000 for the figure in the README) to 10,000 compiled
// patterns and reports events/s and the peak heap. "simple" loads 10,000
// single-observation patterns only, "mixed" 10,000 patterns of every shape,
// "simple+mixed" both: simple rules must not slow down when complex ones
// are loaded beside them.
func BenchmarkStream10kPatterns1MEvents(b *testing.B) {
	nEvents := benchEvents()
	pool := benchEventPool(min(nEvents, 1<<16))
	sets := []struct {
		name string
		srcs []string
	}{
		{"simple", benchPatterns(10000, true)},
		{"mixed", benchPatterns(10000, false)},
		{"simple+mixed", append(benchPatterns(10000, true), benchPatterns(10000, false)...)},
	}
	for _, set := range sets {
		b.Run(set.name, func(b *testing.B) {
			ix := benchIndex(b, set.srcs)
			var peak uint64
			var ms runtime.MemStats
			matches := 0
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			cpu0 := cpuTime()
			for it := 0; it < b.N; it++ {
				s := ix.NewStream(StreamOptions{})
				base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
				for i := 0; i < nEvents; i++ {
					ev := &pool[i%len(pool)]
					ev.Time = base.Add(time.Duration(i) * 10 * time.Millisecond)
					matches += len(s.Feed(ev))
					if i%(1<<17) == 0 {
						runtime.ReadMemStats(&ms)
						peak = max(peak, ms.HeapInuse)
					}
				}
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
			el := time.Since(start)
			b.ReportMetric(float64(nEvents*b.N)/el.Seconds(), "events/s")
			// events per second of CPU time: what one core sustains, robust
			// to other load on the machine
			b.ReportMetric(float64(nEvents*b.N)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(matches)/float64(b.N), "matches")
		})
	}
}

// cpuTime is the user+system CPU time of the process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
