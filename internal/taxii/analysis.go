package taxii

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

// blockTypes are the objects of the report's STIX rendering of a campaign
// that the findings collection serves: the campaign, the assessment note,
// the actor, the attributed-to relationship and the reporting identity
// they are created by. The report object itself (its id names the run)
// and the standard TLP definitions are left out.
var blockTypes = map[string]bool{
	intel.TypeCampaign: true, intel.TypeNote: true, intel.TypeIntrusionSet: true,
	intel.TypeThreatActor: true, intel.TypeRelationship: true, intel.TypeIdentity: true,
}

// blockEntry is one analysis object with its TLP level.
type blockEntry struct {
	entry
	level tlp.Level
}

// analysisBlock renders the latest stored analysis's campaigns as STIX
// 2.1 through the report's own renderer (report.RenderSTIX on each stored
// campaign alone), each campaign marked with the most restrictive level
// of the indicators it rests on and at least the default. Every object is
// added at the analysis's created time; the result is sorted by id. An
// object two campaigns share (the identity, an actor) is kept once, at
// its least restrictive rendering.
func (s *Server) analysisBlock(ctx context.Context) ([]blockEntry, error) {
	a, err := s.st.Analysis(ctx, store.LatestAnalysis)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	added := a.Created.UTC()
	byID := map[string]blockEntry{}
	for _, rec := range a.Campaigns {
		var c report.Campaign
		if err := json.Unmarshal(rec.Data, &c); err != nil {
			return nil, fmt.Errorf("analysis %s: campaign %s: %w", a.ID, rec.ID, err)
		}
		objs, err := s.renderCampaign(ctx, &c, added)
		if err != nil {
			return nil, fmt.Errorf("analysis %s: campaign %s: %w", a.ID, rec.ID, err)
		}
		for _, e := range objs {
			if old, ok := byID[e.id]; !ok || e.level < old.level {
				byID[e.id] = e
			}
		}
	}
	out := make([]blockEntry, 0, len(byID))
	for _, e := range byID {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out, nil
}

// renderCampaign is one campaign's objects as the report renders them.
func (s *Server) renderCampaign(ctx context.Context, c *report.Campaign, added time.Time) ([]blockEntry, error) {
	level, err := s.campaignLevel(ctx, c)
	if err != nil {
		return nil, err
	}
	actors, err := s.hypothesisActors(ctx, c)
	if err != nil {
		return nil, err
	}
	d := &report.Data{Doc: &report.Document{Generated: added, Campaigns: []report.Campaign{*c}},
		Actors: actors, Org: s.cfg.Title, TLP: level.String()}
	var buf bytes.Buffer
	if err := report.RenderSTIX(&buf, d); err != nil {
		return nil, err
	}
	var bundle struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(buf.Bytes(), &bundle); err != nil {
		return nil, err
	}
	var out []blockEntry
	for _, raw := range bundle.Objects {
		if e, ok := s.blockObject(raw, added); ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// blockObject keeps one rendered object when its type is served, with
// its version (modified, else created) and its own TLP level.
func (s *Server) blockObject(raw json.RawMessage, added time.Time) (blockEntry, bool) {
	var head struct {
		Type, ID          string
		Modified, Created time.Time
	}
	if json.Unmarshal(raw, &head) != nil || !blockTypes[head.Type] {
		return blockEntry{}, false
	}
	version := head.Modified
	if version.IsZero() {
		version = head.Created
	}
	o := &intel.Object{ID: head.ID, Type: head.Type, Raw: raw}
	return blockEntry{entry: entry{id: head.ID, raw: raw, added: added, version: version.UTC()},
		level: tlp.Of(o, s.cfg.DefaultTLP)}, true
}

// campaignLevel is the most restrictive level of the indicators a
// campaign rests on, and at least the default. An indicator no longer in
// the store counts as the default.
func (s *Server) campaignLevel(ctx context.Context, c *report.Campaign) (tlp.Level, error) {
	level := s.cfg.DefaultTLP
	if len(c.Indicators) == 0 {
		return level, nil
	}
	pg, err := s.st.ObjectsPage(ctx, store.PageQuery{IDs: c.Indicators}, "", len(c.Indicators))
	if err != nil {
		return 0, err
	}
	for _, it := range pg.Items {
		level = max(level, tlp.Of(it.Object, s.cfg.DefaultTLP))
	}
	return level, nil
}

// hypothesisActors are the stored actors a campaign's hypotheses name, by
// id; the renderer serves a stored actor's own STIX and renders the others
// from the hypothesis.
func (s *Server) hypothesisActors(ctx context.Context, c *report.Campaign) (map[string]*intel.Object, error) {
	var ids []string
	for _, h := range c.Attribution.Hypotheses {
		if h.ID != "" {
			ids = append(ids, h.ID)
		}
	}
	actors := map[string]*intel.Object{}
	if len(ids) == 0 {
		return actors, nil
	}
	pg, err := s.st.ObjectsPage(ctx, store.PageQuery{IDs: ids}, "", len(ids))
	if err != nil {
		return nil, err
	}
	for _, it := range pg.Items {
		if intel.IsActorType(it.Object.Type) {
			actors[it.Object.ID] = it.Object
		}
	}
	return actors, nil
}
