package webui_test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// An analyst imports a real intelligence file through the form and sees
// the counts grow, then starts a job on real logs and watches its page
// follow the server-sent events until the job is done; no console
// problem, nothing requested beyond the server.
func TestIntelAndJobInBrowser(t *testing.T) {
	if _, err := os.Stat(apt1FQDN); err != nil {
		t.Skipf("real data not available: %v", err)
	}
	ctx, ev := newBrowser(t)
	e := jobsEnv(t)
	key := e.key("lead", "amber", true)
	var totalBefore, totalAfter, imported, state, result string
	var shots [2][]byte
	steps := append(signIn(e.base, key), []step{
		{"intelligence", true, []chromedp.Action{chromedp.Navigate(e.base + "/intel")}},
		{"choose a file", false, []chromedp.Action{chromedp.Text("#intel-total", &totalBefore, chromedp.ByQuery),
			chromedp.SetUploadFiles(`#import-form input[type="file"]`, []string{apt1FQDN}, chromedp.ByQuery)}},
		{"import", true, []chromedp.Action{chromedp.Submit("#import-form", chromedp.ByQuery)}},
		{"counts after", false, []chromedp.Action{chromedp.Text("#intel-total", &totalAfter, chromedp.ByQuery),
			chromedp.Text("#import-counts", &imported, chromedp.ByQuery), chromedp.CaptureScreenshot(&shots[0])}},
		{"jobs", true, []chromedp.Action{chromedp.Navigate(e.base + "/jobs")}},
		{"path", false, []chromedp.Action{chromedp.SendKeys(`#job-form input[name="path"]`, "002-zeek-scenario-port-scanning", chromedp.ByQuery)}},
		{"start", true, []chromedp.Action{chromedp.Submit("#job-form", chromedp.ByQuery)}},
		{"done", false, []chromedp.Action{chromedp.WaitVisible(`#job[data-state="done"]`, chromedp.ByQuery),
			chromedp.Text("#job-state", &state, chromedp.ByQuery), chromedp.Text("#job-result", &result, chromedp.ByQuery),
			chromedp.CaptureScreenshot(&shots[1])}},
	}...)
	runSteps(t, ctx, steps)
	before, _ := strconv.Atoi(totalBefore)
	after, _ := strconv.Atoi(totalAfter)
	if after <= before || !strings.Contains(imported, "indicator") {
		t.Errorf("import: total %d → %d, imported %q", before, after, imported)
	}
	if state != "done" || !strings.Contains(result, "analysis") {
		t.Errorf("job: %q, %q", state, result)
	}
	checkClean(t, ev, e.base)
	saveShots(t, shots[:], "intel", "job")
}
