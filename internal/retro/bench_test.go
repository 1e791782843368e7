package retro_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/obsindex"
	"github.com/whodunit-project/whodunit/internal/retro"
	"github.com/whodunit-project/whodunit/internal/scan"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/postgres"
	"github.com/whodunit-project/whodunit/internal/store/postgres/pgtest"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

// Sizes from WHODUNIT_BENCH_RETRO_INDICATORS and WHODUNIT_BENCH_RETRO_INDEX;
// the defaults keep `go test -bench .` short. The target is
// 1,000,000 new indicators against 10,000,000 indexed values in 10 s.
var (
	benchIndicators = envSize("WHODUNIT_BENCH_RETRO_INDICATORS", 100_000)
	benchIndex      = envSize("WHODUNIT_BENCH_RETRO_INDEX", 1_000_000)
)

func envSize(name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		panic(fmt.Sprintf("%s=%q: want a positive number", name, v))
	}
	return n
}

// benchIndicator i is a domain (two in three), an address or an MD5.
func benchIndicator(i int) *intel.Object {
	var obs intel.Observable
	switch i % 3 {
	case 0, 1:
		obs = intel.Observable{Type: intel.Domain, Value: fmt.Sprintf("c2-%d.example%d.net", i, i%97)}
	default:
		obs = intel.Observable{Type: intel.MD5, Value: fmt.Sprintf("%032x", i*7919)}
	}
	return &intel.Object{ID: fmt.Sprintf("indicator--%08d", i), Type: intel.TypeIndicator,
		Indicator: &intel.IndicatorSpec{PatternType: "plain", Observables: []intel.Observable{obs}}}
}

var t0 = time.Date(2018, 3, 24, 0, 0, 0, 0, time.UTC)

// benchObservation i is a query for a subdomain of an indicator (one in
// a thousand), else a name, address or hash no indicator has, with the
// records a real index entry carries.
func benchObservation(i int, o *obsindex.Observation) {
	at := t0.Add(time.Duration(i) * time.Millisecond)
	rec := obsindex.Record{Source: "sensor/dns.log", File: "/logs/dns.log", Line: int64(i), Offset: int64(i) * 200, Time: at,
		SrcIP: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), DstIP: netip.AddrFrom4([4]byte{10, 0, 0, 53})}
	*o = obsindex.Observation{First: at, Last: at, Count: 1, Hosts: []netip.Addr{rec.SrcIP}, Records: append(o.Records[:0], rec)}
	switch {
	case i%1000 == 0:
		k := (i / 1000) % benchIndicators / 3 * 3 // a domain indicator
		o.Type, o.Field, o.Value = intel.Domain, "dns.query", fmt.Sprintf("www.c2-%d.example%d.net", k, k%97)
	case i%3 == 0:
		o.Type, o.Field, o.Value = intel.IPv4, "conn.dst_ip", netip.AddrFrom4([4]byte{198, byte(i >> 16), byte(i >> 8), byte(i)}).String()
	case i%3 == 1:
		o.Type, o.Field, o.Value = intel.Domain, "dns.query", fmt.Sprintf("host%d.benign%d.org", i, i%1013)
	default:
		o.Type, o.Field, o.Value = intel.MD5, "file.md5", fmt.Sprintf("%032x", i*104729+1)
	}
}

