package hunt_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
)

type pullReport struct {
	opt hunt.PullOptions
	res *hunt.PullResult
	err error
}

// A schedule pulls at once and then at every tick: what the producer adds
// between rounds arrives at the next one, exactly once; a subscription
// that fails is reported without holding up the others; the end of the
// context ends the schedule.
func TestPullScheduleKeepsSubscriptionsFresh(t *testing.T) {
	a, url, client := producer(t)
	b := openStore(t)
	good := hunt.PullOptions{Client: client, URL: url, Collection: "intel", Limit: 25}
	bad := hunt.PullOptions{Client: client, URL: url, Collection: "no-such-collection", Name: "gone"}
	reports := make(chan pullReport, 64)
	sched := hunt.PullSchedule{Every: 100 * time.Millisecond,
		Round:  func(context.Context) ([]hunt.PullOptions, error) { return []hunt.PullOptions{bad, good}, nil },
		Report: func(o hunt.PullOptions, r *hunt.PullResult, err error) { reports <- pullReport{o, r, err} }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sched.Run(ctx, b) }()

	first := awaitPull(t, reports, func(r pullReport) bool { return r.opt.Collection == "intel" })
	if first.err != nil || first.res.Objects == 0 {
		t.Fatalf("first round: %d objects, %v", first.res.Objects, first.err)
	}
	before := len(countObjects(t, b))
	importList(t, a, "sched-1.example\nsched-2.example\nsched-3.example\n")
	later := awaitPull(t, reports, func(r pullReport) bool {
		return r.opt.Collection == "intel" && r.err == nil && r.res.Objects > 0
	})
	if later.res.Objects != 3 {
		t.Fatalf("a later round received %d objects, want the 3 added", later.res.Objects)
	}
	if after := len(countObjects(t, b)); after != before+3 {
		t.Fatalf("B held %d objects, then %d after the producer added 3", before, after)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the schedule did not stop when its context ended")
	}
	for len(reports) > 0 {
		if r := <-reports; r.opt.Collection == "no-such-collection" && r.err == nil {
			t.Fatal("a pull of a missing collection was reported as a success")
		}
	}
}

// awaitPull waits, bounded, for a report that ok accepts.
func awaitPull(t *testing.T, reports <-chan pullReport, ok func(pullReport) bool) pullReport {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case r := <-reports:
			if ok(r) {
				return r
			}
		case <-deadline:
			t.Fatal("no such pull within 60 s")
		}
	}
}

func importList(t *testing.T, db hunt.ImportTarget, lines string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "more-domains.txt")
	if err := os.WriteFile(p, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := hunt.Import(context.Background(), db, hunt.ImportOptions{Paths: []string{p}, Labels: intel.DefaultOptions()})
	if err != nil || res[0].Err != nil {
		t.Fatalf("import: %v %v", err, res)
	}
}
