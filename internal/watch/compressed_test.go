package watch_test

import (
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/watch"
)

// TestResumeFromCompressedArchive stops the watcher part-way through a
// real Zeek DNS log with injected APT1 traffic; while it is down the log
// gets its last records and is rotated as zeekctl does it (moved into a
// YYYY-MM-DD folder and gzipped, the plain file removed) and a new log
// starts. The restarted watcher finds the archive by its content, not by
// the decoy beside it (another log of the same name), and alerts every
// hit of the part it had not read and of the new log, each exactly once.
func TestResumeFromCompressedArchive(t *testing.T) {
	t.Run("whole", func(t *testing.T) { resumeFromCompressed(t, false) })
	// cut short in its second half: the records before the cut are read,
	// none after it, and the watcher goes on
	t.Run("damaged", func(t *testing.T) { resumeFromCompressed(t, true) })
}

func resumeFromCompressed(t *testing.T, damaged bool) {
	logs, _ := scenarioLogs(t)
	dir, dbPath, live := watchDirs(t)
	dns := logs["dns"]
	records := spread(dns.records)
	n := len(records)
	first := dns.head() + strings.Join(records[:n/3], "")
	rest := strings.Join(records[n/3:2*n/3], "") + dns.close
	second := dns.head() + strings.Join(records[2*n/3:], "")
	if countHits(first) == 0 || countHits(rest) == 0 || countHits(second) == 0 {
		t.Fatal("a part of the log has no injected record")
	}
	path := filepath.Join(live, "dns.log")
	os.WriteFile(path, []byte(first), 0o644)
	state, alerts := filepath.Join(dir, "state.json"), filepath.Join(dir, "alerts.jsonl")
	opt := watch.Options{Paths: []string{live}, State: state, AlertsFile: alerts, NoBehavior: true}
	r := startWatch(t, dbPath, opt)
	waitFor(t, "the first part", func() bool { return caughtUp(t, state, path) })
	r.stop(t)

	appendFile(t, path, rest)
	day := filepath.Join(live, "2026-12-02")
	os.Mkdir(day, 0o755)
	archive := filepath.Join(day, "dns.05:00:00-06:00:00.log.gz")
	gzipFile(t, archive, first+rest)
	if damaged {
		cutInSecondHalf(t, archive)
	}
	// same name and header, other records: its head hashes otherwise
	gzipFile(t, filepath.Join(day, "dns.04:00:00-05:00:00.log.gz"), dns.head()+strings.Join(records[2*n/3:], ""))
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte(second), 0o644)

	want, _ := scanKeys(t, map[string]string{"dns.log": first + rest, "dns.log#2": second})
	wantFirst, _ := scanKeys(t, map[string]string{"dns.log": first, "dns.log#2": second})
	r = startWatch(t, dbPath, opt)
	waitFor(t, "the archive and the new log", func() bool {
		return (damaged || len(readAlerts(t, alerts)) >= len(want)) && caughtUp(t, state, path) && !marksOf(t, state, ".gz")
	})
	r.stop(t)
	got := readAlerts(t, alerts)
	t.Logf("%d alerts, %d from the scan", len(got), len(want))
	if !damaged {
		checkExactlyOnce(t, got, want)
	} else {
		checkBetween(t, got, wantFirst, want)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".whodunit-archive-*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

// marksOf reports whether the checkpoint at state follows a file whose
// path ends in suffix.
func marksOf(t *testing.T, state, suffix string) bool {
	cp, err := watch.ReadCheckpoint(state)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range cp.Files {
		if strings.HasSuffix(m.Path, suffix) {
			return true
		}
	}
	return false
}

func gzipFile(t *testing.T, path, content string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if _, err := zw.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// cutInSecondHalf truncates a gzip file at three quarters of its length.
func cutInSecondHalf(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()*3/4); err != nil {
		t.Fatal(err)
	}
}

// checkBetween fails unless the alerts hold every key of atLeast, each
// once, and nothing outside atMost.
func checkBetween(t *testing.T, got []watch.Alert, atLeast, atMost map[string]bool) {
	t.Helper()
	seen := map[string]int{}
	for _, a := range got {
		if seen[a.Key]++; seen[a.Key] == 2 {
			t.Errorf("alert raised twice: %s", a.Key)
		}
		if !atMost[a.Key] {
			t.Errorf("alert a scan does not give: %s=%s", a.Field, a.Value)
		}
	}
	for k := range atLeast {
		if seen[k] == 0 {
			t.Errorf("alert %s missing", k)
		}
	}
	if len(got) <= len(atLeast) {
		t.Errorf("%d alerts: nothing read of the archive before its damage (%d without it)", len(got), len(atLeast))
	}
}
