package cli_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/store/postgres"
	"github.com/whodunit-project/whodunit/internal/store/postgres/pgtest"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

// dbRun runs whodunit and fails the test on a non-zero exit.
func dbRun(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := runMainArgs(&out, &errb, args...); code != 0 {
		t.Fatalf("%v: exit %d\n%s", args, code, errb.String())
	}
	return out.String()
}

type migrated struct {
	Kind   string `json:"kind"`
	Before int    `json:"version_before"`
	After  int    `json:"version_after"`
}

func migrateJSON(t *testing.T, db string) migrated {
	t.Helper()
	var m migrated
	if err := json.Unmarshal([]byte(dbRun(t, "--db", db, "--json", "db", "migrate")), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// db migrate creates the schema of a new database and then finds nothing
// to do, on both stores.
func TestDBMigrate(t *testing.T) {
	file := filepath.Join(t.TempDir(), "new.db")
	cases := []struct {
		db, kind string
		latest   int
	}{{file, "sqlite", sqlite.LatestSchemaVersion()}}
	if !testing.Short() {
		cases = append(cases, struct {
			db, kind string
			latest   int
		}{pgtest.NewDatabase(t), "postgres", postgres.LatestSchemaVersion()})
	}
	for _, c := range cases {
		if got, want := migrateJSON(t, c.db), (migrated{c.kind, 0, c.latest}); got != want || c.latest < 1 {
			t.Errorf("first migrate of a new %s database: %+v, want %+v", c.kind, got, want)
		}
		if got, want := migrateJSON(t, c.db), (migrated{c.kind, c.latest, c.latest}); got != want {
			t.Errorf("second migrate: %+v, want %+v", got, want)
		}
	}
	text := dbRun(t, "--db", file, "db", "migrate")
	if want := "schema version " + itoa(sqlite.LatestSchemaVersion()) + " -> " + itoa(sqlite.LatestSchemaVersion()); !strings.Contains(text, want) {
		t.Errorf("db migrate printed %q, want it to say %q", text, want)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// db copy moves an imported and scanned SQLite store to PostgreSQL and
// back; each copy holds the same indicators and sightings.
func TestDBCopyRoundTrip(t *testing.T) {
	// heavy and independent: runs beside the rest of the package
	t.Parallel()
	if testing.Short() {
		t.Skip("needs a PostgreSQL server")
	}
	dir := t.TempDir()
	lite := filepath.Join(dir, "a.db")
	dbRun(t, "--db", lite, "-q", "intel", "import", "--actor", "APT1", filepath.Join(examplesDir, "intel", "actors", "APT1"))
	dbRun(t, "--db", lite, "-q", "scan", filepath.Join(examplesDir, "telemetry", "dns.log.gz"))
	pg := pgtest.NewDatabase(t)
	back := filepath.Join(dir, "b.db")
	var counts []map[string]int
	for _, c := range [][2]string{{"sqlite:" + lite, pg}, {pg, "sqlite:" + back}} {
		var m map[string]int
		if err := json.Unmarshal([]byte(dbRun(t, "--json", "db", "copy", "--from", c[0], "--to", c[1])), &m); err != nil {
			t.Fatal(err)
		}
		counts = append(counts, m)
	}
	if counts[0]["objects"] < 3080 || counts[0]["sightings"] == 0 || counts[0]["scans"] != 1 {
		t.Errorf("copy to PostgreSQL: %v, want the APT1 feeds' 3080 indicators and more, sightings and the scan", counts[0])
	}
	for k, v := range counts[0] {
		if counts[1][k] != v {
			t.Errorf("%s: %d copied to PostgreSQL, %d copied back", k, v, counts[1][k])
		}
	}
	for _, db := range []string{lite, pg, back} {
		if n := indicatorCount(t, db); n != 3080 {
			t.Errorf("%s: %d indicators, want 3080", db, n)
		}
	}
	var out, errb bytes.Buffer
	if code := runMainArgs(&out, &errb, "db", "copy", "--from", "sqlite:"+lite, "--to", pg); code == 0 || !strings.Contains(errb.String(), "not empty") {
		t.Errorf("copy into a store that holds data: exit %d, %q; want an error saying it is not empty", code, errb.String())
	}
}

// indicatorCount is what 'intel stats' says db holds.
func indicatorCount(t *testing.T, db string) int {
	t.Helper()
	var st struct {
		Objects map[string]int `json:"objects"`
	}
	if err := json.Unmarshal([]byte(dbRun(t, "--db", db, "--json", "intel", "stats")), &st); err != nil {
		t.Fatal(err)
	}
	return st.Objects["indicator"]
}
