// Package browsertest opens an HTML report in headless Chromium, as a reader
// would, and checks it: nothing requested from outside the file, a clean
// console, the actor named, the map and charts drawn, a whole-page
// screenshot and a printable PDF. Tests of the report package and of the
// demo use it; it is not part of the program.
package browsertest

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ChromiumPath is Debian's chromium (.ci/setup.sh installs it), or
// WHODUNIT_CHROMIUM; the test is skipped when there is none.
func ChromiumPath(t testing.TB) string {
	p := os.Getenv("WHODUNIT_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(p); err != nil {
		t.Skipf("headless browser test skipped: no chromium at %s (apt-get install chromium, or set WHODUNIT_CHROMIUM)", p)
	}
	return p
}

// pageFacts is what the test reads from the rendered page.
type pageFacts struct {
	Title        string   `json:"title"`
	Headline     string   `json:"headline"`
	Scripts      int      `json:"scripts"`
	DefsPaths    int      `json:"defsPaths"`
	DrawnPaths   int      `json:"drawnPaths"`
	Maps         int      `json:"maps"`
	LandWidth    float64  `json:"landWidth"`
	Hits         []hit    `json:"hits"`
	Markers      int      `json:"markers"`
	Bars         int      `json:"bars"`
	HeatCells    int      `json:"heatCells"`
	Offices      int      `json:"offices"`
	TimelineBars int      `json:"timelineBars"`
	EvidenceRefs int      `json:"evidenceRefs"`
	BrokenRefs   []string `json:"brokenRefs"`
	TLPTop       string   `json:"tlpTop"`
	TLPBottom    string   `json:"tlpBottom"`
	// The sections a reader acts on.
	Summary       string   `json:"summary"`
	SummaryRows   int      `json:"summaryRows"`
	Findings      int      `json:"findings"`
	Actions       string   `json:"actions"`
	BlockRows     int      `json:"blockRows"`
	ExamineRows   int      `json:"examineRows"`
	Actors        []string `json:"actors"`
	ActorText     string   `json:"actorText"`
	Techniques    int      `json:"techniques"`
	Detections    int      `json:"detections"`
	NoMaps        int      `json:"noMaps"`
	ClippedLabels []string `json:"clippedLabels"`
	TLPPrintTop   string   `json:"tlpPrintTop"`
}

type hit struct {
	CC    string  `json:"cc"`
	Width float64 `json:"width"`
	Fill  string  `json:"fill"`
}

const factsJS = `(() => {
  const q = s => [...document.querySelectorAll(s)];
  const defs = q('svg.map-defs path');
  return {
    title: document.title,
    headline: document.querySelector('#headline').innerText,
    scripts: document.scripts.length,
    defsPaths: defs.length,
    drawnPaths: defs.filter(p => (p.getAttribute('d') || '').length > 10 && p.getBBox().width > 0).length,
    maps: q('svg.worldmap').length,
    landWidth: Math.min(...q('svg.worldmap use.land').map(u => u.getBBox().width)),
    hits: q('svg.worldmap use.hit').map(u => ({cc: u.dataset.cc, width: u.getBBox().width, fill: getComputedStyle(u).fill})),
    markers: q('svg.worldmap g.marker circle').filter(c => c.r.baseVal.value > 0).length,
    bars: q('svg.bar-chart rect.bar').filter(r => r.getBBox().width > 0).length,
    heatCells: q('svg.heatmap rect.cell').length,
    offices: q('svg.heatmap rect.office').length,
    timelineBars: q('svg.timeline rect.sighting').filter(r => r.getBBox().height > 0).length,
    evidenceRefs: q('table.matrix a[href^="#s-"]').length,
    brokenRefs: q('a[href^="#"]').map(a => a.getAttribute('href').slice(1)).filter(id => !document.getElementById(id)),
    tlpTop: document.querySelector('#tlp-top').innerText,
    tlpBottom: document.querySelector('#tlp-bottom').innerText,
    summary: document.querySelector('#summary').innerText,
    summaryRows: q('#summary table.summary tbody tr').length,
    findings: q('#key-findings li').length,
    actions: (document.querySelector('#actions') || {innerText: ''}).innerText,
    blockRows: q('#actions table.block tbody tr').length,
    examineRows: q('#actions table.examine tbody tr').length,
    actors: q('section.actor h2').map(h => h.innerText),
    actorText: q('section.actor').map(s => s.innerText).join('\n'),
    techniques: q('table.techniques tbody tr').length,
    detections: q('table.detections tbody tr').length,
    noMaps: q('p.no-map').length,
    // Chart labels must lie inside their chart: a label cut by the SVG's
    // edge is unreadable.
    clippedLabels: q('svg.chart').flatMap(svg => {
      const box = svg.getBoundingClientRect();
      return [...svg.querySelectorAll('text')].filter(t => t.textContent.trim() !== '').filter(t => {
        const r = t.getBoundingClientRect();
        return r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1);
      }).map(t => t.textContent);
    }),
    tlpPrintTop: [...document.styleSheets].some(s => [...s.cssRules].some(r => r.media && [...r.media].includes('print') &&
      [...r.cssRules].some(x => (x.selectorText || '').includes('.tlp') && x.style.position === 'fixed'))) ? 'fixed' : '',
  };
})()`

