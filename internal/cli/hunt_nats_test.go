package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/whodunit-project/whodunit/internal/queue"
	"github.com/whodunit-project/whodunit/internal/queue/natstest"
	"github.com/whodunit-project/whodunit/internal/report"
)

// startWorker runs `whodunit worker` on the prefix until the test ends,
// and deletes the prefix's streams and buckets afterwards.
func startWorker(t *testing.T, url, prefix string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"worker", "--nats", url, "--nats-prefix", prefix, "--workers", "2"}, strings.NewReader(""), io.Discard, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		nc, err := nats.Connect(url)
		if err != nil {
			t.Error(err)
			return
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		tctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
		defer stop()
		if err := queue.Teardown(tctx, js, queue.NamesFor(prefix)); err != nil {
			t.Errorf("teardown: %v", err)
		}
	})
}

// `hunt --nats` scans through workers and ends with the same campaigns,
// attributions and counts as a local hunt of the same real logs.
func TestHuntThroughWorkersEqualsLocal(t *testing.T) {
	if _, err := os.Stat(sharedRoot); err != nil {
		t.Skip("shared data not present")
	}
	url := natstest.URL(t)
	var b [4]byte
	_, _ = rand.Read(b[:])
	prefix := "WDHUNT" + strings.ToUpper(hex.EncodeToString(b[:]))
	startWorker(t, url, prefix)
	dir := t.TempDir()
	logs := scenarioLogs(t, dir)
	args := []string{"hunt", "--intel", sharedRoot + "/intel/stix/apt1.json", "--logs", logs}
	local := huntDoc(t, append(args, "--out", filepath.Join(dir, "local")))
	remote := huntDoc(t, append(args, "--out", filepath.Join(dir, "remote"), "--nats", url, "--nats-prefix", prefix))
	if local.Summary != remote.Summary || local.Summary.Sightings == 0 {
		t.Fatalf("summaries differ or are empty:\nlocal  %+v\nremote %+v", local.Summary, remote.Summary)
	}
	if len(local.Campaigns) == 0 || len(local.Campaigns) != len(remote.Campaigns) {
		t.Fatalf("%d campaigns locally, %d through workers", len(local.Campaigns), len(remote.Campaigns))
	}
	t.Logf("%d campaigns, %d sightings, the same both ways", len(local.Campaigns), local.Summary.Sightings)
	// The flag is wired: with no server there, the hunt fails.
	if code, _, errs := runMain(append(args, "--out", filepath.Join(dir, "none"), "--nats", "nats://127.0.0.1:1")...); code == 0 || !strings.Contains(errs, "NATS") {
		t.Fatalf("hunt --nats with no server: exit %d: %s", code, errs)
	}
	for i, lc := range local.Campaigns {
		rc := remote.Campaigns[i]
		la, ra := lc.Attribution, rc.Attribution
		if lc.ID != rc.ID || lc.Sightings != rc.Sightings || la.Actor != ra.Actor || la.Estimate != ra.Estimate || la.Likelihood != ra.Likelihood {
			t.Errorf("campaign %d: local %s %d %s %s %.3f, workers %s %d %s %s %.3f", i,
				lc.ID, lc.Sightings, la.Actor, la.Estimate, la.Likelihood, rc.ID, rc.Sightings, ra.Actor, ra.Estimate, ra.Likelihood)
		}
	}
}

func huntDoc(t *testing.T, args []string) report.Document {
	t.Helper()
	mustRun(t, args...)
	out := args[len(args)-1]
	for i, a := range args {
		if a == "--out" {
			out = args[i+1]
		}
	}
	data, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc report.Document
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// A hunt keeps its compiled snapshot beside its own database in --out,
// not beside the default database in the working directory.
func TestHuntKeepsSnapshotCacheBesideItsStore(t *testing.T) {
	if _, err := os.Stat(sharedRoot); err != nil {
		t.Skip("shared data not present")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "case")
	mustRun(t, "hunt", "--intel", sharedRoot+"/intel/stix/apt1.json", "--logs", scenarioLogs(t, dir), "--out", out)
	if snaps, _ := filepath.Glob(filepath.Join(out, "whodunit.db.snapshot", "*.snap")); len(snaps) != 1 {
		t.Errorf("snapshot cache beside the hunt's store: %v", snaps)
	}
	if _, err := os.Stat("whodunit.db.snapshot"); err == nil {
		t.Error("the hunt wrote a snapshot cache into the working directory")
	}
}
