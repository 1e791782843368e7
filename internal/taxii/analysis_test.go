package taxii_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/stixschema"
)

// APT1 indicators of apt1.json: the sightings below name them.
var apt1Seen = map[string]string{
	"indicator--3f3ff9f1-bb4e-4392-89e5-1991179042ba": "hugesoft.org",
	"indicator--8390fd29-24ed-45d4-84d7-c5e5feaf195d": "arrowservice.net",
	"indicator--1002c58e-cbde-4930-b5ee-490037fd4f7e": "msnhome.org",
}

// storeAPT1Sightings stores DNS sightings of the APT1 domains from one
// host over several days, as a scan of that host's logs would.
func storeAPT1Sightings(t *testing.T, f *fixture, start time.Time, line int64) {
	t.Helper()
	var sg []match.Sighting
	for day := range 4 {
		for id, dom := range apt1Seen {
			line++
			sg = append(sg, match.Sighting{IndicatorID: id, Type: "domain", Indicator: dom, Field: "dns.query", Value: dom,
				Time: start.Add(time.Duration(day)*24*time.Hour + time.Duration(line)*time.Minute), Source: "dns.log", Line: line,
				SrcIP: netip.MustParseAddr("10.1.2.3"), DstIP: netip.MustParseAddr("10.1.0.53")})
		}
	}
	if _, err := f.db.PutSightings(context.Background(), sg); err != nil {
		t.Fatal(err)
	}
}

// analyse runs the analysis over f's store as `whodunit analyse` does and
// stores it.
func analyse(t *testing.T, f *fixture, now time.Time) *report.Document {
	t.Helper()
	ctx := context.Background()
	src, ok := f.db.(hunt.AnalyseSource)
	if !ok {
		t.Fatalf("%T cannot be analysed", f.db)
	}
	d, err := hunt.Analyse(ctx, src, hunt.AnalyseOptions{Now: now, Org: "Example CERT"})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Doc.Campaigns) == 0 {
		t.Fatal("the analysis found no campaign")
	}
	if _, err := hunt.SaveAnalysis(ctx, f.db.(hunt.AnalysisWriter), d.Doc, ""); err != nil {
		t.Fatal(err)
	}
	return d.Doc
}

type servedObject struct {
	stixHead
	raw json.RawMessage
}

func byType(objs []json.RawMessage, t *testing.T) map[string][]servedObject {
	out := map[string][]servedObject{}
	for _, raw := range objs {
		h := head(t, raw)
		out[h.Type] = append(out[h.Type], servedObject{h, raw})
	}
	return out
}

// TestFindingsCampaigns (TAXII 2.1 §5.3, objects of a collection): the
// findings collection serves the latest analysis's campaigns with their
// assessment note, actor and attributed-to relationship, added at the
// analysis's time, each marked at least at the level of its indicators.
func TestFindingsCampaigns(t *testing.T) {
	f := apt1Fixture(t)
	start := time.Date(2024, 3, 4, 8, 0, 0, 0, time.UTC)
	storeAPT1Sightings(t, f, start, 0)
	at := time.Now().UTC().Add(time.Second).Truncate(time.Millisecond)
	doc := analyse(t, f, at)

	e, r := f.envelope("amber", findC+"objects/")
	objs := byType(e.Objects, t)
	validSTIX(t, e.Objects)
	if len(objs["sighting"]) != 12 || len(objs["campaign"]) == 0 || len(objs["note"]) == 0 {
		t.Fatalf("findings hold %d sightings, %d campaigns, %d notes", len(objs["sighting"]), len(objs["campaign"]), len(objs["note"]))
	}
	if got := r.header.Get("X-TAXII-Date-Added-Last"); got != at.Format(time.RFC3339Nano) {
		t.Fatalf("last added %s, want the analysis's time %s", got, at.Format(time.RFC3339Nano))
	}
	camp := objs["campaign"][0]
	if camp.Modified != at.Format("2006-01-02T15:04:05.000Z") || len(camp.Markings) != 1 || camp.Markings[0] != tlpAmb {
		t.Fatalf("campaign %s: modified %s markings %v", camp.ID, camp.Modified, camp.Markings)
	}
	var note struct {
		Content string   `json:"content"`
		Refs    []string `json:"object_refs"`
	}
	if err := json.Unmarshal(objs["note"][0].raw, &note); err != nil || len(note.Refs) != 1 || note.Refs[0] != camp.ID ||
		!strings.Contains(note.Content, "likelihood") {
		t.Fatalf("note %s", objs["note"][0].raw)
	}
	// the report's attribution: the campaign is attributed to the actor
	// the analysis found most likely, which is served beside it
	actor := ""
	for _, rel := range objs["relationship"] {
		var x struct {
			Type   string `json:"relationship_type"`
			Source string `json:"source_ref"`
			Target string `json:"target_ref"`
		}
		if err := json.Unmarshal(rel.raw, &x); err != nil || x.Source == camp.ID && x.Target == "" {
			t.Fatalf("relationship %s", rel.raw)
		}
		if x.Source == camp.ID && x.Type == "attributed-to" {
			actor = x.Target
		}
	}
	// twelve sightings from one host are not enough to name an actor:
	// the report's rule, so no attributed-to (the note keeps the hypotheses)
	if a := doc.Campaigns[0].Attribution; len(doc.Campaigns) != 1 || a.Named || actor != "" {
		t.Fatalf("%d campaigns; the first named %v, yet attributed to %q", len(doc.Campaigns), a.Named, actor)
	}
	// the green key sees neither the AMBER sightings nor the campaigns
	if g, _ := f.envelope("green", findC+"objects/"); len(g.Objects) != 0 {
		t.Fatalf("green key sees %d findings", len(g.Objects))
	}
	// §3.5 match[type] and match[id] apply to the analysis objects
	c, _ := f.envelope("amber", findC+"objects/?match[type]=campaign")
	if len(c.Objects) != len(objs["campaign"]) {
		t.Fatalf("match[type]=campaign: %d objects", len(c.Objects))
	}
	one, _ := f.envelope("amber", findC+"objects/"+camp.ID+"/")
	if len(one.Objects) != 1 || head(t, one.Objects[0]).ID != camp.ID {
		t.Fatalf("object endpoint: %d objects", len(one.Objects))
	}
	if r := f.get("amber", findC+"objects/"+camp.ID+"/?match[version]=2020-01-01T00:00:00Z"); r.code != 404 {
		t.Fatalf("a version the campaign does not have: %d", r.code)
	}

	// a new analysis of the same findings: the same campaign id, a new version
	later := at.Add(time.Hour)
	analyse(t, f, later)
	c2, _ := f.envelope("amber", findC+"objects/?match[type]=campaign")
	if len(c2.Objects) != len(c.Objects) || head(t, c2.Objects[0]).ID != camp.ID ||
		head(t, c2.Objects[0]).Modified != later.Format("2006-01-02T15:04:05.000Z") {
		t.Fatalf("after a second analysis: %d campaigns, first %+v", len(c2.Objects), head(t, c2.Objects[0]))
	}
}

