package watch_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/store/sqlite"
	"github.com/whodunit-project/whodunit/internal/watch"
)

// TestFollowZeekJSONFile follows one file given by itself — the real
// WRCCDC TLS log as Zeek JSON lines — appended in three writes, one
// ending in half a record, against a feed of server names that occur in
// it: the alerts are a scan's of the same file, each once.
func TestFollowZeekJSONFile(t *testing.T) {
	src := filepath.Join(needShared(t, "telemetry", "zeek", "wrccdc-2018", "json"), "ssl.json.gz")
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() && len(lines) < 20000 {
		lines = append(lines, sc.Text()+"\n")
	}
	dir := t.TempDir()
	// server names seen a few times in the first 20,000 records
	feed := filepath.Join(dir, "names.txt")
	os.WriteFile(feed, []byte("www.dovecot.org\nct230.dsr.livefyre.com\nshavar.services.mozilla.com\n"), 0o644)
	dbPath := filepath.Join(dir, "w.db")
	db, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	importInto(t, db, feed)
	db.Close()

	content := strings.Join(lines, "")
	path := filepath.Join(dir, "ssl.json")
	third := len(content) / 3
	os.WriteFile(path, []byte(content[:third]), 0o644)
	state, alerts := filepath.Join(dir, "state.json"), filepath.Join(dir, "alerts.jsonl")
	r := startWatch(t, dbPath, watch.Options{Paths: []string{path}, State: state, AlertsFile: alerts, NoBehavior: true})
	appendFile(t, path, content[third:2*third])
	appendFile(t, path, content[2*third:])
	waitFor(t, "the file", func() bool { return caughtUp(t, state, path) })
	r.stop(t)
	want, _ := scanKeysWith(t, []string{feed}, map[string]string{"ssl.json": content})
	if len(want) < 3 {
		t.Fatalf("the scan finds %d sightings", len(want))
	}
	checkExactlyOnce(t, readAlerts(t, alerts), want)
}
