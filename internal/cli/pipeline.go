package cli

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/correlate"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/warninglist"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/scan"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/formats"
	"github.com/whodunit-project/whodunit/internal/telemetry/jsonl"
)

// warninglists compiles the store's warninglists, reporting entries that
// cannot be used (regexes RE2 cannot run) as warnings.
func (app *App) warninglists(ctx context.Context, db store.Store) (*warninglist.Set, error) {
	lists, err := db.Warninglists(ctx)
	if err != nil {
		return nil, err
	}
	set, skips, err := warninglist.NewSet(lists)
	if err != nil {
		return nil, err
	}
	if len(skips) > 0 {
		app.Log.Debug("warninglist entries skipped", "count", len(skips), "first", skips[0].Error())
	}
	return set, nil
}

// benignAdapter lets the behaviour analytics ask the warninglists.
type benignAdapter struct{ set *warninglist.Set }

func (b benignAdapter) Benign(ip netip.Addr, name string) (string, bool) {
	lists := b.BenignLists(ip, name)
	if len(lists) == 0 {
		return "", false
	}
	return lists[0], true
}

func (b benignAdapter) BenignLists(ip netip.Addr, name string) []string {
	if b.set == nil {
		return nil
	}
	if ip.IsValid() {
		t := intel.IPv4
		if ip.Unmap().Is6() {
			t = intel.IPv6
		}
		return b.set.Check(t, ip.Unmap().String())
	}
	if name != "" {
		return b.set.Check(intel.Domain, name)
	}
	return nil
}

// compileSnapshot builds the matcher from every indicator in the store.
func (app *App) compileSnapshot(ctx context.Context, db store.Store, wl *warninglist.Set) (*match.Snapshot, error) {
	b := match.NewBuilder(match.Options{Suppress: wl, Patterns: patternCompiler{}})
	if n, err := db.Count(ctx, intel.TypeIndicator); err == nil {
		b.Grow(n) // size the tables once
	}
	if err := db.MatchIndicators(ctx, func(o *intel.Object) error {
		b.Add(o)
		return nil
	}); err != nil {
		return nil, err
	}
	return b.Build()
}

type scanOptions struct {
	format     string
	workers    int
	noBehavior bool
	allowlist  string
	mapping    string
	onSighting func(match.Sighting)
	// summaryJSON, when set, receives the run's figures (for make bench).
	summaryJSON string
}

type scanResult struct {
	report     scan.RunReport
	summary    scan.Summary
	newSights  int
	detections []behavior.Detection
	snapshot   *match.Snapshot
}

// runScan matches paths against the store's indicators, runs the behaviour
// analytics, and stores sightings and detections.
func (app *App) runScan(ctx context.Context, db store.Store, paths []string, opt scanOptions) (*scanResult, error) {
	wl, err := app.warninglists(ctx, db)
	if err != nil {
		return nil, err
	}
	t0, cpu0 := time.Now(), scan.ProcessCPU()
	snap, err := app.compileSnapshot(ctx, db, wl)
	if err != nil {
		return nil, err
	}
	if snap.Len() >= 100_000 {
		// Compiling a large snapshot leaves hundreds of MB of garbage:
		// collect it once now (and give it back) rather than have the
		// collector mark it beside the scan workers. Counted as compile.
		debug.FreeOSMemory()
	}
	compileWall, compileCPU := time.Since(t0).Seconds(), scan.ProcessCPU()-cpu0
	app.Log.Debug("matcher compiled", "indicators", snap.Len(), "took", time.Since(t0))
	fopt := formats.Options{}
	if opt.mapping != "" {
		m, err := loadMapping(opt.mapping)
		if err != nil {
			return nil, usagef("--mapping: %v", err)
		}
		fopt.Mapping = m
	}
	var benign behavior.Benign = benignAdapter{wl}
	if opt.allowlist != "" {
		al, err := behavior.LoadAllowlist(opt.allowlist)
		if err != nil {
			return nil, err
		}
		benign = behavior.Chain(benignAdapter{wl}, al)
	}
	// The analytics are sharded by source address so that the scan's
	// workers rarely wait for each other; the shards merge at the end.
	type shard struct {
		mu sync.Mutex
		a  *behavior.Analyzer
	}
	var shards []*shard
	cfg := scan.Config{Paths: paths, Registry: formats.Default(fopt), Format: opt.format, Snapshot: snap, Workers: opt.workers}
	if !opt.noBehavior {
		bcfg := behavior.DefaultConfig()
		// destinations' autonomous systems, for the vendor-network rules
		if loc, _, err := geoLocator(nil); err == nil {
			bcfg.Locator = loc
		} else {
			app.Log.Warn("behaviour analytics without autonomous systems", "err", err)
		}
		n := 4 * runtime.GOMAXPROCS(0)
		for i := 0; i < n; i++ {
			shards = append(shards, &shard{a: behavior.New(bcfg, benign)})
		}
		cfg.OnEvent = func(ev *telemetry.Event) {
			sh := shards[behavior.Shard(ev, n)]
			sh.mu.Lock()
			sh.a.Observe(ev)
			sh.mu.Unlock()
		}
	}
	res := &scanResult{snapshot: snap}
	var batch []match.Sighting
	var putErr error
	flush := func() {
		if len(batch) == 0 || putErr != nil {
			return
		}
		n, err := db.PutSightings(ctx, batch)
		res.newSights += n
		putErr = err
		batch = batch[:0]
	}
	cfg.OnSighting = func(s match.Sighting) {
		if opt.onSighting != nil {
			opt.onSighting(s)
		}
		batch = append(batch, s)
		if len(batch) >= 5000 {
			flush()
		}
	}
	if !app.Quiet && !app.JSON {
		if f, ok := app.Stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			cfg.Progress, cfg.IsTerminal = app.Stderr, true
		}
	}
	t1, cpu1 := time.Now(), scan.ProcessCPU()
	sum, err := scan.Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	workers := opt.workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	res.report = scan.RunReport{Indicators: snap.Len(), CompileSeconds: compileWall, CompileCPU: compileCPU, Snapshot: snap.Version(),
		Workers: workers, Summary: sum, ScanSeconds: time.Since(t1).Seconds(), ScanCPU: scan.ProcessCPU() - cpu1, PeakRSSBytes: scan.PeakRSS()}
	flush()
	if putErr != nil {
		return nil, fmt.Errorf("storing sightings: %w", putErr)
	}
	res.summary = sum
	if len(shards) > 0 {
		analyzer := shards[0].a
		for _, sh := range shards[1:] {
			analyzer.Merge(sh.a)
		}
		res.detections = analyzer.Finish()
		if err := db.PutDetections(ctx, res.detections); err != nil {
			return nil, fmt.Errorf("storing detections: %w", err)
		}
	}
	return res, nil
}

