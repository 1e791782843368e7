package watch_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/scenario"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
	"github.com/whodunit-project/whodunit/internal/watch"
)

var sharedData = filepath.Join("..", "..", "..", "shared", "data")

func needShared(t testing.TB, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{sharedData}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data not available (%s): %v", p, err)
	}
	return p
}

// zeekLog is a real Zeek log cut into its header and its records.
type zeekLog struct {
	header  []string // the '#' lines before the first record, with newlines
	records []string // with newlines
	close   string   // the #close line, when the log has one
}

func (l *zeekLog) head() string { return strings.Join(l.header, "") }

// scenarioLogs writes a scenario — real WRCCDC DNS and TLS logs with APT1
// C2 traffic injected — and returns its logs and the injected truths.
func scenarioLogs(t testing.TB) (map[string]*zeekLog, []*scenario.Truth) {
	t.Helper()
	bg := needShared(t, "telemetry", "zeek", "wrccdc-2018")
	dir := t.TempDir()
	m, err := scenario.Generate(scenario.Spec{Background: bg, Out: dir, Seed: 18, Days: 2, Files: []string{"dns", "ssl"},
		MaxBackgroundLines: 3000, Actors: []scenario.Actor{{Name: "APT1",
			Domains: []string{"hugesoft.org", "msnhome.org", "arrowservice.net"}, IPs: []string{"223.166.10.20"},
			UTCOffset: 8, Victims: 2, Sessions: 10, Beacon: 30 * time.Minute, Jitter: 0.2}}})
	if err != nil {
		t.Fatal(err)
	}
	logs := map[string]*zeekLog{}
	for _, name := range []string{"dns", "ssl"} {
		logs[name] = readLog(t, filepath.Join(dir, name+".log.gz"))
	}
	return logs, m.Truths
}

func readLog(t testing.TB, path string) *zeekLog {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	l := &zeekLog{}
	br := bufio.NewReader(zr)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			switch {
			case strings.HasPrefix(line, "#close"):
				l.close = line
			case strings.HasPrefix(line, "#") && len(l.records) == 0:
				l.header = append(l.header, line)
			default:
				l.records = append(l.records, line)
			}
		}
		if err != nil {
			break
		}
	}
	if len(l.records) == 0 {
		t.Fatalf("%s: no records", path)
	}
	return l
}

// watchDirs makes a test's directory with a store of the real APT1
// indicators (w.db) and an empty directory to watch (live).
func watchDirs(t testing.TB) (dir, dbPath, live string) {
	t.Helper()
	dir = t.TempDir()
	dbPath = filepath.Join(dir, "w.db")
	apt1Store(t, dbPath)
	live = filepath.Join(dir, "live")
	if err := os.Mkdir(live, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, dbPath, live
}

// apt1Store is a fresh SQLite store with the real APT1 indicators.
func apt1Store(t testing.TB, path string) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	importInto(t, db, needShared(t, "intel", "apt1"))
}

func importInto(t testing.TB, db hunt.ImportTarget, paths ...string) {
	t.Helper()
	res, err := hunt.Import(context.Background(), db, hunt.ImportOptions{Paths: paths})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Path, r.Err)
		}
	}
}

// scanKeys scans files, against a fresh store of the APT1 indicators, (each written alone in a directory under the name
// it had while watched) with hunt.Scan and returns the unsuppressed and
// all sighting keys: what watching those files must give.
func scanKeys(t testing.TB, files map[string]string) (alerts, all map[string]bool) {
	t.Helper()
	return scanKeysWith(t, []string{needShared(t, "intel", "apt1")}, files)
}

// scanKeysWith is scanKeys against a fresh store of the intelligence at
// intelPaths.
func scanKeysWith(t testing.TB, intelPaths []string, files map[string]string) (alerts, all map[string]bool) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ref.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	importInto(t, db, intelPaths...)
	alerts, all = map[string]bool{}, map[string]bool{}
	i := 0
	for name, content := range files {
		dir := filepath.Join(t.TempDir(), "ref", string(rune('a'+i)))
		i++
		name = strings.SplitN(name, "#", 2)[0] // "dns.log#2": a second file of that name
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := hunt.Scan(ctx, db, hunt.ScanOptions{Paths: []string{dir}, NoBehavior: true, OnSighting: func(s match.Sighting) {
			all[s.Key()] = true
			if !s.Suppressed {
				alerts[s.Key()] = true
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return alerts, all
}

// readAlerts reads an alerts file.
func readAlerts(t testing.TB, path string) []watch.Alert {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []watch.Alert
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if line == "" {
			continue
		}
		var a watch.Alert
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("%s:%d: %v", path, i+1, err)
		}
		out = append(out, a)
	}
	return out
}

// checkExactlyOnce fails unless the alerts are want, each exactly once.
func checkExactlyOnce(t testing.TB, got []watch.Alert, want map[string]bool) {
	t.Helper()
	seen := map[string]int{}
	for _, a := range got {
		seen[a.Key]++
		if seen[a.Key] == 2 {
			t.Errorf("alert raised twice: %s %s=%s %s:%d", a.Key, a.Field, a.Value, a.File, a.Line)
		}
		if !want[a.Key] {
			t.Errorf("alert a scan does not give: %s=%s %s:%d (source %s)", a.Field, a.Value, a.File, a.Line, a.Source)
		}
	}
	var missing []string
	for k := range want {
		if seen[k] == 0 {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%d of %d alerts missing, e.g. %s", len(missing), len(want), missing[0])
	}
}

// waitFor polls cond until it holds or a generous deadline passes (the
// machine is shared: this is a hang guard, not a timing).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// caughtUp reports whether the checkpoint at state has read every file
// of files to its size.
func caughtUp(t testing.TB, state string, files ...string) bool {
	cp, err := watch.ReadCheckpoint(state)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return false
		}
		ok := false
		for _, m := range cp.Files {
			if m.Path == f && m.Offset == fi.Size() {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func appendFile(t testing.TB, path string, parts ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range parts {
		if _, err := f.WriteString(p); err != nil {
			t.Fatal(err)
		}
	}
}

// waitLimit bounds every wait of these tests.
const waitLimit = 2 * time.Minute

// apt1Names are the C2 names scenarioLogs injects.
var apt1Names = []string{"hugesoft.org", "msnhome.org", "arrowservice.net"}

// spread reorders records so that those carrying an injected name are
// spread evenly among the others (the scenario appends most of them after
// the background's short time span), so that every part of a split log
// has hits.
func spread(records []string) []string {
	var hits, rest []string
	for _, r := range records {
		hit := false
		for _, n := range apt1Names {
			hit = hit || strings.Contains(r, n)
		}
		if hit {
			hits = append(hits, r)
		} else {
			rest = append(rest, r)
		}
	}
	if len(hits) == 0 {
		return records
	}
	out := make([]string, 0, len(records))
	step := len(rest) / len(hits)
	for i, h := range hits {
		out = append(out, rest[i*step:(i+1)*step]...)
		out = append(out, h)
	}
	return append(out, rest[len(hits)*step:]...)
}

// countHits counts the records of text that carry an injected name.
func countHits(text string) int {
	n := 0
	for _, name := range apt1Names {
		n += strings.Count(text, name)
	}
	return n
}
