package cli

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// `serve --pull-every` keeps B's subscription to A fresh: what A imports
// after B subscribed reaches B at a later round, once, with the key from
// --pull-key-dir; and `intel pull --every` runs its rounds until it is
// stopped, then exits cleanly.
func TestPullsOnASchedule(t *testing.T) {
	if _, err := os.Stat(sharedRoot); err != nil {
		t.Skip("shared data not present")
	}
	t.Parallel()
	dir := t.TempDir()
	dbA, dbB := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	mustRun(t, "--db", dbA, "intel", "import", sharedRoot+"/intel/stix/apt1.json")
	key := partnerKey(t, dbA, "cert-b")
	url := startServe(t, dbA)
	mustRun(t, "--db", dbB, "intel", "pull", url, "--collection", "intel", "--key", key)
	before := objectCounts(t, dbB)["indicator"]

	keys := filepath.Join(dir, "keys")
	if err := os.Mkdir(keys, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(keys, "intel"), []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	startServe(t, dbB, "--pull-every", "200ms", "--pull-key-dir", keys)
	list := filepath.Join(dir, "more.txt")
	if err := os.WriteFile(list, []byte("sched-1.example\nsched-2.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "--db", dbA, "intel", "import", list)
	deadline := time.Now().Add(2 * time.Minute)
	for objectCounts(t, dbB)["indicator"] != before+2 {
		if time.Now().After(deadline) {
			t.Fatalf("B holds %d indicators, want %d after A added 2", objectCounts(t, dbB)["indicator"], before+2)
		}
		time.Sleep(100 * time.Millisecond)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"--db", dbB, "intel", "pull", "--every", "100ms", "--key-dir", keys},
			strings.NewReader(""), &stdout, &stderr)
	}()
	waitFor(t, &stdout, regexp.MustCompile(`(?s)(0 object\(s\) received.*0 object\(s\) received)`))
	cancel()
	select {
	case code := <-done:
		if code != 0 || objectCounts(t, dbB)["indicator"] != before+2 {
			t.Fatalf("intel pull --every: exit %d, %d indicators\n%s", code, objectCounts(t, dbB)["indicator"], stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("intel pull --every did not stop")
	}
}