// Want is what the page must show.
type Want struct {
	Actor   string // named in the title and the headline
	Country string // highlighted on the map (where C2 servers are)
	TLP     string // e.g. "TLP:AMBER"
	Maps    int    // world maps expected
}

// Check opens htmlPath in headless Chromium and checks it against want.
// It returns the path of the full-page screenshot it took.
func Check(t testing.TB, htmlPath string, want Want) string {
	t.Helper()
	exe := ChromiumPath(t)
	dir := t.TempDir()
	// A fresh profile, removed after the browser's helpers have exited
	// (they may still write to it for a moment after the browser closes).
	profile, err := os.MkdirTemp("", "whodunit-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 50; i++ {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("could not remove %s", profile)
	})
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("no-pings", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1200, 900),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	var mu sync.Mutex
	var requests, problems []string
	chromedp.ListenTarget(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			requests = append(requests, e.Request.URL)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError || e.Type == runtime.APITypeWarning {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value))
				}
				problems = append(problems, "console "+string(e.Type)+": "+strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+e.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.LevelError || e.Entry.Level == cdplog.LevelWarning {
				problems = append(problems, "log "+string(e.Entry.Level)+": "+e.Entry.Text+" "+e.Entry.URL)
			}
		}
	})

	var facts pageFacts
	var shot, pdf []byte
	sections := map[string]*[]byte{"summary": new([]byte), "actions": new([]byte)}
	err = chromedp.Run(bctx,
		network.Enable(),
		cdplog.Enable(),
		chromedp.Navigate("file://"+htmlPath),
		chromedp.WaitReady("#headline", chromedp.ByQuery),
		chromedp.Evaluate(factsJS, &facts),
		chromedp.FullScreenshot(&shot, 100),
		chromedp.Screenshot("#summary", sections["summary"], chromedp.ByQuery),
		chromedp.Screenshot("#actions", sections["actions"], chromedp.ByQuery),
		chromedp.ActionFunc(func(ctx context.Context) error {
			var err error
			pdf, _, err = page.PrintToPDF().WithPrintBackground(true).Do(ctx)
			return err
		}),
	)
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	time.Sleep(200 * time.Millisecond) // let late events arrive
	mu.Lock()
	defer mu.Unlock()

	// Offline: nothing but the file itself (and inline data) was requested.
	for _, u := range requests {
		if !strings.HasPrefix(u, "file://") && !strings.HasPrefix(u, "data:") && u != "about:blank" {
			t.Errorf("request left the file: %s", u)
		}
	}
	if len(requests) == 0 {
		t.Error("no request recorded at all: the network listener is not working")
	}
	for _, p := range problems {
		t.Errorf("browser reported: %s", p)
	}

	actor := want.Actor
	if !strings.Contains(facts.Headline, actor) || !strings.Contains(facts.Title, actor) {
		t.Errorf("summary does not name %s: title %q, headline %q", actor, facts.Title, facts.Headline)
	}
	if facts.Scripts != 0 {
		t.Errorf("%d scripts: the report must read without JavaScript", facts.Scripts)
	}
	if facts.DefsPaths < 170 || facts.DrawnPaths < 170 {
		t.Errorf("map outlines: %d paths, %d drawn; want the ~175 countries", facts.DefsPaths, facts.DrawnPaths)
	}
	// A campaign with no located server gets a sentence instead of an
	// empty map.
	if facts.Maps+facts.NoMaps != want.Maps || facts.Maps == 0 || facts.LandWidth < 500 {
		t.Errorf("%d maps and %d map notes (want one per campaign and one overall), smallest land width %.0f", facts.Maps, facts.NoMaps, facts.LandWidth)
	}
	cn := 0
	for _, h := range facts.Hits {
		if h.Width <= 0 || h.Fill == "" || h.Fill == "none" || h.Fill == "rgb(217, 222, 228)" {
			t.Errorf("highlighted country %s not drawn in colour: width %.1f fill %s", h.CC, h.Width, h.Fill)
		}
		if h.CC == want.Country {
			cn++
		}
	}
	if cn == 0 {
		t.Errorf("%s, where the C2 servers are, is not highlighted: %+v", want.Country, facts.Hits)
	}
	if facts.Markers == 0 || facts.Bars == 0 || facts.HeatCells == 0 || facts.Offices == 0 || facts.TimelineBars == 0 {
		t.Errorf("charts are empty: %+v", facts)
	}
	if facts.EvidenceRefs == 0 || len(facts.BrokenRefs) > 0 {
		t.Errorf("evidence links: %d, broken anchors %v", facts.EvidenceRefs, facts.BrokenRefs)
	}
	if facts.TLPTop != want.TLP || facts.TLPBottom != want.TLP {
		t.Errorf("TLP labels %q / %q", facts.TLPTop, facts.TLPBottom)
	}
	if facts.TLPPrintTop != "fixed" {
		t.Error("the TLP label is not fixed in print: it would not head every printed page")
	}
	checkSections(t, &facts, want)

	// The screenshot is a real picture of a long page.
	shotPath := filepath.Join(dir, "report.png")
	if err := os.WriteFile(shotPath, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := os.Getenv("WHODUNIT_SCREENSHOT"); out != "" {
		_ = os.WriteFile(out, shot, 0o644)
	}
	for name, b := range sections {
		p := filepath.Join(dir, name+".png")
		if _, err := png.Decode(bytes.NewReader(*b)); err != nil || len(*b) < 1000 {
			t.Errorf("screenshot of %s is not a PNG (%d bytes): %v", name, len(*b), err)
		}
		if err := os.WriteFile(p, *b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot of %s: %s", name, p)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot %s is not a PNG: %v", shotPath, err)
	}
	if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 3000 {
		t.Errorf("screenshot is %dx%d, want the whole page", b.Dx(), b.Dy())
	}
	if n := colours(img); n < 50 {
		t.Errorf("screenshot has %d colours: nothing rendered?", n)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF")) || len(pdf) < 20_000 {
		t.Errorf("printing gave %d bytes, not a PDF of the report", len(pdf))
	}
	return shotPath
}

