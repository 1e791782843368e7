package watch_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
	"github.com/whodunit-project/whodunit/internal/watch"
)

// TestWindowRaisesScanDetectionsOnce watches real DNS and TLS logs with
// APT1's injected beacons, with a window that spans them: the detections
// raised are those a scan of the same logs gives above the threshold,
// each once however often the window is evaluated, and they are stored.
func TestWindowRaisesScanDetectionsOnce(t *testing.T) {
	logs, _ := scenarioLogs(t)
	dir, dbPath, live := watchDirs(t)
	for name, l := range logs {
		os.WriteFile(filepath.Join(live, name+".log"), []byte(l.head()+joinAll(l.records)), 0o644)
	}
	want := scanDetections(t, live)
	if len(want) == 0 {
		t.Fatal("the scan detects nothing: the test checks nothing")
	}
	t.Logf("the scan gives %d detections", len(want))
	var mu sync.Mutex
	raised := map[string]int{}
	state := filepath.Join(dir, "state.json")
	r := startWatch(t, dbPath, watch.Options{Paths: []string{live}, State: state, Window: 30 * 24 * time.Hour,
		Every: 5 * time.Millisecond, OnDetection: func(d behavior.Detection) {
			mu.Lock()
			raised[d.ID]++
			mu.Unlock()
		}})
	waitFor(t, "the logs", func() bool {
		return caughtUp(t, state, filepath.Join(live, "dns.log"), filepath.Join(live, "ssl.log"))
	})
	time.Sleep(100 * time.Millisecond) // many evaluations of the same window
	st := r.stop(t)
	var got []string
	for id, n := range raised {
		got = append(got, id)
		if n != 1 {
			t.Errorf("detection %s raised %d times", id, n)
		}
	}
	sort.Strings(got)
	if !equalStrings(got, want) {
		t.Errorf("raised %v\nscan gives %v", got, want)
	}
	if st.Detections != len(want) {
		t.Errorf("stats say %d detections, want %d", st.Detections, len(want))
	}
	db, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stored := 0
	db.Detections(context.Background(), func(*behavior.Detection) error { stored++; return nil })
	if stored != len(want) {
		t.Errorf("%d detections stored, want %d", stored, len(want))
	}
}

// scanDetections are the ids of the detections a scan of dir gives that
// are not suppressed and reach the threshold.
func scanDetections(t *testing.T, dir string) []string {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "scan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	importInto(t, db, needShared(t, "intel", "apt1"))
	res, err := hunt.Scan(context.Background(), db, hunt.ScanOptions{Paths: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	th := behavior.DefaultConfig().Threshold
	var ids []string
	for _, d := range res.Detections {
		if !d.Suppressed && d.Score >= th {
			ids = append(ids, d.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

func joinAll(lines []string) string {
	n := 0
	for _, l := range lines {
		n += len(l)
	}
	b := make([]byte, 0, n)
	for _, l := range lines {
		b = append(b, l...)
	}
	return string(b)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
