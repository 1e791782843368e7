package webui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/server"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

// maxHits bounds each kind of hit a search lists.
const maxHits = 100

// searchResult is everything one query reaches: the search box and the
// pivot are one page, every hit linking to the search of what it names.
type searchResult struct {
	Query      string               `json:"query"`
	Campaigns  []campaignHit        `json:"campaigns"`
	Objects    []objectHit          `json:"objects"`
	Sightings  []match.Sighting     `json:"sightings"`
	Detections []behavior.Detection `json:"detections"`
	// More says that a kind had more than maxHits hits.
	More map[string]bool `json:"more"`
}

type campaignHit struct {
	ID    string `json:"id"`
	Actor string `json:"actor"`
	Why   string `json:"why"` // what of the campaign matched
}

type objectHit struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Name string `json:"name"`
	// Sources are the sources asserting the object, "name (grade)";
	// Related its relationships to objects the key may see, both ways.
	Sources []string     `json:"sources"`
	Related []relatedHit `json:"related"`
}

// relatedHit is one relationship of an object hit: "indicates" APT1, or
// "indicated by" an indicator when the hit is the target.
type relatedHit struct {
	Relationship string `json:"relationship"`
	ID           string `json:"id"`
	Type         string `json:"type"`
	Name         string `json:"name"`
}

// maxRelated bounds the relationships listed per object hit.
const maxRelated = 50

func (u *UI) search(ctx context.Context, c *caller, q string) (searchResult, error) {
	q = strings.TrimSpace(q)
	res := searchResult{Query: q, Campaigns: []campaignHit{}, Objects: []objectHit{}, Sightings: []match.Sighting{},
		Detections: []behavior.Detection{}, More: map[string]bool{}}
	if q == "" || len(q) > maxFilterLen {
		return res, badRequest{fmt.Errorf("parameter \"q\": want 1 to %d bytes", maxFilterLen)}
	}
	a, err := u.latest(ctx, c)
	if err != nil && !errors.Is(err, errNoAnalysis) {
		return res, err
	}
	if a != nil {
		for i := range a.Campaigns {
			if why := campaignMatch(&a.Campaigns[i], q); why != "" {
				res.Campaigns = append(res.Campaigns, campaignHit{ID: a.Campaigns[i].ID, Actor: summarise(&a.Campaigns[i]).Actor, Why: why})
			}
		}
	}
	defs, err := report.MarkingDefinitions(ctx, u.st)
	if err != nil {
		return res, err
	}
	if res.Objects, err = u.searchObjects(ctx, c, defs, q); err != nil {
		return res, err
	}
	if !c.ceiling.Allows(u.cfg.DefaultTLP) {
		return res, nil // the findings are above the key's ceiling
	}
	if res.Sightings, err = u.searchSightings(ctx, c, q, res.More); err != nil {
		return res, err
	}
	res.Detections, err = u.searchDetections(ctx, c, q, res.More)
	return res, err
}

// campaignMatch says what of c equals (or, for names, contains) q.
func campaignMatch(c *report.Campaign, q string) string {
	lq := strings.ToLower(q)
	a := &c.Attribution
	switch {
	case strings.EqualFold(c.ID, q):
		return "id"
	case a.Named && strings.Contains(strings.ToLower(a.Actor), lq), strings.EqualFold(a.ActorID, q):
		return "actor"
	case slices.Contains(c.Victims, q):
		return "victim"
	case slices.Contains(c.Indicators, q):
		return "indicator"
	}
	for _, in := range c.Infrastructure {
		if strings.EqualFold(in.Value, q) {
			return "infrastructure (" + in.Role + ")"
		}
	}
	for _, e := range c.Attribution.Evidence {
		if slices.ContainsFunc(e.Values, func(v string) bool { return strings.EqualFold(v, q) }) {
			return "evidence: " + e.Kind
		}
	}
	return ""
}

