package watch_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/store/sqlite"
	"github.com/whodunit-project/whodunit/internal/watch"
)

// TestTruncateAndRecreate follows a real DNS log that is truncated and
// rewritten with other records, then deleted and created again: each
// content is read from its start, and every hit of each alerts once.
func TestTruncateAndRecreate(t *testing.T) {
	logs, _ := scenarioLogs(t)
	dir, dbPath, live := watchDirs(t)
	dns := logs["dns"]
	parts := split(spread(dns.records), 3)
	contents := []string{dns.head() + parts[0], dns.head() + parts[1], dns.head() + parts[2]}
	path := filepath.Join(live, "dns.log")
	os.WriteFile(path, []byte(contents[0]), 0o644)
	state, alerts := filepath.Join(dir, "state.json"), filepath.Join(dir, "alerts.jsonl")
	r := startWatch(t, dbPath, watch.Options{Paths: []string{live}, State: state, AlertsFile: alerts, NoBehavior: true})
	waitFor(t, "the first content", func() bool { return caughtUp(t, state, path) })

	// truncated in place (same inode), then a shorter content written
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(contents[1][:len(contents[1])/2])
	f.Close()
	waitFor(t, "the truncation seen", func() bool { return markOffset(t, state, path) < int64(len(contents[0])) })
	appendFile(t, path, contents[1][len(contents[1])/2:])
	waitFor(t, "the rewritten content", func() bool { return caughtUp(t, state, path) })

	// deleted and created again (a new inode)
	os.Remove(path)
	os.WriteFile(path, []byte(contents[2]), 0o644)
	waitFor(t, "the new file", func() bool { return caughtUp(t, state, path) && sameFile(t, state, path) })
	r.stop(t)

	want, _ := scanKeys(t, map[string]string{"dns.log": contents[0], "dns.log#2": contents[1], "dns.log#3": contents[2]})
	checkExactlyOnce(t, readAlerts(t, alerts), want)
}

// markOffset is the checkpointed offset of path (-1: none).
func markOffset(t *testing.T, state, path string) int64 {
	cp, err := watch.ReadCheckpoint(state)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range cp.Files {
		if m.Path == path {
			return m.Offset
		}
	}
	return -1
}

// sameFile reports whether the checkpoint's mark for path is the inode
// now at path.
func sameFile(t *testing.T, state, path string) bool {
	cp, err := watch.ReadCheckpoint(state)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return false
	}
	for _, m := range cp.Files {
		if m.Path == path && m.Ino == inodeOf(fi) {
			return true
		}
	}
	return false
}

// TestNewIntelligenceWithoutRestart watches with an empty store, imports
// the APT1 indicators meanwhile, and appends a record that carries one:
// it alerts without a restart, and records read before the import do not.
func TestNewIntelligenceWithoutRestart(t *testing.T) {
	logs, _ := scenarioLogs(t)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "w.db")
	live := filepath.Join(dir, "live")
	os.Mkdir(live, 0o755)
	dns := logs["dns"]
	var hit, clean []string
	for _, rec := range dns.records {
		if strings.Contains(rec, "hugesoft.org") {
			hit = append(hit, rec)
		} else {
			clean = append(clean, rec)
		}
	}
	if len(hit) < 2 {
		t.Fatalf("%d injected hugesoft.org records", len(hit))
	}
	path := filepath.Join(live, "dns.log")
	first := dns.head() + strings.Join(clean, "") + hit[0]
	os.WriteFile(path, []byte(first), 0o644)
	db, err := sqlite.Open(context.Background(), dbPath) // an empty store
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	state, alerts := filepath.Join(dir, "state.json"), filepath.Join(dir, "alerts.jsonl")
	r := startWatch(t, dbPath, watch.Options{Paths: []string{live}, State: state, AlertsFile: alerts, NoBehavior: true,
		IntelEvery: 20_000_000})
	waitFor(t, "the first records", func() bool { return caughtUp(t, state, path) })
	if n := len(readAlerts(t, alerts)); n != 0 {
		t.Fatalf("%d alerts without intelligence", n)
	}
	db, err = sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	importInto(t, db, needShared(t, "intel", "apt1"))
	db.Close()
	waitFor(t, "the new snapshot", func() bool { return r.snapshots() >= 2 })
	appendFile(t, path, hit[1])
	waitFor(t, "the alert", func() bool { return len(readAlerts(t, alerts)) > 0 })
	waitFor(t, "the checkpoint", func() bool { return caughtUp(t, state, path) })
	st := r.stop(t)
	got := readAlerts(t, alerts)
	if len(got) != 1 || got[0].Value != "hugesoft.org" || got[0].Line != int64(len(dns.header)+len(clean)+2) {
		t.Fatalf("alerts %+v, want one for hugesoft.org at line %d", got, len(dns.header)+len(clean)+2)
	}
	if st.Snapshots < 2 {
		t.Errorf("%d snapshots built, want one at start and one per import seen", st.Snapshots)
	}
}
