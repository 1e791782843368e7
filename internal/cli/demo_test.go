package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/report/browsertest"
)

// runDemo runs `whodunit demo` on the shipped examples into a temp dir.
func runDemo(t *testing.T) (string, *report.Document, string) {
	t.Helper()
	out := t.TempDir()
	stdout, stderr, code := runCLI(t, "demo", "--examples", filepath.Join("..", "..", "examples"), "--out", out)
	if code != 0 {
		t.Fatalf("demo exit %d\n%s\n%s", code, stdout, stderr)
	}
	data, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc report.Document
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return out, &doc, stdout
}

func TestDemo(t *testing.T) {
	// heavy and independent: runs beside the rest of the package
	t.Parallel()
	out, doc, stdout := runDemo(t)
	for _, f := range []string{"report.html", "report.md", "report.json", "report.stix.json", "sightings.csv"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("demo did not write %s: %v", f, err)
		}
	}
	if len(doc.Campaigns) == 0 || doc.Campaigns[0].Attribution.Actor != "APT1" || !confident[doc.Campaigns[0].Attribution.Estimate] {
		t.Fatalf("the demo's main campaign is not attributed to APT1 with confidence: %+v", doc.Campaigns[0].Attribution)
	}
	for _, want := range []string{"APT1 is", "UTC+8", "Reports:"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
}

// TestDemoReportInBrowser opens the demo's HTML report in headless Chromium.
func TestDemoReportInBrowser(t *testing.T) {
	// heavy and independent: runs beside the rest of the package
	t.Parallel()
	browsertest.ChromiumPath(t)
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	out, doc, _ := runDemo(t)
	shot := browsertest.Check(t, filepath.Join(out, "report.html"), browsertest.Want{Actor: "APT1", Country: "CN",
		TLP: "TLP:CLEAR", Maps: len(doc.Campaigns) + 1})
	t.Logf("screenshot: %s", shot)
}
