package postgres_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/postgres"
	"github.com/whodunit-project/whodunit/internal/store/postgres/pgtest"
)

// keySet collects sighting keys from several goroutines.
type keySet struct {
	mu   sync.Mutex
	keys map[string]int
}

func (k *keySet) add(s match.Sighting) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys == nil {
		k.keys = map[string]int{}
	}
	k.keys[s.Key()]++
}

// TestManyWriters: two scans of different real logs, an import of another
// feed and two readers at once on one database. Nothing deadlocks (the
// context bounds it), the stored sightings are exactly those the scans
// found, the pager sees each once, and the import is seen whole or not at
// all.
func TestManyWriters(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	db, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	labels := intel.DefaultOptions()
	labels.Actor = "APT1"
	if _, err := hunt.Import(ctx, db, hunt.ImportOptions{Paths: []string{filepath.Join(examples, "intel", "actors", "APT1")}, Labels: labels}); err != nil {
		t.Skipf("no demo intelligence: %v", err)
	}
	before, err := db.Count(ctx, intel.TypeIndicator)
	if err != nil || before == 0 {
		t.Fatalf("%d indicators before: %v", before, err)
	}
	feed := filepath.Join(examples, "intel", "apt1.json")
	found := [2]*keySet{{}, {}}
	seen := make(chan []int, 1)           // indicator counts the watcher saw
	paged := make(chan map[string]int, 1) // keys the pager read, with how often
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for i, log := range []string{"dns.log.gz", "ssl.log.gz"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := hunt.Scan(ctx, db, hunt.ScanOptions{Paths: []string{filepath.Join(examples, "telemetry", log)},
				Workers: 1, NoBehavior: true, OnSighting: found[i].add})
			errs <- wrapErr(log, err)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		res, err := hunt.Import(ctx, db, hunt.ImportOptions{Paths: []string{feed}, Labels: intel.DefaultOptions()})
		if err == nil && (len(res) != 1 || res[0].Err != nil) {
			err = fmt.Errorf("import results %+v", res)
		}
		errs <- wrapErr(feed, err)
	}()
	go func() { seen <- watchCount(ctx, db, done) }()
	go func() { paged <- pageAll(ctx, t, db, done) }()
	wg.Wait()
	close(done)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	counts, pages := <-seen, <-paged
	if ctx.Err() != nil {
		t.Fatalf("the writers did not finish in time: %v", ctx.Err())
	}
	checkWhole(t, db, before, counts)
	checkSightings(t, db, found, pages)
}

func wrapErr(what string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// watchCount polls the number of indicators until done and returns every
// value it read, the last one read after the writers finished.
func watchCount(ctx context.Context, db store.Store, done <-chan struct{}) []int {
	var out []int
	for {
		select {
		case <-done:
			n, _ := db.Count(ctx, intel.TypeIndicator)
			return append(out, n)
		default:
		}
		if n, err := db.Count(ctx, intel.TypeIndicator); err == nil {
			out = append(out, n)
		}
	}
}

// pageAll follows SightingsPage until done and then to the end, counting
// how often each key came.
func pageAll(ctx context.Context, t *testing.T, db store.Store, done <-chan struct{}) map[string]int {
	ks := &keySet{}
	var after store.Cursor
	finished := false
	for {
		select {
		case <-done:
			finished = true
		default:
		}
		page, err := db.SightingsPage(ctx, store.SightingQuery{}, after, 500)
		if err != nil {
			t.Errorf("SightingsPage: %v", err)
			return ks.keys
		}
		for _, s := range page.Sightings {
			ks.add(s.Sighting)
		}
		after = page.Next
		if finished && !page.More {
			return ks.keys
		}
	}
}

// checkWhole: the import is one transaction, so a reader sees the count
// before it or after it, never between.
func checkWhole(t *testing.T, db store.Store, before int, counts []int) {
	t.Helper()
	after := counts[len(counts)-1]
	if after <= before {
		t.Fatalf("the feed added no indicator (%d before, %d after)", before, after)
	}
	distinct := map[int]int{}
	for _, n := range counts {
		distinct[n]++
		if n != before && n != after {
			t.Errorf("a reader saw %d indicators: neither %d (before the import) nor %d (after)", n, before, after)
		}
	}
	t.Logf("%d polls of the indicator count saw %v (before %d, after %d)", len(counts), distinct, before, after)
}

// checkSightings: the store holds the union of what the scans found, each
// once, and the pager read each stored sighting exactly once.
func checkSightings(t *testing.T, db store.Store, found [2]*keySet, pages map[string]int) {
	t.Helper()
	want := map[string]bool{}
	for i := range found {
		if len(found[i].keys) == 0 {
			t.Errorf("scan %d found nothing: the test proves nothing", i)
		}
		for k := range found[i].keys {
			want[k] = true
		}
	}
	stored := map[string]int{}
	err := db.Sightings(context.Background(), store.SightingQuery{}, func(s *match.Sighting) error {
		stored[s.Key()]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var lost, extra, twice []string
	for k := range want {
		if stored[k] == 0 {
			lost = append(lost, k)
		}
	}
	for k, n := range stored {
		if !want[k] {
			extra = append(extra, k)
		}
		if n > 1 || pages[k] > 1 {
			twice = append(twice, k)
		}
		if pages[k] == 0 {
			lost = append(lost, "paged:"+k)
		}
	}
	sort.Strings(lost)
	if len(lost)+len(extra)+len(twice) > 0 || len(pages) != len(stored) {
		t.Errorf("%d found, %d stored, %d paged: lost %v, not found by a scan %v, twice %v",
			len(want), len(stored), len(pages), head(lost), head(extra), head(twice))
	}
	t.Logf("%d sightings found by the two scans, stored and paged once each", len(want))
}

func head(s []string) []string { return s[:min(len(s), 5)] }
