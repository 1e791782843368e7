package hunt_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/apikey"
	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
	"github.com/whodunit-project/whodunit/internal/taxii"
	"github.com/whodunit-project/whodunit/internal/taxiiclient"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

var apt1STIX = filepath.Join("..", "..", "..", "shared", "data", "intel", "stix", "apt1.json")

// producer is a store holding the real APT1 bundle, served over TAXII on
// loopback, and a key that may read intel and write the inbox.
func producer(t *testing.T) (*sqlite.Store, string, *taxiiclient.Client) {
	t.Helper()
	if _, err := os.Stat(apt1STIX); err != nil {
		t.Skip("shared data not present")
	}
	ctx := context.Background()
	db := openStore(t)
	if _, err := hunt.Import(ctx, db, hunt.ImportOptions{Paths: []string{apt1STIX}, Labels: intel.DefaultOptions()}); err != nil {
		t.Fatal(err)
	}
	rec, key, err := apikey.New("cert-b", tlp.Ceiling{Max: tlp.Amber}, false, []string{"intel"}, []string{"inbox"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutKey(ctx, rec); err != nil {
		t.Fatal(err)
	}
	ck, err := taxii.CursorKeyFromStore(ctx, db, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	h, err := taxii.New(db, taxii.Config{Title: "CERT A", CursorKey: ck})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := taxiiclient.New()
	c.Key = key
	return db, srv.URL + "/taxii2/", c
}

// failingSubscriptions fails the n-th record of where a pull stopped, as
// a process killed between importing a page and recording it would.
type failingSubscriptions struct {
	*sqlite.Store
	n, calls int
}

var errKilled = errors.New("killed")

func (f *failingSubscriptions) PutSubscription(ctx context.Context, s store.Subscription) error {
	if f.calls++; f.calls == f.n {
		return errKilled
	}
	return f.Store.PutSubscription(ctx, s)
}

// A pull stopped after importing a page but before recording it starts
// again at that page, which the store knows; nothing is lost or doubled.
func TestPullResumesWithoutLossOrDuplicates(t *testing.T) {
	ctx := context.Background()
	a, url, client := producer(t)
	b := openStore(t)
	opt := hunt.PullOptions{Client: client, URL: url, Collection: "intel", Limit: 10}
	if _, err := hunt.Pull(ctx, &failingSubscriptions{Store: b, n: 3}, opt); !errors.Is(err, errKilled) {
		t.Fatalf("first pull: %v", err)
	}
	res, err := hunt.Pull(ctx, b, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) == 0 || !res.Results[0].Already {
		t.Fatalf("the resumed pull did not start with the page imported before: %+v", res.Results)
	}
	want, got := countObjects(t, a), countObjects(t, b)
	if len(want) == 0 || len(got) != len(want) {
		t.Fatalf("A holds %d objects, B %d", len(want), len(got))
	}
	for id := range want {
		vs, err := b.Versions(ctx, id)
		if err != nil || len(vs) != 1 {
			t.Errorf("%s: %d versions in B (%v)", id, len(vs), err)
		}
	}
	subs, _ := b.Subscriptions(ctx)
	if len(subs) != 1 || subs[0].Name != "intel" || subs[0].AddedAfter == "" {
		t.Fatalf("subscriptions %+v", subs)
	}
	again, err := hunt.Pull(ctx, b, opt)
	if err != nil || again.Objects != 0 {
		t.Fatalf("a third pull received %d objects (%v)", again.Objects, err)
	}
}

func countObjects(t *testing.T, db *sqlite.Store) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	err := db.Objects(context.Background(), store.ObjectQuery{}, func(o *intel.Object) error {
		ids[o.ID] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// A sighting is as sensitive as its indicator: the APT1 indicators are
// unmarked, so TLP:AMBER by default, and a push under a TLP:GREEN ceiling
// sends none of their sightings; under AMBER it sends them all.
func TestPushWithholdsAboveCeiling(t *testing.T) {
	ctx := context.Background()
	a, url, client := producer(t)
	b := openStore(t)
	if _, err := hunt.Pull(ctx, b, hunt.PullOptions{Client: client, URL: url, Collection: "intel"}); err != nil {
		t.Fatal(err)
	}
	var ind *intel.Object
	_ = b.Objects(ctx, store.ObjectQuery{Types: []string{intel.TypeIndicator}, Limit: 1}, func(o *intel.Object) error {
		ind = o
		return nil
	})
	at := time.Date(2018, 3, 24, 1, 0, 0, 0, time.UTC)
	var sgs []match.Sighting
	for i := range 3 {
		sgs = append(sgs, match.Sighting{IndicatorID: ind.ID, Field: "dns.query", Value: "x.example", Time: at.Add(time.Duration(i) * time.Minute),
			Source: "logs/dns.log", File: "/logs/dns.log", Line: int64(10 + i)})
	}
	if _, err := b.PutSightings(ctx, sgs); err != nil {
		t.Fatal(err)
	}
	push := hunt.PushOptions{Client: client, URL: url, Collection: "inbox", Sources: []string{"intel"},
		Ceiling: tlp.Ceiling{Max: tlp.Green}, DefaultTLP: tlp.Amber, Poll: 10 * time.Millisecond}
	res, err := hunt.Push(ctx, b, push)
	if err != nil || res.Sent != 0 || res.Withheld != 3 {
		t.Fatalf("green push: %+v %v", res, err)
	}
	push.Ceiling.Max = tlp.Amber
	if res, err = hunt.Push(ctx, b, push); err != nil || res.Sent != 3 || res.Succeeded != 3 {
		t.Fatalf("amber push: %+v %v", res, err)
	}
	seen, err := hunt.PartnerSightings(ctx, a, []string{ind.ID})
	if err != nil || len(seen[ind.ID]) != 1 || seen[ind.ID][0].Source != "cert-b" || seen[ind.ID][0].Count != 3 {
		t.Fatalf("A's view: %+v %v", seen, err)
	}
	// Sightings of indicators from a source not named stay home.
	push.Sources = []string{"someone-else"}
	if res, err = hunt.Push(ctx, b, push); err != nil || res.Sent != 0 || res.Considered != 3 {
		t.Fatalf("other source: %+v %v", res, err)
	}
}
