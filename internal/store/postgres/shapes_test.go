package postgres_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

// TestRealListsReadBackAsSQLite imports the real APT1 lists (with an
// actor label, so with "indicates" relationships) into an empty store,
// then feeds of which one repeats 200 of their lines (so those list
// indicators gain a second source and become full objects), and holds
// every way of reading the store to what the SQLite store gives for the
// same imports: the objects, the matcher's input, the counts, the TAXII
// pages; then again after deleting one list and one indicator.
func TestRealListsReadBackAsSQLite(t *testing.T) {
	ctx := context.Background()
	pg, lite, dsn := bothStores(t)
	apt1 := filepath.Join(examples, "intel", "actors", "APT1")
	labels := intel.DefaultOptions()
	labels.Actor = "APT1"
	// a second feed repeating the first 200 lines of the domain list
	fqdn, err := os.ReadFile(filepath.Join(apt1, "apt1-fqdn.dat"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(fqdn), "\n")
	repeat := filepath.Join(t.TempDir(), "partner-feed.dat")
	if err := os.WriteFile(repeat, []byte(strings.Join(lines[:200], "")), 0o600); err != nil {
		t.Fatal(err)
	}
	plan := []hunt.ImportOptions{
		{Paths: []string{filepath.Join(apt1, "apt1-fqdn.dat"), filepath.Join(apt1, "apt1-md5.dat")}, Labels: labels},
		{Paths: []string{filepath.Join(apt1, "vendor-x-feed.txt"), repeat}, Labels: intel.DefaultOptions()},
	}
	for _, db := range []store.Store{pg, lite} {
		for _, opt := range plan {
			if _, err := hunt.Import(ctx, db, opt); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := listRows(t, dsn); n < 1000 {
		t.Fatalf("%d list rows: the lists were not kept compactly", n)
	}
	sameReads(t, "after the imports", pg, lite)
	for _, db := range []store.Store{pg, lite} {
		if _, err := db.DeleteSource(ctx, "apt1-md5.dat"); err != nil {
			t.Fatal(err)
		}
		// a line the second feed does not repeat: a list's indicator in
		// both stores
		id := intel.DeriveID(intel.TypeIndicator, string(intel.Domain), "del.advanbusiness.com")
		if n, err := db.DeleteObject(ctx, id, time.Time{}); err != nil || n != 1 {
			t.Fatalf("deleting %s: %d versions, %v", id, n, err)
		}
	}
	sameReads(t, "after deleting a list and an indicator", pg, lite)
}

// listRows counts the shaped indicators of the database at dsn.
func listRows(t *testing.T, dsn string) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM list_indicators").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// sameReads compares what both stores give back.
func sameReads(t *testing.T, when string, pg, lite store.Store) {
	t.Helper()
	for what, read := range map[string]func(store.Store) any{
		"objects":    func(s store.Store) any { return readObjects(t, s, store.ObjectQuery{}) },
		"md5 values": func(s store.Store) any { return readObjects(t, s, store.ObjectQuery{ValueType: intel.MD5}) },
		"of APT1": func(s store.Store) any {
			return readObjects(t, s, store.ObjectQuery{Actor: "APT1", Types: []string{intel.TypeIndicator}})
		},
		"matcher": func(s store.Store) any { return readMatcher(t, s) },
		"stats":   func(s store.Store) any { return readStats(t, s) },
		"pages":   func(s store.Store) any { return readPages(t, s) },
	} {
		if diff := cmp.Diff(read(lite), read(pg)); diff != "" {
			t.Errorf("%s, %s differ (-sqlite +postgres):\n%s", when, what, diff)
		}
	}
}

func readObjects(t *testing.T, s store.Store, q store.ObjectQuery) []string {
	t.Helper()
	var out []string
	if err := s.Objects(context.Background(), q, func(o *intel.Object) error {
		out = append(out, asJSON(t, o))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// SQLite gives the relationships its shapes imply in the order of
	// their indicators, not by their own id
	slices.Sort(out)
	return out
}

func readMatcher(t *testing.T, s store.Store) []string {
	t.Helper()
	var out []string
	if err := s.MatchIndicators(context.Background(), func(o *intel.Object) error {
		// a shaped indicator comes without its pattern, which its one
		// observable stands for; a full one with it: both stores keep
		// some of these values one way and some the other
		if len(o.Indicator.Observables) == 1 {
			o.Indicator.Pattern = ""
		}
		out = append(out, asJSON(t, o))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out) // the order is the store's
	return out
}

func readStats(t *testing.T, s store.Store) store.IntelStats {
	t.Helper()
	st, err := s.IntelStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// readPages reads every version by TAXII pages of 100, each with its
// version; added times differ between the stores, so they are left out.
func readPages(t *testing.T, s store.Store) []string {
	t.Helper()
	pager, ok := s.(store.ObjectPager)
	if !ok {
		t.Fatalf("%T pages no objects", s)
	}
	var out []string
	var after store.Cursor
	for {
		page, err := pager.ObjectsPage(context.Background(), store.PageQuery{Versions: []string{"all"}}, after, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			out = append(out, it.Version.Format(time.RFC3339Nano)+" "+asJSON(t, it.Object))
		}
		if !page.More {
			break
		}
		after = page.Next
	}
	slices.Sort(out)
	return out
}

func asJSON(t *testing.T, o *intel.Object) string {
	t.Helper()
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
