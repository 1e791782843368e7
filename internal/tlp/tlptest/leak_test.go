package tlptest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/export"
	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

const (
	statementID = "marking-definition--d6e1c3a0-7f57-4d3c-9a7b-2d1f0c6a9e11"
	unknownID   = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ec" // from the OASIS interop example
)

// marking is one way an indicator can be marked, with the level the rules
// must give it, written out here rather than computed by package tlp.
type marking struct {
	name     string
	refs     []string // object_marking_refs
	granular string   // a marking_ref in granular_markings
	want     tlp.Level
}

func markings(t *testing.T) []marking {
	std := func(l, v string) string {
		m, err := intel.TLPMarkingVersion(l, v)
		if err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	return []marking{
		{"tlp1-white", []string{std("white", "1.0")}, "", tlp.Clear},
		{"tlp1-green", []string{std("green", "1.0")}, "", tlp.Green},
		{"tlp1-amber", []string{std("amber", "1.0")}, "", tlp.Amber},
		{"tlp1-red", []string{std("red", "1.0")}, "", tlp.Red},
		{"tlp2-clear", []string{std("clear", "2.0")}, "", tlp.Clear},
		{"tlp2-green", []string{std("green", "2.0")}, "", tlp.Green},
		{"tlp2-amber", []string{std("amber", "2.0")}, "", tlp.Amber},
		{"tlp2-amber-strict", []string{std("amber+strict", "2.0")}, "", tlp.AmberStrict},
		{"tlp2-red", []string{std("red", "2.0")}, "", tlp.Red},
		{"none", nil, "", tlp.Unmarked},
		{"statement", []string{statementID}, "", tlp.Unmarked},
		{"statement-and-green", []string{statementID, std("green", "2.0")}, "", tlp.Green},
		{"granular-red", []string{std("clear", "2.0")}, std("red", "2.0"), tlp.Red},
		{"granular-amber-strict", nil, std("amber+strict", "2.0"), tlp.AmberStrict},
		{"granular-green", []string{std("white", "1.0")}, std("green", "1.0"), tlp.Green},
		{"unknown", []string{unknownID}, "", tlp.Amber},
		{"unknown-and-red", []string{unknownID, std("red", "1.0")}, "", tlp.Red},
	}
}

// ceilings are every level a recipient can have, internal or not.
func ceilings() []tlp.Ceiling {
	var out []tlp.Ceiling
	for l := tlp.Clear; l <= tlp.Red; l++ {
		out = append(out, tlp.Ceiling{Max: l}, tlp.Ceiling{Max: l, Internal: true})
	}
	return out
}

// mayLeave is the rule, stated independently of package tlp.
func mayLeave(l tlp.Level, c tlp.Ceiling) bool {
	switch l {
	case tlp.Red:
		return false
	case tlp.AmberStrict:
		return c.Internal && c.Max >= tlp.AmberStrict
	}
	return l <= c.Max
}

func domain(m marking) string { return m.name + ".leak.example" }

// bundle is one STIX bundle with an indicator per marking and the
// statement marking's definition.
func bundle(t *testing.T, ms []marking) []byte {
	objs := []map[string]any{{
		"type": "marking-definition", "spec_version": "2.1", "id": statementID,
		"created": "2026-01-01T00:00:00.000Z", "definition_type": "statement",
		"definition": map[string]string{"statement": "Copyright 2026 Example CERT"},
	}}
	for i, m := range ms {
		o := map[string]any{
			"type": "indicator", "spec_version": "2.1", "id": fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", i+1),
			"created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
			"pattern": "[domain-name:value = '" + domain(m) + "']", "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
		}
		if m.refs != nil {
			o["object_marking_refs"] = m.refs
		}
		if m.granular != "" {
			o["granular_markings"] = []map[string]any{{"marking_ref": m.granular, "selectors": []string{"pattern"}}}
		}
		objs = append(objs, o)
	}
	b, err := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000", "objects": objs})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// markedStore imports the bundle into a new store and returns it with the
// stored indicators by domain.
func markedStore(t *testing.T, ms []marking) (*sqlite.Store, map[string]*intel.Object) {
	dir := t.TempDir()
	path := filepath.Join(dir, "marked.json")
	if err := os.WriteFile(path, bundle(t, ms), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	res, err := hunt.Import(context.Background(), db, hunt.ImportOptions{Paths: []string{path}, Labels: intel.DefaultOptions(), Format: "stix"})
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("import: %v %+v", err, res)
	}
	byDomain := map[string]*intel.Object{}
	err = db.Objects(context.Background(), store.ObjectQuery{Types: []string{intel.TypeIndicator}}, func(o *intel.Object) error {
		for _, ob := range o.Indicator.Observables {
			byDomain[ob.Value] = o
		}
		return nil
	})
	if err != nil || len(byDomain) != len(ms) {
		t.Fatalf("%d indicators stored, want %d: %v", len(byDomain), len(ms), err)
	}
	return db, byDomain
}

// TestOfAndAllows: the level package tlp gives each stored marking, with
// the store's definitions, is the stated one, and Allows agrees with the
// rule for every ceiling.
func TestOfAndAllows(t *testing.T) {
	ms := markings(t)
	db, byDomain := markedStore(t, ms)
	defs := tlp.Definitions{}
	err := db.Objects(context.Background(), store.ObjectQuery{Types: []string{intel.TypeMarkingDef}}, func(o *intel.Object) error {
		defs.Add(o)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		o := byDomain[domain(m)]
		if got := defs.Of(o, tlp.Unmarked); got != m.want {
			t.Errorf("%s: Of = %v, want %v", m.name, got, m.want)
		}
		for _, c := range ceilings() {
			if got, want := c.Allows(defs.Of(o, tlp.Unmarked)), mayLeave(m.want, c); got != want {
				t.Errorf("%s under %v: Allows = %v, want %v", m.name, c, got, want)
			}
			// Without the definitions a statement is unknown: stricter, never laxer.
			if c.Allows(tlp.Of(o, tlp.Unmarked)) && !mayLeave(m.want, c) {
				t.Errorf("%s under %v: plain Of lets more out than the rule", m.name, c)
			}
		}
	}
}

// TestExportLeaksNothing exports in every format under every ceiling
// export takes: every indicator the rule allows is in the output, none
// other is, and red is refused as a ceiling.
func TestExportLeaksNothing(t *testing.T) {
	ms := markings(t)
	db, _ := markedStore(t, ms)
	for _, c := range ceilings() {
		if !c.Internal {
			continue // export feeds the organisation's own sensors
		}
		for _, format := range export.Formats {
			out := exportAll(t, db, format, c)
			if c.Max == tlp.Red {
				continue
			}
			for _, m := range ms {
				// Suricata keeps dataset strings in base64.
				b64 := base64.StdEncoding.EncodeToString([]byte(domain(m)))
				got := bytes.Contains(out, []byte(domain(m))) || bytes.Contains(out, []byte(b64))
				if want := mayLeave(m.want, c); got != want {
					t.Errorf("%s --tlp %v: %s in output = %v, want %v", format, c.Max, m.name, got, want)
				}
			}
		}
	}
}

// exportAll runs one export and returns every byte it wrote (every file
// of a suricata directory); with a red ceiling it checks the refusal.
func exportAll(t *testing.T, db store.ActorReader, format string, c tlp.Ceiling) []byte {
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	opt := export.Options{MaxTLP: c.Max.String(), Now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
	_, err := export.ToPath(context.Background(), db, format, path, &bytes.Buffer{}, opt)
	if c.Max == tlp.Red {
		if err == nil {
			t.Errorf("%s: --tlp red accepted", format)
		}
		return nil
	}
	if err != nil {
		t.Fatalf("%s --tlp %v: %v", format, c.Max, err)
	}
	var all []byte
	err = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		all = append(all, b...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// TestReportLeaksNothing sights every indicator in one report and limits
// it to every level a report can be marked: what the rule allows stays,
// the rest is gone from every format and counted.
func TestReportLeaksNothing(t *testing.T) {
	ms := markings(t)
	db, byDomain := markedStore(t, ms)
	defs, err := report.MarkingDefinitions(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ceilings() {
		if _, err := report.ParseTLP(c.Max.String()); err != nil {
			if c.Max != tlp.Red {
				t.Fatalf("report --tlp %v refused: %v", c.Max, err)
			}
			continue
		}
		if !c.Internal {
			continue // a report is the organisation's own
		}
		d := reportData(ms, byDomain, c.Max)
		w, err := d.LimitToMarking(defs)
		if err != nil {
			t.Fatal(err)
		}
		out := renderAll(t, d)
		left := 0
		for _, m := range ms {
			want := mayLeave(m.want, c)
			if !want {
				left++
			}
			for f, b := range out {
				if got := bytes.Contains(b, []byte(domain(m))); got != want {
					t.Errorf("report %s --tlp %v: %s shown = %v, want %v", f, c.Max, m.name, got, want)
				}
			}
		}
		if w.Indicators != left || w.Sightings != left || w.Evidence != left || d.Doc.Withheld != w {
			t.Errorf("--tlp %v: withheld %+v, want %d of each", c.Max, w, left)
		}
		// The report says how much it left out, in every format for people.
		say := fmt.Sprintf("(%d indicators, %d sightings, %d evidence items)", left, left, left)
		for _, f := range []string{"html", "md", "json"} {
			if f == "json" {
				say = fmt.Sprintf(`"indicators": %d,`, left)
			}
			if !bytes.Contains(out[f], []byte(say)) {
				t.Errorf("report %s --tlp %v does not say %s", f, c.Max, say)
			}
		}
	}
}

// reportData is one campaign in which every marked indicator was sighted
// once and is one evidence item and one intelligence record.
func reportData(ms []marking, byDomain map[string]*intel.Object, level tlp.Level) *report.Data {
	at := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	c := report.Campaign{ID: "c-leaktest", FirstSeen: at, LastSeen: at, Victims: []string{"10.0.0.5"}}
	d := &report.Data{Doc: &report.Document{Generated: at, Tool: "whodunit test", Campaigns: []report.Campaign{c}},
		Indicators: map[string]*intel.Object{}, TLP: level.String(), CampaignSightings: map[string][]int{}}
	for i, m := range ms {
		o := byDomain[domain(m)]
		d.Indicators[o.ID] = o
		d.Sightings = append(d.Sightings, match.Sighting{IndicatorID: o.ID, Type: intel.Domain, Indicator: domain(m),
			Field: "dns.query", Value: domain(m), Time: at.Add(time.Duration(i) * time.Minute), Kind: telemetry.KindDNS,
			SrcIP: netip.MustParseAddr("10.0.0.5")})
		d.CampaignSightings[c.ID] = append(d.CampaignSightings[c.ID], i)
		dc := &d.Doc.Campaigns[0]
		dc.Indicators = append(dc.Indicators, o.ID)
		dc.Attribution.Evidence = append(dc.Attribution.Evidence, report.Evidence{Kind: "indicator", Indicators: []string{o.ID}, Detail: "sighted " + domain(m), Values: []string{domain(m)}, Count: 1})
		d.Doc.Intelligence = append(d.Doc.Intelligence, report.IntelRecord{ID: o.ID, Raw: o.Raw, Confidence: -1})
	}
	return d
}

// renderAll renders d in every report format.
func renderAll(t *testing.T, d *report.Data) map[string][]byte {
	out := map[string][]byte{}
	for _, f := range report.Formats {
		var b bytes.Buffer
		if err := report.Render(f, &b, d); err != nil {
			t.Fatalf("render %s: %v", f, err)
		}
		out[f] = b.Bytes()
	}
	return out
}
