package webui_test

import (
	"context"
	"slices"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/webui"
)

// pivotDomain is a domain of a campaign's infrastructure, the distinct
// hosts of its first 100 sightings in the store's order (what one search
// page lists), and one of them that is a victim of the campaign.
func pivotDomain(t *testing.T, e *env) (camp report.Campaign, domain string, hosts []string, victim string) {
	for _, c := range e.doc().Campaigns {
		for _, in := range c.Infrastructure {
			if in.Kind != "domain" {
				continue
			}
			var seen []string
			if err := e.db.Sightings(context.Background(), store.SightingQuery{Value: in.Value, Limit: 100}, func(s *match.Sighting) error {
				if h := s.SrcIP.String(); s.SrcIP.IsValid() && !slices.Contains(seen, h) {
					seen = append(seen, h)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			slices.Sort(seen)
			for _, h := range seen {
				if slices.Contains(c.Victims, h) {
					return c, in.Value, seen, h
				}
			}
		}
	}
	t.Fatal("no campaign domain was looked up by one of its victims")
	return
}

// An analyst works by keyboard and pivots: Tab reaches the skip link,
// Enter on it moves to the content, "/" focuses the search box, a domain
// typed there and Enter lists the hosts that looked it up (the store's
// own), one of them leads to its campaign, and Enter on an evidence cell
// opens it; no console problem, nothing requested beyond the server.
func TestPivotAndKeyboardInBrowser(t *testing.T) {
	ctx, ev := newBrowser(t)
	e := newEnv(t, webui.Config{})
	key := e.key("analyst", "amber", false)
	camp, domain, hosts, victim := pivotDomain(t, e)
	var afterTab, afterSkip, hash, afterSlash, query string
	var shownHosts, hostCampaigns []string
	var opened bool
	var shot []byte
	steps := append(signIn(e.base, key), []step{
		{"overview", false, []chromedp.Action{chromedp.WaitVisible("#campaigns", chromedp.ByQuery)}},
		{"Tab", false, []chromedp.Action{chromedp.KeyEvent(kb.Tab), chromedp.Evaluate(`document.activeElement.className`, &afterTab)}},
		{"Enter on the skip link", false, []chromedp.Action{chromedp.KeyEvent(kb.Enter),
			chromedp.Evaluate(`document.activeElement.id`, &afterSkip), chromedp.Evaluate(`location.hash`, &hash)}},
		{"slash", false, []chromedp.Action{pressSlash(), chromedp.Evaluate(`document.activeElement.id`, &afterSlash)}},
		{"type a domain and Enter", true, []chromedp.Action{chromedp.KeyEvent(domain), chromedp.KeyEvent(kb.Enter)}},
		{"the hosts", false, []chromedp.Action{chromedp.Text("#query", &query, chromedp.ByQuery),
			chromedp.Evaluate(`Array.from(new Set(Array.from(document.querySelectorAll('#sightings tbody tr td:nth-child(4) a')).map(a => a.textContent))).sort()`, &shownHosts),
			chromedp.CaptureScreenshot(&shot)}},
	}...)
	runSteps(t, ctx, steps)
	if query != domain || !slices.Equal(shownHosts, hosts) {
		t.Fatalf("search %q shows hosts %v; the store's sightings of %s come from %v", query, shownHosts, domain, hosts)
	}
	steps = []step{
		{"pivot to a host", true, []chromedp.Action{chromedp.Click(`#sightings a[href="/search?q=`+victim+`"]`, chromedp.ByQuery)}},
		{"its campaigns", false, []chromedp.Action{chromedp.Evaluate(`Array.from(document.querySelectorAll('#hit-campaigns a')).map(a => a.textContent)`, &hostCampaigns)}},
		{"back to the campaign", true, []chromedp.Action{chromedp.Click(`#hit-campaigns a[href="/campaigns/`+camp.ID+`"]`, chromedp.ByQuery)}},
		{"Enter on an evidence cell", false, []chromedp.Action{chromedp.WaitVisible("#matrix", chromedp.ByQuery),
			chromedp.Focus(`#matrix details.cell summary`, chromedp.ByQuery), chromedp.KeyEvent(kb.Enter),
			chromedp.Evaluate(`document.querySelector('#matrix details.cell').open`, &opened)}},
	}
	runSteps(t, ctx, steps)
	if afterTab != "skip" || afterSkip != "main" || hash != "#main" || afterSlash != "search-box" {
		t.Errorf("keyboard: Tab focused %q, the skip link led to %q (%s), / focused %q", afterTab, afterSkip, hash, afterSlash)
	}
	if !slices.Contains(hostCampaigns, camp.ID) {
		t.Errorf("host %s leads to %v, not to its campaign %s", victim, hostCampaigns, camp.ID)
	}
	if !opened {
		t.Error("Enter on an evidence cell did not open it")
	}
	checkClean(t, ev, e.base)
	saveShots(t, [][]byte{shot}, "pivot")
}

// pressSlash sends "/" as a keyboard does: one keyDown carrying its text,
// whose default (typing it) the page may prevent, then keyUp. chromedp's
// KeyEvent sends the text as a separate char event, which no page
// handler can prevent.
func pressSlash() chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		down := input.DispatchKeyEvent(input.KeyDown).WithKey("/").WithCode("Slash").WithText("/").WithWindowsVirtualKeyCode(191)
		if err := down.Do(ctx); err != nil {
			return err
		}
		return input.DispatchKeyEvent(input.KeyUp).WithKey("/").WithCode("Slash").WithWindowsVirtualKeyCode(191).Do(ctx)
	})
}
