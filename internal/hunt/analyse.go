package hunt

import (
	"context"
	"fmt"
	"time"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/correlate"
	"github.com/whodunit-project/whodunit/internal/geo"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intelgraph"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/store"
)

// AnalyseOptions say how to analyse a store's findings.
type AnalyseOptions struct {
	// Assets name the victims' organisations, sectors and countries (nil: none).
	Assets *correlate.Assets
	// Locator places addresses (nil: the embedded database).
	Locator geo.Locator
	// Summary carries what the caller knows of the run (events and bytes
	// scanned); the finding counts are recomputed from the store.
	Summary report.Summary
	Org     string // reporting organisation named in the STIX report
	TLP     string // TLP level of the reports
	Tool    string // producer named in report.json
	// Now stamps the report (zero: the current time).
	Now      time.Time
	Progress ProgressFunc
	// Signature names the key the reports will be signed with (nil: unsigned).
	Signature *report.SignatureInfo
}

// Findings is what analysing reads of a store: its sightings and
// detections, and the intelligence graph attribution walks.
type Findings struct {
	Sightings  []match.Sighting
	Detections []behavior.Detection
}

// FindingSource is a store's findings: what analysing reads beside the
// intelligence graph.
type FindingSource interface {
	Sightings(ctx context.Context, q store.SightingQuery, fn func(*match.Sighting) error) error
	Detections(ctx context.Context, fn func(*behavior.Detection) error) error
}

// AnalyseSource is what analysing needs of a store.
type AnalyseSource interface {
	FindingSource
	intelgraph.Reader
}

// LoadFindings reads every stored sighting and detection.
func LoadFindings(ctx context.Context, db FindingSource) (*Findings, error) {
	f := &Findings{}
	if err := db.Sightings(ctx, store.SightingQuery{}, func(s *match.Sighting) error {
		f.Sightings = append(f.Sightings, *s)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := db.Detections(ctx, func(d *behavior.Detection) error {
		f.Detections = append(f.Detections, *d)
		return nil
	}); err != nil {
		return nil, err
	}
	return f, nil
}

// Analyse correlates the store's sightings and detections into campaigns,
// attributes each, and assembles the report data.
func Analyse(ctx context.Context, db AnalyseSource, opt AnalyseOptions) (*report.Data, error) {
	loc := opt.Locator
	if loc == nil {
		d, err := geo.Default()
		if err != nil {
			return nil, err
		}
		loc = geo.Cached(d)
	}
	f, err := LoadFindings(ctx, db)
	if err != nil {
		return nil, err
	}
	verdicts, err := withVerdicts(ctx, db, f)
	if err != nil {
		return nil, fmt.Errorf("reading verdicts: %w", err)
	}
	if opt.Summary, err = withStoredTotals(ctx, db, opt.Summary); err != nil {
		return nil, err
	}
	g, err := intelgraph.New(ctx, db, loc)
	if err != nil {
		return nil, err
	}
	indicators := seenIndicators(f.Sightings, g)
	campaigns := correlate.Correlate(correlate.Input{Sightings: f.Sightings, Detections: f.Detections, Indicators: indicators,
		ActorsOf: actorsOf(g), Geo: loc, Assets: opt.Assets}, correlationConfig())
	acfg := attribute.DefaultConfig()
	if err := acfg.Validate(); err != nil {
		return nil, err
	}
	assessments, actors := assess(campaigns, f, g, acfg, opt.Progress)
	if err := g.Err(); err != nil {
		return nil, err
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	profiles, err := namedProfiles(ctx, db, assessments)
	if err != nil {
		return nil, err
	}
	doc := report.Build(report.Input{Summary: summarise(opt.Summary, f), Campaigns: campaigns, Assessments: assessments,
		Sightings: f.Sightings, Detections: f.Detections, Assets: opt.Assets, Config: acfg, Generated: now, Tool: opt.Tool,
		Profiles: profiles, Intelligence: report.IntelRecords(assessments, g)})
	doc.Signature = opt.Signature
	doc.Verdicts = verdicts
	report.AttachRecords(doc)
	for id, o := range indicators {
		if o == nil {
			delete(indicators, id)
		}
	}
	data := &report.Data{Doc: doc, Sightings: f.Sightings, Indicators: indicators, Actors: actors, Org: opt.Org, TLP: opt.TLP,
		Detections: f.Detections, CampaignSightings: map[string][]int{}, CampaignDetections: map[string][]int{}}
	for _, c := range campaigns {
		data.CampaignSightings[c.ID] = c.Sightings
		data.CampaignDetections[c.ID] = c.Detections
	}
	return data, nil
}

// graph is the intelligence analysing reads: attribution's graph and the
// first error met while answering it.
type graph interface {
	attribute.Graph
	Err() error
}

// seenIndicators looks up every indicator a sighting names (nil where the
// store no longer has it).
func seenIndicators(sightings []match.Sighting, g graph) map[string]*intel.Object {
	out := map[string]*intel.Object{}
	for i := range sightings {
		id := sightings[i].IndicatorID
		if _, ok := out[id]; !ok {
			out[id] = g.Indicator(id)
		}
	}
	return out
}

func actorsOf(g graph) func(string) []string {
	return func(id string) []string {
		var out []string
		for _, p := range g.Attributions(id) {
			out = append(out, p.ActorID)
		}
		return out
	}
}

func correlationConfig() correlate.Config {
	cfg := correlate.DefaultConfig()
	cfg.MinDetectionScore = behavior.DefaultConfig().Threshold
	return cfg
}

// assess weighs every campaign's hypotheses and collects the actors they
// name.
func assess(campaigns []*correlate.Campaign, f *Findings, g graph, cfg attribute.Config, progress ProgressFunc) (map[string]*attribute.Assessment, map[string]*intel.Object) {
	assessments := map[string]*attribute.Assessment{}
	actors := map[string]*intel.Object{}
	for i, c := range campaigns {
		a := attribute.Assess(c, f.Sightings, f.Detections, g, cfg)
		assessments[c.ID] = a
		for _, h := range a.Hypotheses {
			if h.ID == attribute.UnknownActor || h.ID == attribute.Coincidence {
				continue
			}
			if o := g.Indicator(h.ID); o != nil {
				actors[h.ID] = o
			}
		}
		progress.report(Progress{Stage: StageAnalyse, Detail: c.ID, Done: i + 1, Total: len(campaigns)})
	}
	return assessments, actors
}

// summarise counts the findings behind the report: sightings (apart from
// those a warninglist suppressed) and detections above the threshold.
func summarise(sum report.Summary, f *Findings) report.Summary {
	sum.Sightings, sum.Suppressed, sum.Retrospective = 0, 0, 0
	for i := range f.Sightings {
		if f.Sightings[i].Retrospective {
			sum.Retrospective++
		}
		if f.Sightings[i].Suppressed {
			sum.Suppressed++
		} else {
			sum.Sightings++
		}
	}
	sum.Detections = Above(f.Detections)
	return sum
}

// namedProfiles reads the intelligence profile of every actor a campaign
// is attributed to, over all the records joined into it.
func namedProfiles(ctx context.Context, db intelgraph.Reader, assessments map[string]*attribute.Assessment) (map[string]report.ActorProfile, error) {
	links, err := db.ActorLinks(ctx)
	if err != nil {
		return nil, err
	}
	members := map[string][]string{}
	for _, a := range assessments {
		if a.Top != nil && a.Estimate != attribute.NotEnoughEvidence {
			members[a.Top.ID] = store.Cluster([]string{a.Top.ID}, links)
		}
	}
	return report.LoadProfiles(ctx, db, members)
}
