package webui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

// errNoAnalysis is answered when the store holds no analysis run yet.
var errNoAnalysis = errors.New("no analysis stored yet: run 'whodunit hunt' or 'whodunit analyse'")

// analysis is the newest stored run as one key may see it: only the
// campaigns its ceiling allows, in the order the run stored them.
type analysis struct {
	ID        string
	Created   time.Time
	Doc       *report.Document
	Campaigns []report.Campaign
	// Telemetry is whether the key may see the findings of the server's
	// own telemetry (detections, scan totals): they carry DefaultTLP.
	Telemetry bool
}

// latest reads the newest run and keeps what c may see.
func (u *UI) latest(ctx context.Context, c *caller) (*analysis, error) {
	return u.analysisAs(ctx, c, store.LatestAnalysis)
}

// analysisAs reads run id and keeps what c may see.
func (u *UI) analysisAs(ctx context.Context, c *caller, id string) (*analysis, error) {
	a, err := u.st.Analysis(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoAnalysis
	}
	if err != nil {
		return nil, fmt.Errorf("reading analysis %s: %w", id, err)
	}
	var doc report.Document
	if err := json.Unmarshal(a.Document, &doc); err != nil {
		return nil, fmt.Errorf("analysis %s: the stored document: %w", a.ID, err)
	}
	out := &analysis{ID: a.ID, Created: a.Created, Doc: &doc, Telemetry: c.ceiling.Allows(u.cfg.DefaultTLP)}
	levels, err := u.indicatorLevels(ctx, &doc)
	if err != nil {
		return nil, err
	}
	for _, camp := range doc.Campaigns {
		if c.ceiling.Allows(u.campaignLevel(&camp, levels)) {
			out.Campaigns = append(out.Campaigns, camp)
		}
	}
	return out, nil
}

// campaignIndicators are the ids of the indicators a campaign rests on.
func campaignIndicators(c *report.Campaign) []string {
	ids := slices.Clone(c.Indicators)
	for _, e := range c.Attribution.Evidence {
		ids = append(ids, e.Indicators...)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// campaignLevel is a campaign's TLP level: that of its findings (the
// server's telemetry, DefaultTLP), raised to the most restrictive
// indicator it rests on, the way a TAXII sighting takes its indicator's.
// An indicator of no known level counts as red: unknown is not shown.
func (u *UI) campaignLevel(c *report.Campaign, levels map[string]tlp.Level) tlp.Level {
	l := u.cfg.DefaultTLP
	for _, id := range campaignIndicators(c) {
		il, ok := levels[id]
		if !ok {
			il = tlp.Red
		}
		l = max(l, il)
	}
	return l
}

// indicatorLevels reads the current level of every indicator the run's
// campaigns rest on, in one store query, with the store's marking
// definitions. An indicator the store no longer has takes the level of
// its record in the document.
func (u *UI) indicatorLevels(ctx context.Context, doc *report.Document) (map[string]tlp.Level, error) {
	defs, err := report.MarkingDefinitions(ctx, u.st)
	if err != nil {
		return nil, err
	}
	var ids []string
	for i := range doc.Campaigns {
		ids = append(ids, campaignIndicators(&doc.Campaigns[i])...)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	levels := map[string]tlp.Level{}
	for _, r := range doc.Intelligence {
		levels[r.ID] = defs.Of(&intel.Object{ID: r.ID, Raw: r.Raw}, u.cfg.DefaultTLP)
	}
	for len(ids) > 0 {
		n := min(len(ids), 1000)
		pg, err := u.st.ObjectsPage(ctx, store.PageQuery{IDs: ids[:n]}, "", n)
		if err != nil {
			return nil, fmt.Errorf("reading indicator markings: %w", err)
		}
		for _, it := range pg.Items {
			levels[it.Object.ID] = defs.Of(it.Object, u.cfg.DefaultTLP)
		}
		ids = ids[n:]
	}
	return levels, nil
}

// campaign finds a visible campaign by id, ignoring case.
func (a *analysis) campaign(id string) (*report.Campaign, bool) {
	for i := range a.Campaigns {
		if strings.EqualFold(a.Campaigns[i].ID, id) {
			return &a.Campaigns[i], true
		}
	}
	return nil, false
}

// counts are the overview's totals over what the key may see.
type counts struct {
	Campaigns  int `json:"campaigns"`
	Attributed int `json:"attributed"`
	Victims    int `json:"victims"`
	Sightings  int `json:"sightings"`
	Detections int `json:"detections"`
}

func (a *analysis) counts(detections int) counts {
	var n counts
	victims := map[string]bool{}
	for _, c := range a.Campaigns {
		n.Campaigns++
		if c.Attribution.Named {
			n.Attributed++
		}
		n.Sightings += c.Sightings
		for _, v := range c.Victims {
			victims[v] = true
		}
	}
	n.Victims = len(victims)
	n.Detections = detections
	return n
}

// detections answers q over the stored behavioural findings c may see:
// none when the telemetry's level is above its ceiling.
func (u *UI) detections(ctx context.Context, c *caller, q store.DetectionQuery) (store.DetectionPage, error) {
	if !c.ceiling.Allows(u.cfg.DefaultTLP) {
		return store.DetectionPage{Items: []behavior.Detection{}}, nil
	}
	pg, err := u.st.DetectionsPage(ctx, q)
	if err != nil {
		return pg, fmt.Errorf("reading detections: %w", err)
	}
	return pg, nil
}
