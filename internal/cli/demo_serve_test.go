package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// `whodunit demo --serve` runs the demo, then serves the web interface on
// its results, printing the address and a key that signs in; the key
// sees the demo's campaigns, and the server stops with its context.
func TestDemoServe(t *testing.T) {
	// heavy and independent: runs beside the rest of the package
	t.Parallel()
	if testing.Short() {
		t.Skip("demo hunt skipped in -short mode")
	}
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"demo", "--examples", filepath.Join("..", "..", "examples"), "--out", out, "--serve", "--listen", "127.0.0.1:0"},
			strings.NewReader(""), &stdout, &stderr)
	}()
	addr := waitFor(t, &stdout, regexp.MustCompile(`The web interface: (http://127\.0\.0\.1:[0-9]+)/`))
	key := waitFor(t, &stdout, regexp.MustCompile(`Sign in with the key (whodunit_[A-Za-z0-9_-]+)`))
	req, _ := http.NewRequest(http.MethodGet, addr+"/api/v1/overview", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var ov struct {
		Counts struct{ Campaigns int }
	}
	err = json.NewDecoder(resp.Body).Decode(&ov)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || ov.Counts.Campaigns != 5 {
		t.Errorf("overview: %d %v, %d campaigns (the demo finds 5)", resp.StatusCode, err, ov.Counts.Campaigns)
	}
	resp, err = http.Get(addr + "/api/v1/overview")
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("without the key: %d", resp.StatusCode)
		}
	}
	cancel()
	select {
	case c := <-done:
		if c != 0 {
			t.Fatalf("demo --serve exited %d: %s", c, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("demo --serve did not stop")
	}
}
