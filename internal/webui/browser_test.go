package webui_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/webui"
)

// chromium is Debian's chromium or WHODUNIT_CHROMIUM. Without one the
// test is skipped, loudly, except under CI=true, where it fails.
func chromium(t *testing.T) string {
	p := os.Getenv("WHODUNIT_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no chromium at %s under CI=true", p)
		}
		t.Skipf("SKIPPED: headless browser test: no chromium at %s (apt-get install chromium, or set WHODUNIT_CHROMIUM)", p)
	}
	return p
}

// browserEvents records what the page requested and every console
// error, warning, exception and log entry (CSP violations are these).
type browserEvents struct {
	mu       sync.Mutex
	requests []string
	problems []string
}

func (b *browserEvents) listen(ctx context.Context) {
	chromedp.ListenTarget(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			b.requests = append(b.requests, e.Request.URL)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError || e.Type == runtime.APITypeWarning {
				b.problems = append(b.problems, "console "+string(e.Type))
			}
		case *runtime.EventExceptionThrown:
			b.problems = append(b.problems, "exception: "+e.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.LevelError || e.Entry.Level == cdplog.LevelWarning {
				b.problems = append(b.problems, "log "+string(e.Entry.Level)+": "+e.Entry.Text+" "+e.Entry.URL)
			}
		}
	})
}

