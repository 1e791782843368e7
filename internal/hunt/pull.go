package hunt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/taxiiclient"
)

// PullTarget is what pulling a TAXII collection writes to.
type PullTarget interface {
	ImportTarget
	store.SubscriptionStore
}

// PullOptions say which remote collection to pull and how.
type PullOptions struct {
	Client     *taxiiclient.Client
	URL        string // the API root, or a discovery URL with a default root
	Collection string // id or alias
	// Name is the subscription, and the source its objects are imported
	// under; it defaults to the collection's alias (or id).
	Name string
	// Since replaces where the last pull stopped (the remote's own
	// timestamp text); "" resumes from there.
	Since  string
	Limit  int // objects per page; 0 = 1,000
	Labels intel.Options
	// Now stamps the subscription; nil = time.Now.
	Now      func() time.Time
	Progress ProgressFunc
}

// PullResult is what one pull did.
type PullResult struct {
	Subscription store.Subscription
	Pages        int
	Objects      int                // objects received
	Results      []intel.FileResult // one per page imported
}

// Pull pages through a remote collection from where its subscription
// stopped, imports each page as one transaction under the subscription's
// name, and after each page records the remote's X-TAXII-Date-Added-Last.
// A page imported again after a kill has the same content and is known
// to the store (the same source name and digest), so a resumed pull
// neither loses nor doubles anything.
func Pull(ctx context.Context, db PullTarget, opt PullOptions) (*PullResult, error) {
	c := opt.Client
	root, err := c.APIRoot(ctx, opt.URL)
	if err != nil {
		return nil, err
	}
	col, err := c.Collection(ctx, root, opt.Collection)
	if err != nil {
		return nil, err
	}
	if !col.CanRead {
		return nil, fmt.Errorf("%s: collection %s may not be read with this key", root, opt.Collection)
	}
	sub, err := subscription(ctx, db, opt, root, col)
	if err != nil {
		return nil, err
	}
	res := &PullResult{Subscription: sub}
	return res, pullPages(ctx, db, opt, res)
}

// subscription is the stored subscription of the pull's name, created
// when new; Since overrides where it stopped.
func subscription(ctx context.Context, db PullTarget, opt PullOptions, root string, col taxiiclient.Collection) (store.Subscription, error) {
	name := opt.Name
	if name == "" {
		name = col.Alias
	}
	if name == "" {
		name = col.ID
	}
	sub := store.Subscription{Name: name, URL: root, Collection: col.ID}
	subs, err := db.Subscriptions(ctx)
	if err != nil {
		return sub, err
	}
	for _, s := range subs {
		if s.Name != name {
			continue
		}
		if s.URL != root || s.Collection != col.ID {
			return sub, fmt.Errorf("subscription %q pulls %s collection %s already; give another --name", name, s.URL, s.Collection)
		}
		sub.AddedAfter = s.AddedAfter
	}
	if opt.Since != "" {
		sub.AddedAfter = opt.Since
	}
	return sub, nil
}

func pullPages(ctx context.Context, db PullTarget, opt PullOptions, res *PullResult) error {
	limit := opt.Limit
	if limit <= 0 {
		limit = 1000
	}
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	sub := &res.Subscription
	q := taxiiclient.Query{AddedAfter: sub.AddedAfter, Limit: limit}
	for {
		page, err := opt.Client.Objects(ctx, sub.URL, sub.Collection, q)
		if err != nil {
			return err
		}
		res.Pages++
		res.Objects += len(page.Objects)
		if len(page.Objects) > 0 {
			r, err := importPage(ctx, db, opt, *sub, page.Objects)
			if err != nil {
				return err
			}
			res.Results = append(res.Results, r)
		}
		if page.DateAddedLast != "" {
			sub.AddedAfter = page.DateAddedLast
		}
		sub.Updated = now().UTC()
		if err := db.PutSubscription(ctx, *sub); err != nil {
			return err
		}
		opt.Progress.report(Progress{Stage: StageImport, Detail: sub.Name, Done: res.Objects})
		if !page.More || len(page.Objects) == 0 {
			return nil
		}
		q.Next = page.Next
		if q.Next == "" {
			q.AddedAfter = sub.AddedAfter
		}
	}
}

// importPage imports one page as a STIX file through the import path of
// files. A page that fails as a whole stops the pull before its place is
// recorded, so the next pull asks for it again.
func importPage(ctx context.Context, db PullTarget, opt PullOptions, sub store.Subscription, objects []json.RawMessage) (intel.FileResult, error) {
	f, err := os.CreateTemp("", "whodunit-pull-*.json")
	if err != nil {
		return intel.FileResult{}, err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(bareArray(objects))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return intel.FileResult{}, err
	}
	labels := opt.Labels
	labels.Source = sub.Name
	target := &provenanceTarget{ImportTarget: db, path: "taxii:" + sub.URL + "collections/" + sub.Collection + "/"}
	results, err := Import(ctx, target, ImportOptions{Paths: []string{f.Name()}, Format: "stix", Labels: labels})
	if err != nil {
		return intel.FileResult{}, err
	}
	if len(results) != 1 {
		return intel.FileResult{}, fmt.Errorf("importing a page of %s: %d results", sub.Name, len(results))
	}
	r := results[0]
	r.Path = target.path
	if r.Err != nil {
		return r, fmt.Errorf("importing a page of %s from %s: %w", sub.Name, target.path, r.Err)
	}
	return r, nil
}

// bareArray is the objects as a JSON array: the same page gives the same
// bytes, so the store knows it again by its digest.
func bareArray(objects []json.RawMessage) []byte {
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, o := range objects {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(o)
	}
	buf.WriteByte(']')
	return buf.Bytes()
}

// provenanceTarget records a page under the remote collection's address
// instead of the temporary file it was read from.
type provenanceTarget struct {
	ImportTarget
	path string
}

func (t *provenanceTarget) Import(ctx context.Context, src intel.Source, fn func(intel.Sink) error) (store.ImportResult, error) {
	src.Path = t.path
	return t.ImportTarget.Import(ctx, src, fn)
}

// ErrNoSubscription is returned for a subscription name not stored.
var ErrNoSubscription = errors.New("no such subscription")