// colours counts distinct colours on a grid of samples.
func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r >> 8, g >> 8, bl >> 8, a >> 8}] = true
		}
	}
	return len(seen)
}

// checkSections checks what a reader acts on: the summary covers every
// campaign, the actor named has its section, the recommended actions are
// there, and behaviour is mapped to techniques.
func checkSections(t testing.TB, f *pageFacts, want Want) {
	t.Helper()
	if f.SummaryRows == 0 || f.Findings == 0 || !strings.Contains(f.Summary, "Key findings") {
		t.Errorf("executive summary: %d campaign rows, %d key findings", f.SummaryRows, f.Findings)
	}
	if !strings.Contains(f.Actions, "Block") || !strings.Contains(f.Actions, "Examine these hosts") || !strings.Contains(f.Actions, "Hunt for next") ||
		f.ExamineRows == 0 {
		t.Errorf("recommended actions incomplete (%d hosts to examine): %.300q", f.ExamineRows, f.Actions)
	}
	named := false
	for _, h := range f.Actors {
		if strings.Contains(h, want.Actor) {
			named = true
		}
	}
	if !named || !strings.Contains(f.ActorText, "Malware and tools") || !strings.Contains(f.ActorText, "Source reports") {
		t.Errorf("no actor section for %s: %v", want.Actor, f.Actors)
	}
	if f.Detections > 0 && f.Techniques == 0 {
		t.Errorf("%d behavioural detections shown but no technique table", f.Detections)
	}
	if len(f.ClippedLabels) > 0 {
		t.Errorf("chart labels cut by the chart's edge: %q", f.ClippedLabels)
	}
}
