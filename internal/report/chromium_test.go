package report_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/report/browsertest"
)

// TestHTMLInBrowser renders the APT1 fixture's HTML report in headless
// Chromium; internal/cli's TestDemoReportInBrowser does the same for the
// demo's real report.
func TestHTMLInBrowser(t *testing.T) {
	browsertest.ChromiumPath(t)
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	d := apt1Data(t)
	var buf bytes.Buffer
	if err := report.RenderHTML(&buf, d); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	browsertest.Check(t, path, browsertest.Want{Actor: d.Doc.Campaigns[0].Attribution.Actor, Country: "CN",
		TLP: "TLP:AMBER", Maps: len(d.Doc.Campaigns) + 1})
}
