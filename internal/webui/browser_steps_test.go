package webui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// step is one thing an analyst does in the browser; a step that loads a
// page waits for its answer, which must be 200.
type step struct {
	name     string
	navigate bool
	acts     []chromedp.Action
}

func runSteps(t *testing.T, ctx context.Context, steps []step) {
	t.Helper()
	for _, st := range steps {
		var err error
		if st.navigate {
			var resp *network.Response
			resp, err = chromedp.RunResponse(ctx, st.acts...)
			if err == nil && resp.Status != 200 {
				t.Fatalf("%s: HTTP %d", st.name, resp.Status)
			}
		} else {
			err = chromedp.Run(ctx, st.acts...)
		}
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
	}
}

// signIn is the login form filled and sent.
func signIn(base, key string) []step {
	return []step{
		{"login form", true, []chromedp.Action{chromedp.Navigate(base + "/")}},
		{"sign in", true, []chromedp.Action{chromedp.SendKeys("#key", key, chromedp.ByQuery), chromedp.Submit("#login-form", chromedp.ByQuery)}},
	}
}

// checkClean fails on any console problem and on any request to
// anything but the server.
func checkClean(t *testing.T, ev *browserEvents, base string) {
	t.Helper()
	time.Sleep(200 * time.Millisecond)
	ev.mu.Lock()
	defer ev.mu.Unlock()
	for _, p := range ev.problems {
		t.Errorf("browser: %s", p)
	}
	for _, u := range ev.requests {
		if !strings.HasPrefix(u, base+"/") {
			t.Errorf("request left the server: %s", u)
		}
	}
}
