package faulttest

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // integrity_check on the killed store

	"github.com/whodunit-project/whodunit/internal/cli"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

// childArgs in the environment makes the test binary run the command line
// with these arguments instead of the tests: the child that gets killed.
const childArgs = "WHODUNIT_FAULT_CHILD_ARGS"

func TestMain(m *testing.M) {
	if a := os.Getenv(childArgs); a != "" {
		var args []string
		if err := json.Unmarshal([]byte(a), &args); err != nil {
			os.Exit(3)
		}
		os.Exit(cli.Main(context.Background(), args, os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// start runs whodunit args in a child process.
func start(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	a, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childArgs+"="+string(a))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// run runs whodunit args to the end and fails the test when it fails.
func run(t *testing.T, args ...string) time.Duration {
	t.Helper()
	began := time.Now()
	cmd := start(t, args...)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("whodunit %v: %v", args, err)
	}
	return time.Since(began)
}

// killAfter runs whodunit args and kills it with SIGKILL after d; it
// reports whether the kill came before the child ended by itself.
func killAfter(t *testing.T, d time.Duration, args ...string) bool {
	t.Helper()
	cmd := start(t, args...)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
		return false
	case <-time.After(d):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
		return true
	}
}

// integrity runs SQLite's own check of every page and index.
func integrity(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Fatalf("%s after the kill: integrity_check %q, %v", path, res, err)
	}
}

func shared(t *testing.T, rel ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{"..", "..", "..", "shared", "data"}, rel...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data absent: %v", err)
	}
	return p
}

func stats(t *testing.T, path string) store.IntelStats {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.IntelStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func sightingKeys(t *testing.T, path string) []string {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var keys []string
	err = s.Sightings(context.Background(), store.SightingQuery{}, func(sg *match.Sighting) error {
		keys = append(keys, sg.Key())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	return keys
}

// killPoints are where, as fractions of an uninterrupted run, the child
// is killed: early, in the middle, and late, near and in the commit.
var killPoints = []float64{0.3, 0.7, 0.95}

// TestKillDuringImport kills an import of the real ATT&CK bundle at
// points spread over its run. After every kill the store is intact and
// holds the import whole or not at all; importing again then gives the
// store an uninterrupted import gives.
func TestKillDuringImport(t *testing.T) {
	if testing.Short() {
		t.Skip("kills real imports")
	}
	bundle := shared(t, "intel", "attack", "enterprise-attack.json.gz")
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref.db")
	took := run(t, "intel", "import", "-q", "--db", ref, bundle)
	want := stats(t, ref)
	killed := 0
	for i, f := range killPoints {
		db := filepath.Join(dir, "k"+string(rune('0'+i))+".db")
		if !killAfter(t, time.Duration(f*float64(took)), "intel", "import", "-q", "--db", db, bundle) {
			continue // it finished first: nothing to check at this point
		}
		killed++
		if _, err := os.Stat(db); err != nil {
			continue // killed before the store was created
		}
		integrity(t, db)
		got := stats(t, db)
		if n := got.Objects["attack-pattern"]; n != 0 && n != want.Objects["attack-pattern"] {
			t.Errorf("kill at %.0f%%: %d of %d attack patterns kept: half an import", f*100, n, want.Objects["attack-pattern"])
		}
		if got.Sources > 1 {
			t.Errorf("kill at %.0f%%: %d sources after one import", f*100, got.Sources)
		}
		run(t, "intel", "import", "-q", "--db", db, bundle)
		if again := stats(t, db); !sameStats(again, want) {
			t.Errorf("kill at %.0f%% then import: %+v, want %+v", f*100, again, want)
		}
	}
	if killed == 0 {
		t.Fatal("every import finished before its kill: the test checked nothing")
	}
}

func sameStats(a, b store.IntelStats) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
