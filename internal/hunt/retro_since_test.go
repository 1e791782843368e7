package hunt_test

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/obsindex"
)

// A retro-hunt since a time hunts only the indicators added after it:
// paged as objects when older ones are stored, read as the matcher's rows
// when every stored one is newer. Both find the same.
func TestRetroSinceHuntsOnlyTheNew(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	list := func(name, value string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(value+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	old, fresh := list("old.txt", "old.example"), list("new.txt", "c2.example")
	at := time.Date(2018, 3, 24, 10, 0, 0, 0, time.UTC)
	rec := obsindex.Record{Source: "sensor/dns.log", File: "/logs/dns.log", Line: 7, Offset: 700, Time: at,
		SrcIP: netip.MustParseAddr("10.0.0.5"), DstIP: netip.MustParseAddr("10.0.0.53")}
	seen := []obsindex.Observation{
		{Type: intel.Domain, Value: "www.c2.example", Field: "dns.query", First: at, Last: at, Count: 1, Records: []obsindex.Record{rec}},
		{Type: intel.Domain, Value: "old.example", Field: "dns.query", First: at, Last: at, Count: 1, Records: []obsindex.Record{rec}},
	}
	for _, withOld := range []bool{true, false} {
		db := openStore(t)
		if err := db.PutObservations(ctx, seen); err != nil {
			t.Fatal(err)
		}
		if withOld {
			importAll(t, db, []string{old})
		}
		before := time.Now()
		importAll(t, db, []string{fresh})
		rr, err := hunt.Retro(ctx, db, hunt.RetroOptions{Since: before})
		if err != nil {
			t.Fatal(err)
		}
		if rr.Indicators != 1 || rr.Sightings != 1 || len(rr.Hits) != 1 || rr.Hits[0].Values[0] != "www.c2.example" {
			t.Errorf("older indicators stored: %v; hunted %d indicators, %d sightings, hits %+v; want c2.example alone, seen once",
				withOld, rr.Indicators, rr.Sightings, rr.Hits)
		}
	}
}

// A retro-hunt for every indicator shares the scans' compiled snapshot
// cache: the first compiles and writes it, the next loads it (and reads
// no indicator from the store), and both find the same.
func TestRetroUsesTheSnapshotCache(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "c2.txt")
	if err := os.WriteFile(path, []byte("c2.example\nother.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2018, 3, 24, 10, 0, 0, 0, time.UTC)
	rec := obsindex.Record{Source: "sensor/dns.log", File: "/logs/dns.log", Line: 7, Offset: 700, Time: at,
		SrcIP: netip.MustParseAddr("10.0.0.5"), DstIP: netip.MustParseAddr("10.0.0.53")}
	db := openStore(t)
	if err := db.PutObservations(ctx, []obsindex.Observation{{Type: intel.Domain, Value: "www.c2.example", Field: "dns.query",
		First: at, Last: at, Count: 1, Records: []obsindex.Record{rec}}}); err != nil {
		t.Fatal(err)
	}
	importAll(t, db, []string{path})
	cache := filepath.Join(dir, "snapshots")
	var results []*hunt.RetroResult
	var logs []string
	for range 2 {
		var buf strings.Builder
		log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		rr, err := hunt.Retro(ctx, db, hunt.RetroOptions{SnapshotCache: cache, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		results, logs = append(results, rr), append(logs, buf.String())
	}
	if strings.Contains(logs[0], "loaded from the snapshot cache") || !strings.Contains(logs[1], "loaded from the snapshot cache") {
		t.Errorf("the first retro-hunt should compile and the second load; their logs:\n%s\n---\n%s", logs[0], logs[1])
	}
	for i, rr := range results {
		if rr.Indicators != 2 || rr.Sightings != 1 || len(rr.Hits) != 1 || rr.Hits[0].Values[0] != "www.c2.example" {
			t.Errorf("run %d: hunted %d indicators, %d sightings, hits %+v; want 2, and c2.example seen once", i+1, rr.Indicators, rr.Sightings, rr.Hits)
		}
	}
	if results[1].NewSightings != 0 {
		t.Errorf("the second run stored %d new sightings, want none", results[1].NewSightings)
	}
}
