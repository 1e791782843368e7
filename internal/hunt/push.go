package hunt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/whodunit-project/whodunit/internal/export"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/taxiiclient"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

// PushSource is what pushing findings reads.
type PushSource interface {
	SightingsPage(ctx context.Context, q store.SightingQuery, after store.Cursor, limit int) (store.SightingPage, error)
	Object(ctx context.Context, id string) (*intel.Object, error)
	ObjectSources(ctx context.Context, id string) ([]intel.Source, error)
	Analysis(ctx context.Context, id string) (*store.Analysis, error)
}

// PushOptions say which findings go where.
type PushOptions struct {
	Client     *taxiiclient.Client
	URL        string // the API root, or a discovery URL with a default root
	Collection string // id or alias
	// Sources, when set, keeps only sightings of indicators one of these
	// sources asserted (the producer learns where its intelligence was seen).
	Sources []string
	// Campaign, when set, keeps only sightings of the latest analysis's
	// campaign of that id (see CampaignSightings).
	Campaign string
	// Ceiling is what may leave; a sighting is as sensitive as its
	// indicator (at least DefaultTLP). TLP:RED never leaves.
	Ceiling    tlp.Ceiling
	DefaultTLP tlp.Level
	Batch      int           // objects per envelope; 0 = 500
	Poll       time.Duration // status polling; 0 = 1 s
}

// PushResult is what one push did.
type PushResult struct {
	Considered int                         `json:"considered"` // sightings read
	Sent       int                         `json:"sent"`       // sightings posted
	Withheld   int                         `json:"withheld"`   // above the ceiling
	Succeeded  int                         `json:"succeeded"`  // as the remote's status resources count them
	Failed     int                         `json:"failed"`
	Failures   []taxiiclient.StatusDetails `json:"failures,omitempty"`
}

// Push posts the stored sightings chosen by opt to a remote collection as
// STIX sightings, in envelopes of opt.Batch, and waits for each status.
func Push(ctx context.Context, db PushSource, opt PushOptions) (*PushResult, error) {
	c := opt.Client
	root, err := c.APIRoot(ctx, opt.URL)
	if err != nil {
		return nil, err
	}
	col, err := c.Collection(ctx, root, opt.Collection)
	if err != nil {
		return nil, err
	}
	if !col.CanWrite {
		return nil, fmt.Errorf("%s: collection %s may not be written with this key", root, opt.Collection)
	}
	sel, err := newPushSelector(ctx, db, opt)
	if err != nil {
		return nil, err
	}
	p := &pusher{db: db, opt: opt, root: root, col: col.ID, sel: sel, res: &PushResult{}}
	return p.res, p.run(ctx)
}

type pusher struct {
	db        PushSource
	opt       PushOptions
	root, col string
	sel       *pushSelector
	res       *PushResult
	batch     []json.RawMessage
}

func (p *pusher) run(ctx context.Context) error {
	var after store.Cursor
	for {
		pg, err := p.db.SightingsPage(ctx, store.SightingQuery{}, after, 1000)
		if err != nil {
			return err
		}
		for _, ss := range pg.Sightings {
			if err := p.add(ctx, ss); err != nil {
				return err
			}
		}
		if !pg.More {
			return p.flush(ctx)
		}
		after = pg.Next
	}
}

func (p *pusher) add(ctx context.Context, ss store.StoredSighting) error {
	p.res.Considered++
	lvl, keep, err := p.sel.level(ctx, &ss.Sighting)
	if err != nil || !keep {
		return err
	}
	if !p.opt.Ceiling.Allows(lvl) || lvl == tlp.Red {
		p.res.Withheld++
		return nil
	}
	if _, raw, ok := export.SightingObject(ss.Sighting, ss.Added, lvl); ok {
		p.batch = append(p.batch, raw)
	}
	size := p.opt.Batch
	if size <= 0 {
		size = 500
	}
	if len(p.batch) >= size {
		return p.flush(ctx)
	}
	return nil
}

func (p *pusher) flush(ctx context.Context) error {
	if len(p.batch) == 0 {
		return nil
	}
	st, err := p.opt.Client.Post(ctx, p.root, p.col, p.batch)
	if err != nil {
		return err
	}
	poll := p.opt.Poll
	if poll <= 0 {
		poll = time.Second
	}
	if st, err = p.opt.Client.WaitStatus(ctx, p.root, st, poll); err != nil {
		return err
	}
	p.res.Sent += len(p.batch)
	p.res.Succeeded += st.SuccessCount
	p.res.Failed += st.FailureCount
	p.res.Failures = append(p.res.Failures, st.Failures...)
	p.batch = p.batch[:0]
	return nil
}

// pushSelector decides, per indicator, whether its sightings go and at
// which TLP level; each indicator is looked up once.
type pushSelector struct {
	db       PushSource
	opt      PushOptions
	campaign func(*match.Sighting) bool
	seen     map[string]pushVerdict
}

type pushVerdict struct {
	keep  bool
	level tlp.Level
}

func newPushSelector(ctx context.Context, db PushSource, opt PushOptions) (*pushSelector, error) {
	s := &pushSelector{db: db, opt: opt, seen: map[string]pushVerdict{}}
	if opt.Campaign == "" {
		return s, nil
	}
	keep, err := CampaignSightings(ctx, db, opt.Campaign)
	if err != nil {
		return nil, fmt.Errorf("campaign %s: %w", opt.Campaign, err)
	}
	s.campaign = keep
	return s, nil
}

func (s *pushSelector) level(ctx context.Context, sg *match.Sighting) (tlp.Level, bool, error) {
	if s.campaign != nil && !s.campaign(sg) {
		return 0, false, nil
	}
	v, ok := s.seen[sg.IndicatorID]
	if !ok {
		var err error
		if v, err = s.verdict(ctx, sg.IndicatorID); err != nil {
			return 0, false, err
		}
		s.seen[sg.IndicatorID] = v
	}
	return v.level, v.keep, nil
}

func (s *pushSelector) verdict(ctx context.Context, id string) (pushVerdict, error) {
	o, err := s.db.Object(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return pushVerdict{}, nil // intelligence deleted since: nothing to say about it
	}
	if err != nil {
		return pushVerdict{}, err
	}
	v := pushVerdict{keep: true, level: max(s.opt.DefaultTLP, tlp.Of(o, s.opt.DefaultTLP))}
	if len(s.opt.Sources) == 0 {
		return v, nil
	}
	srcs, err := s.db.ObjectSources(ctx, id)
	if err != nil {
		return pushVerdict{}, err
	}
	v.keep = slices.ContainsFunc(srcs, func(src intel.Source) bool { return slices.Contains(s.opt.Sources, src.Name) })
	return v, nil
}