// TestFindingsPagingMerged (§3.4 paging, §5.3 date-added order): paging
// the findings with small limits gives every sighting and analysis object
// exactly once and in added order, also when sightings and a new analysis
// are stored between pages.
func TestFindingsPagingMerged(t *testing.T) {
	f := apt1Fixture(t)
	start := time.Date(2024, 3, 4, 8, 0, 0, 0, time.UTC)
	storeAPT1Sightings(t, f, start, 0)
	analyse(t, f, time.Now().UTC())
	storeAPT1Sightings(t, f, start, 100) // 12 more, added after the analysis

	for _, limit := range []int{1, 3, 7} {
		seen := map[string]bool{}
		var last time.Time
		next, page := "", 0
		for {
			u := fmt.Sprintf("%sobjects/?limit=%d", findC, limit)
			if next != "" {
				u += "&next=" + next
			}
			e, r := f.envelope("amber", u)
			if len(e.Objects) > limit {
				t.Fatalf("limit %d: %d objects", limit, len(e.Objects))
			}
			for _, raw := range e.Objects {
				h := head(t, raw)
				k := h.ID + "@" + h.Modified
				if seen[k] {
					t.Fatalf("limit %d: %s served twice", limit, k)
				}
				seen[k] = true
			}
			if len(e.Objects) > 0 {
				first, _ := time.Parse(time.RFC3339Nano, r.header.Get("X-TAXII-Date-Added-First"))
				if first.Before(last) {
					t.Fatalf("limit %d page %d begins at %s, before %s", limit, page, first, last)
				}
				last, _ = time.Parse(time.RFC3339Nano, r.header.Get("X-TAXII-Date-Added-Last"))
			}
			if page == 2 && limit == 3 {
				storeAPT1Sightings(t, f, start, 200) // between pages
			}
			if !e.More {
				break
			}
			next, page = e.Next, page+1
		}
		whole := f.all("amber", findC+"objects/", 1000)
		if len(seen) != len(whole) {
			t.Fatalf("limit %d: %d objects paged, the collection holds %d", limit, len(seen), len(whole))
		}
	}
	// a new analysis stored while paging: its objects come after, once
	e, _ := f.envelope("amber", findC+"objects/?limit=5")
	analyse(t, f, time.Now().UTC().Add(time.Second))
	rest := 0
	for next := e.Next; next != ""; {
		p, _ := f.envelope("amber", findC+"objects/?limit=5&next="+next)
		rest += len(p.Objects)
		next = ""
		if p.More {
			next = p.Next
		}
	}
	if whole := f.all("amber", findC+"objects/", 1000); 5+rest != len(whole) {
		t.Fatalf("paging across a new analysis: %d objects, the collection holds %d", 5+rest, len(whole))
	}
}

// validSTIX checks objects against the OASIS STIX 2.1 schemas.
func validSTIX(t *testing.T, objs []json.RawMessage) {
	t.Helper()
	schema := stixschema.Load(t, stixschema.Dir)
	for _, raw := range objs {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if sc := schema(head(t, raw).Type); sc != nil {
			if err := sc.Validate(inst); err != nil {
				t.Fatalf("%.300s: %v", raw, err)
			}
		}
	}
}