type analyseOptions struct {
	assets  string
	geoip   []string
	summary report.Summary
	org     string
	tlp     string
}

// analyse correlates the store's sightings and detections into campaigns
// and attributes each.
func (app *App) analyse(ctx context.Context, db store.Store, opt analyseOptions) (*report.Data, error) {
	loc, closeGeo, err := geoLocator(opt.geoip)
	if err != nil {
		return nil, err
	}
	defer closeGeo()
	var assets *correlate.Assets
	if opt.assets != "" {
		if assets, err = correlate.LoadAssets(opt.assets); err != nil {
			return nil, err
		}
	}
	var sightings []match.Sighting
	if err := db.Sightings(ctx, store.SightingQuery{}, func(s *match.Sighting) error {
		sightings = append(sightings, *s)
		return nil
	}); err != nil {
		return nil, err
	}
	var dets []behavior.Detection
	if err := db.Detections(ctx, func(d *behavior.Detection) error {
		dets = append(dets, *d)
		return nil
	}); err != nil {
		return nil, err
	}
	g, err := attribute.NewStoreGraph(ctx, db, loc)
	if err != nil {
		return nil, err
	}
	indicators := map[string]*intel.Object{}
	for i := range sightings {
		id := sightings[i].IndicatorID
		if _, ok := indicators[id]; !ok {
			indicators[id] = g.Indicator(id)
		}
	}
	ccfg := correlate.DefaultConfig()
	ccfg.MinDetectionScore = behavior.DefaultConfig().Threshold
	campaigns := correlate.Correlate(correlate.Input{Sightings: sightings, Detections: dets, Indicators: indicators,
		ActorsOf: func(id string) []string {
			var out []string
			for _, p := range g.Attributions(id) {
				out = append(out, p.ActorID)
			}
			return out
		}, Geo: loc, Assets: assets}, ccfg)
	acfg := attribute.DefaultConfig()
	assessments := map[string]*attribute.Assessment{}
	actors := map[string]*intel.Object{}
	for _, c := range campaigns {
		a := attribute.Assess(c, sightings, dets, g, acfg)
		assessments[c.ID] = a
		for _, h := range a.Hypotheses {
			if h.ID != attribute.UnknownActor && h.ID != attribute.Coincidence {
				if o := g.Indicator(h.ID); o != nil {
					actors[h.ID] = o
				}
			}
		}
	}
	if err := g.Err(); err != nil {
		return nil, err
	}
	sum := opt.summary
	sum.Sightings, sum.Suppressed, sum.Detections = 0, 0, 0
	for i := range sightings {
		if sightings[i].Suppressed {
			sum.Suppressed++
		} else {
			sum.Sightings++
		}
	}
	for i := range dets {
		if !dets[i].Suppressed && dets[i].Score >= behavior.DefaultConfig().Threshold {
			sum.Detections++
		}
	}
	doc := report.Build(report.Input{Summary: sum, Campaigns: campaigns, Assessments: assessments, Sightings: sightings,
		Detections: dets, Assets: assets, Config: acfg, Generated: time.Now(), Tool: "whodunit " + Version})
	for id, o := range indicators {
		if o == nil {
			delete(indicators, id)
		}
	}
	data := &report.Data{Doc: doc, Sightings: sightings, Indicators: indicators, Actors: actors, Org: opt.org, TLP: opt.tlp,
		Detections: dets, CampaignSightings: map[string][]int{}, CampaignDetections: map[string][]int{}}
	for _, c := range campaigns {
		data.CampaignSightings[c.ID] = c.Sightings
		data.CampaignDetections[c.ID] = c.Detections
	}
	return data, nil
}

// loadMapping reads a field mapping for JSON lines and CSV telemetry: inline
// ("ts=time,src_ip=client") or the path of a file of such lines.
func loadMapping(s string) (jsonl.Mapping, error) {
	if _, err := os.Stat(s); err == nil {
		return jsonl.LoadMapping(s)
	}
	return jsonl.ParseMapping(s)
}