// searchObjects finds intelligence by name, alias, external id or id,
// within the key's ceiling.
func (u *UI) searchObjects(ctx context.Context, c *caller, defs tlp.Definitions, q string) ([]objectHit, error) {
	objs, err := u.st.FindByName(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("finding %q: %w", q, err)
	}
	if strings.Contains(q, "--") {
		o, err := u.st.Object(ctx, q)
		switch {
		case err == nil:
			objs = append(objs, o)
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
	}
	out := []objectHit{}
	for _, o := range objs {
		if len(out) == maxHits || slices.ContainsFunc(out, func(h objectHit) bool { return h.ID == o.ID }) {
			continue
		}
		if c.ceiling.Allows(defs.Of(o, u.cfg.DefaultTLP)) {
			h := objectHit{ID: o.ID, Type: o.Type, Name: objectName(o)}
			if err := u.connect(ctx, c, defs, &h); err != nil {
				return nil, err
			}
			out = append(out, h)
		}
	}
	return out, nil
}

// connect fills an object hit's sources and the relationships, either
// way, to objects within c's ceiling.
func (u *UI) connect(ctx context.Context, c *caller, defs tlp.Definitions, h *objectHit) error {
	srcs, err := u.st.ObjectSources(ctx, h.ID)
	if err != nil {
		return fmt.Errorf("the sources of %s: %w", h.ID, err)
	}
	h.Sources, h.Related = []string{}, []relatedHit{}
	for _, s := range srcs {
		h.Sources = append(h.Sources, s.Name+" ("+s.Reliability.String()+")")
	}
	rels, err := u.st.Relationships(ctx, h.ID)
	if err != nil {
		return fmt.Errorf("the relationships of %s: %w", h.ID, err)
	}
	for _, r := range rels {
		if len(h.Related) == maxRelated || r.Relationship == nil || !c.ceiling.Allows(defs.Of(r, u.cfg.DefaultTLP)) {
			continue
		}
		verb, other := r.Relationship.Type, r.Relationship.TargetRef
		if other == h.ID {
			verb, other = r.Relationship.Type+" (by)", r.Relationship.SourceRef
		}
		o, err := u.st.Object(ctx, other)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if c.ceiling.Allows(defs.Of(o, u.cfg.DefaultTLP)) {
			h.Related = append(h.Related, relatedHit{Relationship: verb, ID: o.ID, Type: o.Type, Name: objectName(o)})
		}
	}
	return nil
}

func objectName(o *intel.Object) string {
	if o.Name != "" {
		return o.Name
	}
	if o.Indicator != nil && len(o.Indicator.Observables) > 0 {
		return o.Indicator.Observables[0].Value
	}
	return o.ID
}

// searchSightings lists the sightings of a value, of a host or of an
// indicator, each within the level of its indicator.
func (u *UI) searchSightings(ctx context.Context, c *caller, q string, more map[string]bool) ([]match.Sighting, error) {
	queries := []store.SightingQuery{{Value: q}}
	if ip, err := netip.ParseAddr(q); err == nil {
		queries = append(queries, store.SightingQuery{Host: ip.String()})
	}
	if strings.HasPrefix(q, "indicator--") {
		queries = append(queries, store.SightingQuery{IndicatorID: q})
	}
	var found []match.Sighting
	seen := map[string]bool{}
	for _, sq := range queries {
		sq.Limit = maxHits + 1
		err := u.st.Sightings(ctx, sq, func(s *match.Sighting) error {
			if k := s.Key(); !seen[k] {
				seen[k] = true
				found = append(found, *s)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("sightings of %q: %w", q, err)
		}
	}
	levels := map[string]bool{}
	out := []match.Sighting{}
	for _, s := range found {
		ok, known := levels[s.IndicatorID]
		if !known {
			var err error
			if ok, err = u.indicatorAllowed(ctx, c, s.IndicatorID); err != nil {
				return nil, err
			}
			levels[s.IndicatorID] = ok
		}
		if !ok {
			continue
		}
		if len(out) == maxHits {
			more["sightings"] = true
			break
		}
		out = append(out, s)
	}
	return out, nil
}

// searchDetections lists the detections from, to or named q.
func (u *UI) searchDetections(ctx context.Context, c *caller, q string, more map[string]bool) ([]behavior.Detection, error) {
	pg, err := u.detections(ctx, c, store.DetectionQuery{Match: q, Desc: true, Limit: maxHits + 1})
	if err != nil {
		return nil, err
	}
	if len(pg.Items) > maxHits {
		more["detections"] = true
		pg.Items = pg.Items[:maxHits]
	}
	return pg.Items, nil
}

type searchView struct {
	layout
	searchResult
}

func (u *UI) searchPage(w http.ResponseWriter, r *http.Request, c *caller) {
	res, err := u.search(r.Context(), c, r.URL.Query().Get("q"))
	if err != nil {
		u.failPage(w, err)
		return
	}
	u.noteHits(r, res)
	u.render(w, http.StatusOK, "search", searchView{layout: u.layout(c, "Search "+res.Query), searchResult: res})
}

func (u *UI) searchAPI(w http.ResponseWriter, r *http.Request, c *caller) {
	res, err := u.search(r.Context(), c, r.URL.Query().Get("q"))
	if err != nil {
		u.failJSON(w, err)
		return
	}
	u.noteHits(r, res)
	writeJSON(w, http.StatusOK, res)
}

func (u *UI) noteHits(r *http.Request, res searchResult) {
	if n := server.NoteFrom(r.Context()); n != nil {
		n.Objects = len(res.Campaigns) + len(res.Objects) + len(res.Sightings) + len(res.Detections)
	}
}
