package watch_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
	"github.com/whodunit-project/whodunit/internal/watch"
)

type storeCloser interface {
	watch.Store
	Close() error
}

// running is a watcher run in this process.
type running struct {
	cancel context.CancelFunc
	done   chan error
	stats  watch.Stats
	snaps  atomic.Int64
}

func (r *running) snapshots() int64 { return r.snaps.Load() }

func startWatch(t *testing.T, dbPath string, opt watch.Options) *running {
	return startWatchB(t, dbPath, opt)
}

func startWatchB(t testing.TB, dbPath string, opt watch.Options) *running {
	t.Helper()
	db, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	return startWatchOn(t, db, opt)
}

// startWatchOn runs the watcher on db, which it closes when it ends.
func startWatchOn(t testing.TB, db storeCloser, opt watch.Options) *running {
	t.Helper()
	if opt.Poll == 0 {
		opt.Poll = 20 * time.Millisecond
	}
	if opt.Settle == 0 {
		opt.Settle = 100 * time.Millisecond
	}
	if opt.Log == nil && testing.Verbose() {
		opt.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1)}
	opt.OnSnapshot = func(*match.Snapshot) { r.snaps.Add(1) }
	go func() {
		st, err := watch.Run(ctx, db, opt)
		r.stats = st
		db.Close()
		r.done <- err
	}()
	return r
}

func (r *running) stop(t *testing.T) watch.Stats { return r.stopB(t) }

func (r *running) stopB(t testing.TB) watch.Stats {
	t.Helper()
	r.cancel()
	if err := <-r.done; err != nil {
		t.Fatal(err)
	}
	return r.stats
}

// TestWatchAppendRotatePartial follows a real Zeek DNS log with injected
// APT1 traffic while it is appended to (a record split across two
// writes), rotated as Zeek rotates (renamed to a dated archive, a new log
// started) and appended again: every hit a scan of the same files finds
// alerts exactly once, and nothing else.
func TestWatchAppendRotatePartial(t *testing.T) {
	logs, truths := scenarioLogs(t)
	dir, dbPath, live := watchDirs(t)
	dns := logs["dns"]
	records := spread(dns.records)
	n := len(records)
	first := dns.head() + strings.Join(records[:n/3], "")
	mid := strings.Join(records[n/3:2*n/3], "")
	second := dns.head() + strings.Join(records[2*n/3:], "")
	if countHits(first) == 0 || countHits(mid) == 0 || countHits(second) == 0 {
		t.Fatal("a part of the log has no injected record")
	}
	path := filepath.Join(live, "dns.log")
	os.WriteFile(path, []byte(first), 0o644)

	state, alerts := filepath.Join(dir, "state.json"), filepath.Join(dir, "alerts.jsonl")
	r := startWatch(t, dbPath, watch.Options{Paths: []string{live}, State: state, AlertsFile: alerts, NoBehavior: true})
	waitFor(t, "the first part", func() bool { return caughtUp(t, state, path) })
	// half a record, then the rest of it
	cut := len(mid) / 2
	for mid[cut] != '\t' {
		cut++
	}
	appendFile(t, path, mid[:cut])
	time.Sleep(100 * time.Millisecond) // several polls see the partial line
	if caughtUp(t, state, path) {
		t.Fatal("a partial last line was taken as a record")
	}
	appendFile(t, path, mid[cut:], dns.close)
	waitFor(t, "the second part", func() bool { return caughtUp(t, state, path) })
	archive := filepath.Join(live, "dns.2026-12-02-05-00-00.log")
	if err := os.Rename(path, archive); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte(second), 0o644)
	waitFor(t, "the new log", func() bool { return caughtUp(t, state, path) })
	st := r.stop(t)

	want, _ := scanKeys(t, map[string]string{"dns.log": first + mid + dns.close, "dns.log#2": second})
	got := readAlerts(t, alerts)
	t.Logf("%d alerts, %d from the scan", len(got), len(want))
	checkExactlyOnce(t, got, want)
	if st.Alerts != int64(len(got)) {
		t.Errorf("stats say %d alerts, the file has %d", st.Alerts, len(got))
	}
	hits := 0
	for _, tr := range truths {
		if tr.Field == "dns.query" && strings.HasSuffix(tr.File, "dns.log.gz") {
			hits++
			if !alerted(got, tr.Value, tr.Time) {
				t.Errorf("injected %s at %s not alerted", tr.Value, tr.Time)
			}
		}
	}
	if hits == 0 || len(got) < hits {
		t.Fatalf("%d alerts for %d injected DNS hits", len(got), hits)
	}
}

func alerted(got []watch.Alert, value string, at time.Time) bool {
	for _, a := range got {
		if strings.EqualFold(a.Value, value) && a.Time.Sub(at).Abs() < time.Millisecond {
			return true
		}
	}
	return false
}
