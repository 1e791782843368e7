package webui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/webui"
)

// benchSize reads a WHODUNIT_BENCH_* size.
func benchSize(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		b.Fatalf("%s=%q: want a count", name, v)
	}
	return n
}

// largeStore is the demo's store (its analysis and campaigns) grown by
// WHODUNIT_BENCH_WEBUI_INDICATORS indicators (a domain list, imported as
// `intel import` does; 100,000 by default), WHODUNIT_BENCH_WEBUI_SIGHTINGS
// sightings of them (100,000) and WHODUNIT_BENCH_WEBUI_DETECTIONS
// detections (10,000).
func largeStore(b *testing.B) *env {
	e := newEnv(b, webui.Config{})
	ctx := context.Background()
	ni := benchSize(b, "WHODUNIT_BENCH_WEBUI_INDICATORS", 100_000)
	ns := benchSize(b, "WHODUNIT_BENCH_WEBUI_SIGHTINGS", 100_000)
	nd := benchSize(b, "WHODUNIT_BENCH_WEBUI_DETECTIONS", 10_000)
	var sb strings.Builder
	for i := range ni {
		fmt.Fprintf(&sb, "c2-%d.bench.example\n", i)
	}
	p := filepath.Join(b.TempDir(), "bench-domains.txt")
	if err := os.WriteFile(p, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	if res, err := hunt.Import(ctx, e.db, hunt.ImportOptions{Paths: []string{p}}); err != nil || res[0].Err != nil {
		b.Fatalf("import: %v %+v", err, res)
	}
	batch := make([]match.Sighting, 0, 1000)
	for i := range ns {
		v := fmt.Sprintf("c2-%d.bench.example", i%max(ni, 1))
		batch = append(batch, match.Sighting{IndicatorID: intel.DeriveID("indicator", "domain", v), Type: intel.Domain, Indicator: v,
			Field: "dns.query", Value: v, Time: time.Unix(1_500_000_000+int64(i), 0), File: "bench-dns.log", Line: int64(i),
			SrcIP: netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}), DstIP: netip.MustParseAddr("10.0.0.53"), DstPort: 53})
		if len(batch) == cap(batch) || i == ns-1 {
			if _, err := e.db.PutSightings(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	dets := make([]behavior.Detection, nd)
	for i := range dets {
		dets[i] = behavior.Detection{ID: fmt.Sprintf("bench-%d", i), Analytic: behavior.Beacon, Score: float64(i%100) / 100,
			Src: netip.AddrFrom4([4]byte{10, 8, byte(i >> 8), byte(i)}), DstName: fmt.Sprintf("c2-%d.bench.example", i), DstPort: 443,
			FirstSeen: time.Unix(1_500_000_000, 0), LastSeen: time.Unix(1_500_086_400, 0), Count: 100, Facts: []string{"bench"}}
	}
	if err := e.db.PutDetections(ctx, dets); err != nil {
		b.Fatal(err)
	}
	b.Logf("store: demo + %d indicators, %d sightings, %d detections", ni, ns, nd)
	return e
}

// BenchmarkPages renders each page and API answer through the handler
// (authentication, TLP, store reads, template) over a large store, and
// reports the 95th percentile of one request's time.
func BenchmarkPages(b *testing.B) {
	e := largeStore(b)
	key := e.key("bench", "amber", true)
	// a returning visitor, so the overview works out what changed since
	if err := e.db.PutAudit(context.Background(), store.AuditEntry{At: time.Now(), Key: "bench", Method: http.MethodGet,
		Path: "/", Status: http.StatusOK}); err != nil {
		b.Fatal(err)
	}
	camp := e.doc().Campaigns[0].ID
	for _, p := range []string{"/", "/campaigns/" + url.PathEscape(camp), "/detections", "/detections?sort=host&order=asc&page=20",
		"/api/v1/overview", "/api/v1/detections?all=true"} {
		b.Run(strings.NewReplacer("/", "_", "?", "_").Replace(p), func(b *testing.B) {
			var took []time.Duration
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, p, nil)
				req.Header.Set("Authorization", "Bearer "+key)
				w := httptest.NewRecorder()
				start := time.Now()
				e.ui.ServeHTTP(w, req)
				took = append(took, time.Since(start))
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", p, w.Code, w.Body)
				}
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}
