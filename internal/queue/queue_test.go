package queue

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"

	"github.com/whodunit-project/whodunit/internal/hunt"
)

// localScan is the reference: hunt.Scan in one process.
func localScan(t *testing.T, f fixture) (*hunt.ScanResult, findings) {
	t.Helper()
	db := f.store(t)
	res, err := hunt.Scan(context.Background(), db, f.scanOptions())
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Sightings == 0 || hunt.Above(res.Detections) == 0 {
		t.Fatalf("the fixture finds nothing (%d sightings, %d detections above threshold): the comparison would prove nothing",
			res.Summary.Sightings, hunt.Above(res.Detections))
	}
	return res, stored(t, db)
}

func distributedScan(t *testing.T, f fixture, url string, names Names, shared bool) (*hunt.ScanResult, findings) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	db := f.store(t)
	nc := connect(t, url)
	res, err := Scan(ctx, nc, db, ScanOptions{ScanOptions: f.scanOptions(), Names: names, Shared: shared, ChunkSize: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	return res, stored(t, db)
}

func sameAsLocal(t *testing.T, local *hunt.ScanResult, lf findings, got *hunt.ScanResult, gf findings) {
	t.Helper()
	if d := cmp.Diff(comparableSummary(local.Summary), comparableSummary(got.Summary)); d != "" {
		t.Errorf("summary differs from the local scan (-local +queue):\n%s", d)
	}
	if d := cmp.Diff(lf.keys, gf.keys); d != "" {
		t.Errorf("stored sightings differ (-local +queue):\n%s", d)
	}
	if d := cmp.Diff(lf.detections, gf.detections); d != "" {
		t.Errorf("stored detections differ (-local +queue):\n%s", d)
	}
	if len(lf.index) == 0 {
		t.Error("the local scan kept no observable index: the comparison proves nothing")
	}
	if d := cmp.Diff(lf.index, gf.index); d != "" {
		t.Errorf("stored observable index differs (-local +queue):\n%s", d)
	}
	if local.Indexed != got.Indexed {
		t.Errorf("indexed values: local %d, queue %d", local.Indexed, got.Indexed)
	}
	if local.NewSightings != got.NewSightings {
		t.Errorf("new sightings: local %d, queue %d", local.NewSightings, got.NewSightings)
	}
}

// Through 1, 2 and 4 workers, reading the files themselves or through the
// object store, a scan stores exactly what a local scan stores.
func TestScanThroughWorkersEqualsLocal(t *testing.T) {
	url := natsURL(t)
	f := newFixture(t)
	local, lf := localScan(t, f)
	t.Logf("local: %d events, %d sightings, %d detections (%d above threshold)",
		local.Summary.Events, local.Summary.Sightings, len(local.Detections), hunt.Above(local.Detections))
	for _, tc := range []struct {
		workers int
		shared  bool
	}{{1, false}, {2, true}, {4, false}} {
		names := testNames(t, url)
		stop := startWorkers(t, url, names, Settings{}, tc.workers)
		got, gf := distributedScan(t, f, url, names, tc.shared)
		stop()
		t.Logf("%d workers (shared %t): %d events, %d sightings, %d detections", tc.workers, tc.shared,
			got.Summary.Events, got.Summary.Sightings, len(got.Detections))
		sameAsLocal(t, local, lf, got, gf)
	}
}

// A worker that dies holding a job (its connection closed, the job never
// acknowledged) loses nothing: after the ack wait the job goes to another
// worker, and the scan stores what a local scan stores, once.
func TestWorkerDyingMidJobLosesNothing(t *testing.T) {
	url := natsURL(t)
	f := newFixture(t)
	local, lf := localScan(t, f)
	names := testNames(t, url)
	set := Settings{AckWait: 2 * time.Second}

	// the dying worker: it publishes its first result, then its
	// connection drops before the ack, as with kill -9
	died := make(chan struct{})
	dyingConn := connect(t, url, nats.NoReconnect())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		opt := WorkerOptions{Names: names, Settings: set, Workers: 1, Registry: registry(), ID: "dying",
			beforeAck: func(Job) bool {
				select {
				case <-died:
				default:
					close(died)
					dyingConn.Close()
				}
				return false
			}}
		_ = RunWorker(ctx, dyingConn, opt)
	}()
	// the healthy worker starts once the first has died holding a job
	go func() {
		<-died
		stop := startWorkers(t, url, names, set, 1)
		<-ctx.Done()
		stop()
	}()
	got, gf := distributedScan(t, f, url, names, false)
	sameAsLocal(t, local, lf, got, gf)
}

// A coordinator stopped mid-scan and started again with the same inputs
// resumes the scan: the finished pieces are not repeated, and the store
// ends as a local scan's, nothing doubled.
func TestCoordinatorRestartResumes(t *testing.T) {
	url := natsURL(t)
	f := newFixture(t)
	local, lf := localScan(t, f)
	names := testNames(t, url)
	stop := startWorkers(t, url, names, Settings{}, 2)
	defer stop()

	db := f.store(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	first, stopFirst := context.WithCancel(ctx)
	opt := ScanOptions{ScanOptions: f.scanOptions(), Names: names, ChunkSize: 256 << 10,
		OnProgress: func(done, _ int, _ int64) {
			if done == 5 {
				stopFirst() // the coordinator dies with pieces in flight
			}
		}}
	if _, err := Scan(first, connect(t, url), db, opt); err == nil {
		t.Fatal("the first coordinator finished: it was meant to stop mid-scan")
	}
	opt.OnProgress = nil
	got, err := Scan(ctx, connect(t, url), db, opt)
	if err != nil {
		t.Fatal(err)
	}
	gf := stored(t, db)
	// NewSightings counts what the second run added: the first stored some
	got.NewSightings = local.NewSightings
	sameAsLocal(t, local, lf, got, gf)
}
