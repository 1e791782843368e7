package watch_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/cli"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

// childArgs in the environment makes the test binary run the command line
// with these arguments instead of the tests: the watcher that gets killed.
const childArgs = "WHODUNIT_WATCH_CHILD_ARGS"

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

// child runs whodunit args in a child process.
func child(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	a, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childArgs+"="+string(a))
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

func kill(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
}

// TestKillRestartRotate runs the watcher as a child process over real
// Zeek DNS and TLS logs with injected APT1 traffic, appends to them, kills
// it with SIGKILL, restarts it, rotates the DNS log into a dated folder while it is down,
// kills and restarts it again: in the end every hit a scan of the same
// files finds is in the alerts file exactly once, and the store holds the
// same sightings as that scan.
func TestKillRestartRotate(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes")
	}
	logs, _ := scenarioLogs(t)
	dir, dbPath, live := watchDirs(t)
	state, alerts := filepath.Join(dir, "state.json"), filepath.Join(dir, "alerts.jsonl")
	args := []string{"watch", "-q", "--db", dbPath, "--state", state, "--alerts", alerts, "--no-behavior",
		"--poll", "10ms", "--settle", "100ms", live}
	dnsPath, sslPath := filepath.Join(live, "dns.log"), filepath.Join(live, "ssl.log")
	dns, ssl := logs["dns"], logs["ssl"]
	dnsParts, sslParts := split(spread(dns.records), 8), split(spread(ssl.records), 8)
	for i, p := range dnsParts {
		if countHits(p) == 0 {
			t.Fatalf("part %d of the DNS log has no injected record", i)
		}
	}
	os.WriteFile(dnsPath, []byte(dns.head()+dnsParts[0]), 0o644)
	os.WriteFile(sslPath, []byte(ssl.head()+sslParts[0]), 0o644)
	ref := map[string]string{}

	// run 1: killed while records are being appended
	w := child(t, args...)
	waitFor(t, "the first checkpoint", func() bool { return caughtUp(t, state, dnsPath) })
	for i := 1; i < 4; i++ {
		appendFile(t, dnsPath, dnsParts[i])
		appendFile(t, sslPath, sslParts[i])
		time.Sleep(15 * time.Millisecond)
	}
	kill(t, w)

	// run 2: killed; then, while no watcher runs, the DNS log gets its
	// last records and is rotated into Zeek's dated archive folder
	// (YYYY-MM-DD/dns.HH:MM:SS-HH:MM:SS.log) and a new log started
	w = child(t, args...)
	appendFile(t, sslPath, sslParts[4])
	waitFor(t, "the second run", func() bool { return caughtUp(t, state, sslPath) })
	kill(t, w)
	appendFile(t, dnsPath, dnsParts[4], dns.close)
	ref["dns.log"] = dns.head() + strings.Join(dnsParts[:5], "") + dns.close
	archive := filepath.Join(live, "2026-12-02")
	os.Mkdir(archive, 0o755)
	if err := os.Rename(dnsPath, filepath.Join(archive, "dns.05:00:00-06:00:00.log")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(dnsPath, []byte(dns.head()+dnsParts[5]), 0o644)

	// run 3: killed again, then run 4 reads to the end and is stopped
	w = child(t, args...)
	waitFor(t, "the third run", func() bool { return caughtUp(t, state, dnsPath) })
	appendFile(t, dnsPath, dnsParts[6])
	appendFile(t, sslPath, sslParts[5], sslParts[6])
	time.Sleep(20 * time.Millisecond)
	kill(t, w)
	w = child(t, args...)
	appendFile(t, dnsPath, dnsParts[7])
	appendFile(t, sslPath, sslParts[7])
	ref["dns.log#2"] = dns.head() + strings.Join(dnsParts[5:], "")
	ref["ssl.log"] = ssl.head() + strings.Join(sslParts, "")
	want, all := scanKeys(t, ref)
	waitFor(t, "every record", func() bool {
		return caughtUp(t, state, dnsPath, sslPath) && len(readAlerts(t, alerts)) >= len(want)
	})
	_ = w.Process.Signal(syscall.SIGTERM)
	if err := w.Wait(); err != nil {
		t.Fatalf("watcher stopped by SIGTERM: %v", err)
	}
	checkExactlyOnce(t, readAlerts(t, alerts), want)
	if got := storedKeys(t, dbPath); !sameKeys(got, all) {
		t.Errorf("store holds %d sightings, a scan of the same files gives %d", len(got), len(all))
	}
	if len(want) == 0 {
		t.Fatal("the scan found nothing: the test checked nothing")
	}
}

// split cuts records into n runs of lines.
func split(records []string, n int) []string {
	out := make([]string, n)
	for i := range n {
		out[i] = strings.Join(records[i*len(records)/n:(i+1)*len(records)/n], "")
	}
	return out
}

func storedKeys(t *testing.T, path string) map[string]bool {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keys := map[string]bool{}
	if err := db.Sightings(context.Background(), store.SightingQuery{}, func(s *match.Sighting) error {
		keys[s.Key()] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}

func sameKeys(a, b map[string]bool) bool {
	x, y := make([]string, 0, len(a)), make([]string, 0, len(b))
	for k := range a {
		x = append(x, k)
	}
	for k := range b {
		y = append(y, k)
	}
	sort.Strings(x)
	sort.Strings(y)
	return strings.Join(x, ",") == strings.Join(y, ",")
}