// BenchmarkRetroHunt compiles benchIndicators new indicators and probes
// benchIndex observations with retro.Run on every CPU (generated on one
// goroutine as they are probed, as a store streams them); sightings are
// collected, not stored.
func BenchmarkRetroHunt(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		start, cpu0 := time.Now(), scan.ProcessCPU()
		bl := match.NewBuilder(match.Options{})
		bl.Grow(benchIndicators)
		for i := 0; i < benchIndicators; i++ {
			bl.Add(benchIndicator(i))
		}
		snap, err := bl.Build()
		if err != nil {
			b.Fatal(err)
		}
		compiled := time.Since(start)
		res, err := retro.Run(context.Background(), &retro.Hunter{Snap: snap}, 0, func(fn func(*obsindex.Observation) error) error {
			for i := 0; i < benchIndex; i++ {
				o := new(obsindex.Observation)
				benchObservation(i, o)
				if err := fn(o); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		found := len(res.Sightings)
		if want := (benchIndex + 999) / 1000; found < want {
			b.Fatalf("%d sightings, want at least %d", found, want)
		}
		b.ReportMetric(compiled.Seconds(), "compile-s")
		b.ReportMetric(time.Since(start).Seconds(), "total-s")
		// the machine is shared: CPU time says what the work costs
		b.ReportMetric(scan.ProcessCPU()-cpu0, "cpu-s")
		b.ReportMetric(float64(time.Since(start)-compiled)/float64(benchIndex), "ns/observation")
	}
	b.ReportMetric(float64(benchIndicators), "indicators")
	b.ReportMetric(float64(benchIndex), "observations")
}

// BenchmarkRetroFromStore is the whole retro-hunt as `whodunit retro`
// runs it (hunt.Retro), on each store: benchIndicators indicators
// imported and compiled from the store, benchIndex observations in the
// store's index read and probed, the sightings stored. Only hunt.Retro is
// timed; filling the store is not.
func BenchmarkRetroFromStore(b *testing.B) {
	ctx := context.Background()
	b.Run("sqlite", func(b *testing.B) {
		db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "retro.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		benchRetroFromStore(b, db)
	})
	b.Run("postgres", func(b *testing.B) {
		db, err := postgres.Open(ctx, pgtest.NewDatabase(b))
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		benchRetroFromStore(b, db)
	})
}

func benchRetroFromStore(b *testing.B, db interface {
	store.Store
	hunt.RetroTarget
}) {
	ctx := context.Background()
	before := time.Now()
	if _, err := db.Import(ctx, intel.Source{Name: "bench", Format: "list"}, func(sink intel.Sink) error {
		for i := range benchIndicators {
			if err := sink.Put(ctx, benchIndicator(i)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	batch := make([]obsindex.Observation, 0, 20000)
	for i := range benchIndex {
		batch = append(batch, obsindex.Observation{})
		benchObservation(i, &batch[len(batch)-1])
		if len(batch) == cap(batch) || i == benchIndex-1 {
			if err := db.PutObservations(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	st, err := db.ObservationStats(ctx)
	if err != nil {
		b.Fatal(err)
	}
	// the compiled snapshot cache, as the commands keep it: the import's
	// run compiles every indicator and writes it, `retro` then loads it;
	// WHODUNIT_BENCH_RETRO_NO_CACHE=1 compiles every time
	cache := b.TempDir()
	if os.Getenv("WHODUNIT_BENCH_RETRO_NO_CACHE") == "1" {
		cache = ""
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		// as an import runs it (the indicators added since), then as
		// `whodunit retro` does (every current indicator)
		for _, run := range []struct {
			name  string
			since time.Time
		}{{"import", before}, {"all", time.Time{}}} {
			start, cpu0 := time.Now(), scan.ProcessCPU()
			res, err := hunt.Retro(ctx, db, hunt.RetroOptions{Since: run.since, SnapshotCache: cache})
			if err != nil {
				b.Fatal(err)
			}
			// observations of one key merge: the index holds st.Values
			if want := (benchIndex + 999) / 1000; res.Sightings < want || res.Probed != st.Values || res.Indicators != benchIndicators {
				b.Fatalf("%s: %d sightings of %d probed for %d indicators, want at least %d of %d for %d",
					run.name, res.Sightings, res.Probed, res.Indicators, want, st.Values, benchIndicators)
			}
			b.ReportMetric(time.Since(start).Seconds(), run.name+"-total-s")
			b.ReportMetric(scan.ProcessCPU()-cpu0, run.name+"-cpu-s")
		}
	}
	b.ReportMetric(float64(benchIndicators), "indicators")
	b.ReportMetric(float64(st.Values), "observations")
}
