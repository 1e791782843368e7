package report_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/report/browsertest"
)

var demo struct {
	once sync.Once
	dir  string
	err  error
	out  []byte
}

// demoReports runs the demo (a real hunt on examples/) once per test
// binary and returns the directory of its reports; skipped when the
// examples or the go command are absent, and in -short mode.
func demoReports(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("demo hunt skipped in -short mode")
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	if _, err := os.Stat(filepath.Join(root, "examples", "intel")); err != nil {
		t.Skipf("examples not available: %v", err)
	}
	goExe, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to run the demo")
	}
	demo.once.Do(func() {
		demo.dir, demo.err = os.MkdirTemp("", "whodunit-report-demo-")
		if demo.err != nil {
			return
		}
		cmd := exec.Command(goExe, "run", "./cmd/whodunit", "-q", "demo", "--out", demo.dir)
		cmd.Dir = root
		demo.out, demo.err = cmd.CombinedOutput()
	})
	if demo.err != nil {
		t.Fatalf("demo: %v\n%s", demo.err, demo.out)
	}
	return demo.dir
}

func readDemoDoc(t *testing.T, dir string) *report.Document {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc report.Document
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	return &doc
}

// TestDemoHTMLInBrowser opens the demo's HTML report in headless Chromium:
// the summary, APT1's section, the technique table and the recommended
// actions must be on the page; screenshots of them are kept and printed.
func TestDemoHTMLInBrowser(t *testing.T) {
	browsertest.ChromiumPath(t)
	dir := demoReports(t)
	doc := readDemoDoc(t, dir)
	shot := browsertest.Check(t, filepath.Join(dir, "report.html"), browsertest.Want{Actor: "APT1", Country: "CN", TLP: "TLP:CLEAR",
		Maps: len(doc.Campaigns) + 1})
	t.Logf("screenshot: %s", shot)
}

// TestDemoNumbers checks the figures the demo's reports show against the
// data behind them.
func TestDemoNumbers(t *testing.T) {
	dir := demoReports(t)
	doc := readDemoDoc(t, dir)
	f, err := os.Open(filepath.Join(dir, "sightings.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows = rows[1:]
	if got := doc.Summary.Sightings + doc.Summary.Suppressed; got != len(rows) {
		t.Errorf("summary: %d sightings + %d suppressed, CSV has %d rows", doc.Summary.Sightings, doc.Summary.Suppressed, len(rows))
	}
	perCampaign := map[string]int{}
	for _, r := range rows {
		perCampaign[r[1]]++
	}
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	mdText, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	for _, c := range doc.Campaigns {
		if c.Sightings != perCampaign[c.ID] {
			t.Errorf("campaign %s: %d sightings, CSV has %d", c.ID, c.Sightings, perCampaign[c.ID])
		}
		examined := 0
		for _, e := range doc.Actions.Examine {
			if e.Campaign == c.ID {
				examined += e.Sightings
			}
		}
		if examined != c.Sightings {
			t.Errorf("campaign %s: hosts to examine add up to %d sightings, the campaign has %d", c.ID, examined, c.Sightings)
		}
		if len(c.DetectionDetails) != c.Detections {
			t.Errorf("campaign %s: %d detections, %d explained", c.ID, c.Detections, len(c.DetectionDetails))
		}
		for _, e := range c.Attribution.Evidence {
			if e.Count > 0 && e.More != e.Count-len(e.Sightings) {
				t.Errorf("campaign %s: evidence %q cites %d of %d but says %d more", c.ID, e.Detail, len(e.Sightings), e.Count, e.More)
			}
		}
		checkAlternative(t, &c)
		for _, v := range c.VictimDetails {
			for _, d := range c.DetectionDetails {
				if d.Src == v.Address && (d.LastSeen.After(v.LastSeen) || d.FirstSeen.Before(v.FirstSeen)) {
					t.Errorf("campaign %s: victim %s's dwell %s–%s does not cover detection %s", c.ID, v.Address, v.FirstSeen, v.LastSeen, d.ID)
				}
			}
		}
	}
	// The total the appendix states is the CSV's.
	for name, text := range map[string]string{"html": string(html), "md": string(mdText)} {
		if !strings.Contains(text, "of "+thousandsSep(len(rows))+" sightings") {
			t.Errorf("%s: the sightings appendix does not state the true total %d", name, len(rows))
		}
	}
	blocked := map[string]bool{}
	for _, b := range doc.Actions.Block {
		blocked[b.Value] = true
	}
	for _, c := range doc.Campaigns {
		for _, in := range c.Infrastructure {
			if in.Suppressed && blocked[in.Value] {
				t.Errorf("recommends blocking %s, which is on warninglist %s", in.Value, in.Warninglist)
			}
		}
	}
	if !bytes.Contains(html, []byte("8.8.8.8")) || blocked["8.8.8.8"] {
		t.Errorf("the public resolver decoy: shown %v, blocked %v", bytes.Contains(html, []byte("8.8.8.8")), blocked["8.8.8.8"])
	}
}

// checkAlternative: the alternative is never the hypothesis on top.
func checkAlternative(t *testing.T, c *report.Campaign) {
	t.Helper()
	a := &c.Attribution
	if len(a.Hypotheses) == 0 {
		return
	}
	if len(a.Alternatives) > 0 && a.Alternatives[0].ActorID == a.LeadingID {
		t.Errorf("campaign %s: the alternative %s is the leading hypothesis", c.ID, a.Alternatives[0].Actor)
	}
	if !a.Named && a.LeadingID != a.Hypotheses[0].ID {
		t.Errorf("campaign %s: leading %s, but %s scores highest", c.ID, a.Leading, a.Hypotheses[0].Name)
	}
}

// TestDemoSTIXAttribution: in the demo's bundle only the named campaigns
// are attributed-to an actor — the decoys are not.
func TestDemoSTIXAttribution(t *testing.T) {
	dir := demoReports(t)
	doc := readDemoDoc(t, dir)
	b, err := os.ReadFile(filepath.Join(dir, "report.stix.json"))
	if err != nil {
		t.Fatal(err)
	}
	var bundle struct {
		Objects []map[string]any `json:"objects"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, o := range bundle.Objects {
		if o["type"] == "campaign" {
			names[o["id"].(string)] = strings.TrimPrefix(o["name"].(string), "Campaign ")
		}
	}
	attributed := map[string]int{}
	for _, o := range bundle.Objects {
		if o["type"] == "relationship" && o["relationship_type"] == "attributed-to" {
			attributed[names[o["source_ref"].(string)]]++
		}
	}
	decoys := 0
	for _, c := range doc.Campaigns {
		want := 0
		if c.Attribution.Named {
			want = 1
		} else {
			decoys++
		}
		if attributed[c.ID] != want {
			t.Errorf("campaign %s (%s): %d attributed-to, want %d", c.ID, c.Attribution.Estimate, attributed[c.ID], want)
		}
	}
	if decoys != 3 {
		t.Errorf("%d campaigns not attributed; the demo has 3 decoys", decoys)
	}
}

// thousandsSep writes n as the reports do (narrow no-break space).
func thousandsSep(n int) string {
	var s []rune
	d := []rune(jsonInt(n))
	for i, c := range d {
		if i > 0 && (len(d)-i)%3 == 0 {
			s = append(s, '\u202f')
		}
		s = append(s, c)
	}
	return string(s)
}

func jsonInt(n int) string { b, _ := json.Marshal(n); return string(b) }
