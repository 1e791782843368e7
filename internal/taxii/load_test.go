package taxii_test

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/server"
)

// BenchmarkLoadClients is the sharing issue's load test: C concurrent
// clients (WHODUNIT_BENCH_TAXII_CLIENTS, 50 by default) each page the whole
// intel collection over real HTTP on loopback, through the server's
// timeouts and its audit of every request, from a store of N indicators
// (WHODUNIT_BENCH_TAXII_N). Every client must receive every object once;
// any error fails the benchmark. It reports objects/s over all clients,
// the p99 page latency and the process's peak RSS.
func BenchmarkLoadClients(b *testing.B) {
	f := benchStore(b)
	clients := envInt(b, "WHODUNIT_BENCH_TAXII_CLIENTS", 50)
	addr := startServer(b, f)
	hc := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var want received
	var lat []time.Duration
	var objects int
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		counts, l, err := loadPass(hc, addr, f.keys["amber"], clients)
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range counts {
			if want.n == 0 {
				want = n
			}
			if n != want {
				b.Fatalf("clients received %v (objects, hash sum), not all the same", counts)
			}
			objects += n.n
		}
		lat = append(lat, l...)
	}
	elapsed := time.Since(start)
	slices.Sort(lat)
	b.ReportMetric(float64(objects)/elapsed.Seconds(), "objects/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "pages/s")
	b.ReportMetric(peakRSS(b), "peak-RSS-MiB")
	if stored := f.storedObjects(); want.n != stored {
		b.Fatalf("each client received %d objects; the store serves %d", want.n, stored)
	}
	b.Logf("%d clients × %d objects, %d pages, 0 errors", clients, want.n, len(lat))
}

func envInt(b *testing.B, name string, dflt int) int {
	v := os.Getenv(name)
	if v == "" {
		return dflt
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// startServer runs the real server (internal/server) around f's handler
// on a loopback port until the benchmark ends.
func startServer(b testing.TB, f *fixture) string {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- server.Run(ctx, server.Config{Listen: "127.0.0.1:0", Handler: f.srv, Audit: f.db,
			Ready: func(a net.Addr) { ready <- a }})
	}()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	})
	select {
	case a := <-ready:
		return "http://" + a.String()
	case err := <-done:
		b.Fatal(err)
	}
	return ""
}

// loadPass runs the clients once over the whole collection.
func loadPass(hc *http.Client, addr, key string, clients int) ([]received, []time.Duration, error) {
	counts := make([]received, clients)
	lats := make([][]time.Duration, clients)
	errs := make([]error, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() { counts[i], lats[i], errs[i] = pageAll(hc, addr, key) })
	}
	wg.Wait()
	var all []time.Duration
	for i, err := range errs {
		if err != nil {
			return nil, nil, fmt.Errorf("client %d: %w", i, err)
		}
		all = append(all, lats[i]...)
	}
	return counts, all, nil
}

// pageAll pages the intel collection by next. It keeps no set of the ids
// it received (50 clients × 1M ids would measure the clients, not the
// server): it counts them and sums a 64-bit hash of each, so a client
// that received one twice or missed one differs from the others.
func pageAll(hc *http.Client, addr, key string) (received, []time.Duration, error) {
	var got received
	var lats []time.Duration
	next := ""
	for {
		target := addr + intelC + "objects/?limit=1000"
		if next != "" {
			target += "&next=" + next
		}
		t0 := time.Now()
		e, err := getPage(hc, target, key)
		lats = append(lats, time.Since(t0))
		if err != nil {
			return got, lats, err
		}
		for _, raw := range e.Objects {
			var o struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(raw, &o); err != nil || o.ID == "" {
				return got, lats, fmt.Errorf("object unreadable (%v): %.200s", err, raw)
			}
			h := fnv.New64a()
			h.Write([]byte(o.ID))
			got.n++
			got.sum += h.Sum64()
		}
		if !e.More {
			return got, lats, nil
		}
		next = e.Next
	}
}

// received is what one client received: how many ids, and the sum of
// their hashes.
type received struct {
	n   int
	sum uint64
}

func getPage(hc *http.Client, target, key string) (envelope, error) {
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		return envelope{}, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	resp, err := hc.Do(req)
	if err != nil {
		return envelope{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return envelope{}, fmt.Errorf("GET %s: %d %v %.200s", target, resp.StatusCode, err, body)
	}
	var e envelope
	return e, json.Unmarshal(body, &e)
}

func peakRSS(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return float64(ru.Maxrss) / 1024
}
