package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/obsindex"
	"github.com/whodunit-project/whodunit/internal/queue/natstest"
	"github.com/whodunit-project/whodunit/internal/scan"
	"github.com/whodunit-project/whodunit/internal/scenario"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/formats"
)

// sharedData is ../shared/data seen from this package.
var sharedData = filepath.Join("..", "..", "..", "shared", "data")

func needShared(t testing.TB, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{sharedData}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data not available (%s): %v", p, err)
	}
	return p
}

// natsURL is a JetStream server for t (see natstest).
func natsURL(t testing.TB) string { return natstest.URL(t) }

// testNames are names with a random prefix, deleted at the end.
func testNames(t testing.TB, url string) Names {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	n := NamesFor("WDT" + strings.ToUpper(hex.EncodeToString(b[:])))
	t.Cleanup(func() {
		nc, err := nats.Connect(url)
		if err != nil {
			t.Errorf("teardown: %v", err)
			return
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := Teardown(ctx, js, n); err != nil {
			t.Errorf("teardown: %v", err)
		}
	})
	return n
}

func connect(t testing.TB, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// fixture is real Zeek logs with APT1 activity injected, and a store
// holding the real APT1 indicators.
type fixture struct {
	paths  []string
	intel  []string
	source string
}

// scenarioSize is how much of the background a scenario copies (0: all
// of it) and over how many days the actor is active.
type scenarioSize struct{ lines, days int }

// scenarios caches the generated scenario directories: generating one
// takes seconds.
var (
	scenarioMu sync.Mutex
	scenarios  = map[scenarioSize]string{}
)

func newFixture(t testing.TB) fixture { return fixtureOf(t, scenarioSize{days: 21}) }

// newSmallFixture is the same scenario over 3 days on the first 5000
// lines of each background log: small enough for the fault tests to scan
// it in seconds under -race.
func newSmallFixture(t testing.TB) fixture { return fixtureOf(t, scenarioSize{lines: 5000, days: 3}) }

func fixtureOf(t testing.TB, size scenarioSize) fixture {
	t.Helper()
	apt1 := needShared(t, "intel", "apt1")
	bg := needShared(t, "telemetry", "zeek", "wrccdc-2018")
	strat := needShared(t, "telemetry", "zeek", "stratosphere", "001-zeek-scenario-malicious")
	scenarioMu.Lock()
	defer scenarioMu.Unlock()
	dir, ok := scenarios[size]
	if !ok {
		var err error
		if dir, err = os.MkdirTemp("", "whodunit-queue-*"); err != nil {
			t.Fatal(err)
		}
		scenarios[size] = dir
		if _, err := scenario.Generate(scenario.Spec{Background: bg, Out: filepath.Join(dir, "scenario"), Seed: 7, Days: size.days,
			Files: []string{"dns", "ssl"}, MaxBackgroundLines: size.lines, Actors: []scenario.Actor{{Name: "APT1",
				Domains: []string{"hugesoft.org", "msnhome.org", "arrowservice.net"}, IPs: []string{"223.166.10.20", "58.246.3.4"},
				UTCOffset: 8, Victims: 3, Sessions: 60, Beacon: 10 * time.Minute, Jitter: 0.2}}}); err != nil {
			delete(scenarios, size)
			os.RemoveAll(dir)
			t.Fatal(err)
		}
	}
	return fixture{paths: []string{filepath.Join(dir, "scenario"), strat}, intel: []string{apt1}}
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, dir := range scenarios {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

func (f fixture) store(t testing.TB) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	results, err := hunt.Import(ctx, db, hunt.ImportOptions{Paths: f.intel})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Path, r.Err)
		}
	}
	return db
}

func (f fixture) scanOptions() hunt.ScanOptions {
	return hunt.ScanOptions{Paths: f.paths, SourceName: f.source}
}

// startWorkers runs n worker processes (each its own connection) until
// the returned stop is called.
func startWorkers(t testing.TB, url string, names Names, set Settings, n int) (stop func()) {
	t.Helper()
	return startWorkersWith(t, url, n, WorkerOptions{Names: names, Settings: set})
}

// startWorkersWith runs n worker processes of the options opt, each on
// its own connection made with conn.
func startWorkersWith(t testing.TB, url string, n int, opt WorkerOptions, conn ...nats.Option) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range n {
		nc := connect(t, url, conn...)
		opt := opt
		opt.Workers, opt.Registry, opt.ID, opt.Log = 1, registry(), "w"+string(rune('0'+i)), testLog(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := RunWorker(ctx, nc, opt); err != nil && ctx.Err() == nil {
				t.Errorf("worker %d: %v", i, err)
			}
		}()
	}
	return func() { cancel(); wg.Wait() }
}

// testLog shows a component's warnings and errors in the test's log (on
// failure, or with -v), and drops what comes after the test's end.
func testLog(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct {
	t    testing.TB
	mu   sync.Mutex
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

// findings is what a scan left in its store, in a comparable form.
type findings struct {
	keys       []string
	detections []string
	index      []string // each observation as JSON, in key order
}

func stored(t testing.TB, db *sqlite.Store) findings {
	t.Helper()
	ctx := context.Background()
	var f findings
	if err := db.Sightings(ctx, store.SightingQuery{}, func(s *match.Sighting) error {
		f.keys = append(f.keys, s.Key()+" "+s.Source+" "+s.Value)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Detections(ctx, func(d *behavior.Detection) error {
		b, err := json.Marshal(d)
		f.detections = append(f.detections, string(b))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Observations(ctx, store.ObservationQuery{}, func(o *obsindex.Observation) error {
		b, err := json.Marshal(o)
		f.index = append(f.index, string(b))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(f.keys)
	sort.Strings(f.detections)
	return f
}

// comparable drops what differs between runs by nature: the duration.
func comparableSummary(s scan.Summary) scan.Summary {
	s.Duration = 0
	return s
}

func registry() *telemetry.Registry { return formats.Default(formats.Options{}) }
