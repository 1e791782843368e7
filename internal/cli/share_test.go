package cli

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/apikey"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/scenario"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

const sharedRoot = "../../../shared/data"

// startServe runs `whodunit serve` on db (with more flags) until the test
// ends and returns its TAXII discovery URL.
func startServe(t *testing.T, db string, flags ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr lockedBuffer
	done := make(chan int, 1)
	args := append([]string{"--db", db, "serve", "--listen", "127.0.0.1:0", "--org", "CERT A"}, flags...)
	go func() {
		done <- Main(ctx, args, strings.NewReader(""), io.Discard, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(2 * time.Minute):
			t.Error("serve did not stop")
		}
	})
	return waitFor(t, &stderr, regexp.MustCompile(`serving TAXII 2.1 at (http://[0-9.:]+/taxii2/)`))
}

// partnerKey stores a key for a partner that may read intel and write the
// inbox, up to TLP:AMBER.
func partnerKey(t *testing.T, path, name string) string {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rec, text, err := apikey.New(name, tlp.Ceiling{Max: tlp.Amber}, false, []string{"intel"}, []string{"inbox"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutKey(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	return text
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := runMain(args...)
	if code != 0 {
		t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, errs)
	}
	return out
}

// objectCounts is `intel stats --json`'s count by type.
func objectCounts(t *testing.T, db string) map[string]int {
	t.Helper()
	var st struct {
		Objects map[string]int `json:"objects"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "--db", db, "--json", "intel", "stats")), &st); err != nil {
		t.Fatal(err)
	}
	return st.Objects
}

// The feedback loop of the sharing issue: A publishes intelligence, B
// pulls it, scans its own logs, and pushes its sightings back; A then
// shows who sighted its indicators and how often.
func TestShareFeedbackLoop(t *testing.T) {
	if _, err := os.Stat(sharedRoot); err != nil {
		t.Skip("shared data not present")
	}
	dir := t.TempDir()
	dbA, dbB := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	mustRun(t, "--db", dbA, "intel", "import", sharedRoot+"/intel/stix/apt1.json")
	key := partnerKey(t, dbA, "cert-b")
	url := startServe(t, dbA)

	// Small pages, so the pull pages and records where it stopped.
	out := mustRun(t, "--db", dbB, "intel", "pull", url, "--collection", "intel", "--key", key, "--limit", "7")
	if !strings.Contains(out, "intel: ") || !strings.Contains(out, "next pull asks for what was added after") {
		t.Fatalf("pull said:\n%s", out)
	}
	a, b := objectCounts(t, dbA), objectCounts(t, dbB)
	for typ, n := range a {
		if b[typ] != n {
			t.Errorf("%s: A holds %d, B pulled %d", typ, n, b[typ])
		}
	}
	// Pulling again asks only for what was added since: nothing.
	if again := mustRun(t, "--db", dbB, "intel", "pull", "--key", key); !strings.Contains(again, "0 object(s) received") {
		t.Fatalf("second pull:\n%s", again)
	}

	logs := scenarioLogs(t, dir)
	mustRun(t, "--db", dbB, "scan", logs)
	perIndicator := sightingsByIndicator(t, dbB)
	if len(perIndicator) == 0 {
		t.Fatal("B's scan found no sighting of A's indicators")
	}
	total := 0
	for _, n := range perIndicator {
		total += n
	}
	pushed := mustRun(t, "--db", dbB, "share", "push", url, "--collection", "inbox", "--key", key)
	if want := regexp.MustCompile(`^(\d+) sighting\(s\) sent`).FindStringSubmatch(pushed); want == nil || want[1] != strconv.Itoa(total) {
		t.Fatalf("push sent %v, B holds %d sightings:\n%s", want, total, pushed)
	}
	for id, n := range perIndicator {
		show := mustRun(t, "--db", dbA, "intel", "show", id)
		if !strings.Contains(show, "Sighted by cert-b, "+strconv.Itoa(n)+" time(s)") {
			t.Errorf("A's view of %s (B saw it %d times):\n%s", id, n, show)
		}
	}
	// Pushing again changes nothing: the same sightings have the same ids.
	mustRun(t, "--db", dbB, "share", "push", url, "--collection", "inbox", "--key", key)
	for id, n := range perIndicator {
		if show := mustRun(t, "--db", dbA, "intel", "show", id); !strings.Contains(show, "Sighted by cert-b, "+strconv.Itoa(n)+" time(s)") {
			t.Errorf("after a second push, A's view of %s:\n%s", id, show)
		}
	}
}

// scenarioLogs injects APT1's C2 names and an address of its ranges, as
// A's bundle gives them, into real WRCCDC logs.
func scenarioLogs(t *testing.T, dir string) string {
	t.Helper()
	logs := filepath.Join(dir, "logs")
	_, err := scenario.Generate(scenario.Spec{
		Background: sharedRoot + "/telemetry/zeek/wrccdc-2018", Out: logs, Seed: 7, Days: 3,
		Files: []string{"dns", "ssl"}, MaxBackgroundLines: 3000,
		Actors: []scenario.Actor{{Name: "APT1", Domains: []string{"hugesoft.org", "arrowservice.net"}, IPs: []string{"223.166.12.34"},
			UTCOffset: 8, Victims: 2, Sessions: 6, Beacon: time.Hour, Jitter: 0.2}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return logs
}

// sightingsByIndicator counts B's stored sightings per indicator.
func sightingsByIndicator(t *testing.T, db string) map[string]int {
	t.Helper()
	out := mustRun(t, "--db", db, "--json", "sightings")
	counts := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var sg match.Sighting
		if err := json.Unmarshal([]byte(line), &sg); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		counts[sg.IndicatorID]++
	}
	return counts
}