func newBrowser(t *testing.T) (context.Context, *browserEvents) {
	exe := chromium(t)
	// Not t.TempDir: Chromium may still write its profile for a moment
	// after it was told to stop, which fails TempDir's cleanup.
	profile, err := os.MkdirTemp("", "whodunit-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true), chromedp.Flag("no-pings", true),
		chromedp.UserDataDir(profile), chromedp.WindowSize(1280, 900),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancel()
		for i := 0; i < 20 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	ev := &browserEvents{}
	ev.listen(bctx)
	if err := chromedp.Run(bctx, network.Enable(), cdplog.Enable()); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return bctx, ev
}

// An analyst signs in, opens the overview, follows a campaign to a cited
// record, marks one of a campaign's detections false positive, sees it
// leave the list, re-analyses the store and sees the campaign count one
// detection less; no CSP violation or other console problem, and no
// request leaves the server.
func TestAnalystInBrowser(t *testing.T) {
	ctx, ev := newBrowser(t)
	e := newEnv(t, webui.Config{})
	key := e.key("lead", "amber", true)
	doc := e.doc()
	det, camp := campaignDetection(t, e)
	var campaigns, actor, recordOpen, totalBefore, totalAfter, decision, jobState, countAfter string
	var shots [3][]byte
	row := `#detections tr[data-id="` + det.ID + `"]`
	steps := append(signIn(e.base, key), []step{
		{"overview", false, []chromedp.Action{chromedp.WaitVisible("#campaigns", chromedp.ByQuery),
			chromedp.Text("#count-campaigns", &campaigns, chromedp.ByQuery), chromedp.CaptureScreenshot(&shots[0])}},
		{"follow a campaign", true, []chromedp.Action{chromedp.Click(`#campaigns tbody tr:first-child a`, chromedp.ByQuery)}},
		{"open an evidence cell", false, []chromedp.Action{chromedp.WaitVisible("#matrix", chromedp.ByQuery),
			chromedp.Text("#actor", &actor, chromedp.ByQuery),
			chromedp.Click(`#matrix details.cell summary`, chromedp.ByQuery),
			chromedp.WaitVisible(`#matrix details.cell[open] ol.records li`, chromedp.ByQuery),
			chromedp.Evaluate(`document.querySelector('#matrix details.cell[open]').innerText`, &recordOpen),
			chromedp.CaptureScreenshot(&shots[1])}},
		{"detections", true, []chromedp.Action{chromedp.Navigate(e.base + "/detections?destination=" + url.QueryEscape(det.Dst))}},
		{"note", false, []chromedp.Action{chromedp.WaitVisible(row, chromedp.ByQuery), chromedp.Text("#det-total", &totalBefore, chromedp.ByQuery),
			chromedp.SendKeys(row+` input[name="note"]`, "nightly backup", chromedp.ByQuery)}},
		{"mark false positive", true, []chromedp.Action{chromedp.Click(row+` button[value="false_positive"]`, chromedp.ByQuery)}},
		{"list after", false, []chromedp.Action{chromedp.Text("#det-total", &totalAfter, chromedp.ByQuery)}},
		{"all detections", true, []chromedp.Action{chromedp.Navigate(e.base + "/detections?all=true&destination=" + url.QueryEscape(det.Dst))}},
		{"the verdict shown", false, []chromedp.Action{chromedp.Text(row+" .decision", &decision, chromedp.ByQuery), chromedp.CaptureScreenshot(&shots[2])}},
		{"jobs", true, []chromedp.Action{chromedp.Navigate(e.base + "/jobs")}},
		{"re-analyse", true, []chromedp.Action{chromedp.Click(`#analyse-job-form button`, chromedp.ByQuery)}},
		{"analysis done", false, []chromedp.Action{chromedp.WaitVisible(`#job[data-state="done"]`, chromedp.ByQuery), chromedp.Text("#job-state", &jobState, chromedp.ByQuery)}},
		{"the campaign again", true, []chromedp.Action{chromedp.Navigate(e.base + "/campaigns/" + url.PathEscape(camp.ID))}},
		{"its assessment now", false, []chromedp.Action{chromedp.Text("#detection-count", &countAfter, chromedp.ByQuery)}},
	}...)
	runSteps(t, ctx, steps)
	if campaigns != strconv.Itoa(len(doc.Campaigns)) {
		t.Errorf("overview shows %s campaigns, stored %d", campaigns, len(doc.Campaigns))
	}
	first := doc.Campaigns[0].Attribution
	if want := map[bool]string{true: first.Actor, false: first.Leading}[first.Named]; actor != want {
		t.Errorf("campaign page names %q, stored %q", actor, want)
	}
	if !strings.Contains(recordOpen, ":") {
		t.Errorf("the opened cell shows no record: %q", recordOpen)
	}
	before, _ := strconv.Atoi(totalBefore)
	after, _ := strconv.Atoi(totalAfter)
	if after >= before || decision != "false_positive" {
		t.Errorf("after marking %s false positive: %d → %d listed, decision %q", det.ID, before, after, decision)
	}
	checkReassessed(t, e, camp, det.ID, jobState, countAfter)
	checkClean(t, ev, e.base)
	saveShots(t, shots[:], "overview", "campaign", "detections")
}

// checkReassessed: the re-analysis is the latest stored, the campaign's
// page shows its count of detections, lower than before, without the one
// marked false positive.
func checkReassessed(t *testing.T, e *env, before report.Campaign, det, jobState, shown string) {
	t.Helper()
	i := slices.IndexFunc(e.doc().Campaigns, func(c report.Campaign) bool { return c.ID == before.ID })
	if jobState != "done" || i < 0 {
		t.Fatalf("re-analysis %q; campaign %s in it: %v", jobState, before.ID, i >= 0)
	}
	now := e.doc().Campaigns[i]
	if shown != strconv.Itoa(now.Detections) || now.Detections >= before.Detections {
		t.Errorf("campaign %s shows %s detections; stored %d, %d before the verdict", before.ID, shown, now.Detections, before.Detections)
	}
	for _, d := range now.DetectionDetails {
		if d.ID == det {
			t.Errorf("campaign %s still counts %s", before.ID, det)
		}
	}
}

// campaignDetection is a detection the latest analysis counts in a
// campaign, and that campaign. A campaign is named after its first
// incident: the detection is from another victim than that incident's,
// which has sightings, so that the campaign keeps its id without it.
func campaignDetection(t *testing.T, e *env) (report.DetectionDetail, report.Campaign) {
	for _, c := range e.doc().Campaigns {
		if c.Detections != len(c.DetectionDetails) || len(c.Incidents) == 0 || c.Incidents[0].Sightings == 0 {
			continue
		}
		for _, d := range c.DetectionDetails {
			if d.Src != c.Incidents[0].Victim {
				return d, c
			}
		}
	}
	t.Fatal("no campaign of the demo counts a detection")
	return report.DetectionDetail{}, report.Campaign{}
}

// saveShots writes the screenshots to WHODUNIT_SCREENSHOT_DIR, or to the
// test's temporary directory.
func saveShots(t *testing.T, shots [][]byte, names ...string) {
	dir := os.Getenv("WHODUNIT_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	for i, b := range shots {
		p := filepath.Join(dir, "webui-"+names[i]+".png")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Error(err)
		}
		t.Logf("screenshot: %s", p)
	}
}
