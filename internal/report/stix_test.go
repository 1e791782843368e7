package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/stix"
	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/stixschema"
)

func stixSchemas(t *testing.T) func(typ string) *jsonschema.Schema {
	t.Helper()
	return stixschema.Load(t, stixschema.Dir)
}

func renderSTIX(t *testing.T, d *report.Data) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := report.RenderSTIX(&b, d); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestSTIXValidates checks the bundle and every object in it against the
// OASIS schemas.
func TestSTIXValidates(t *testing.T) {
	schema := stixSchemas(t)
	// The validator must reject what the schemas forbid.
	broken, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"type":"sighting","spec_version":"2.1","id":"sighting--2b0a6a64-0e8b-4b49-8ab4-b3c5f3f7d6b1",
		"created":"2013-02-04T00:00:00.000Z","modified":"2013-02-04T00:00:00.000Z","sighting_of_ref":"indicator--3f3ff9f1-bb4e-4392-89e5-1991179042ba",
		"where_sighted_refs":["indicator--3f3ff9f1-bb4e-4392-89e5-1991179042ba"],"count":-1}`))
	if schema("sighting").Validate(broken) == nil {
		t.Fatal("the sighting schema accepts a negative count and an indicator as where_sighted_refs")
	}
	for _, tlp := range []string{"clear", "green", "amber", "amber+strict", "red"} {
		d := apt1Data(t)
		d.TLP = tlp
		out := renderSTIX(t, d)
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("%s: bundle is not JSON: %v", tlp, err)
		}
		if err := schema("bundle").Validate(envelope(inst)); err != nil {
			t.Errorf("%s: bundle: %v", tlp, err)
		}
		types := map[string]int{}
		for _, o := range inst.(map[string]any)["objects"].([]any) {
			obj := o.(map[string]any)
			typ := obj["type"].(string)
			types[typ]++
			if err := schema(typ).Validate(o); err != nil {
				t.Errorf("%s: %s %s: %v", tlp, typ, obj["id"], err)
			}
		}
		if tlp == "clear" {
			empty := renderSTIX(t, &report.Data{Doc: report.Build(report.Input{Generated: d.Doc.Generated})})
			ei, _ := jsonschema.UnmarshalJSON(bytes.NewReader(empty))
			if err := schema("bundle").Validate(ei); err != nil {
				t.Errorf("bundle of an empty run: %v", err)
			}
			for _, o := range ei.(map[string]any)["objects"].([]any) {
				if err := schema(o.(map[string]any)["type"].(string)).Validate(o); err != nil {
					t.Errorf("empty run: %v", err)
				}
			}
		}
		for _, want := range []string{"identity", "report", "campaign", "intrusion-set", "relationship", "indicator", "sighting", "observed-data",
			"marking-definition", "ipv4-addr", "domain-name", "file"} {
			if types[want] == 0 {
				t.Errorf("%s: no %s in the bundle (%v)", tlp, want, types)
			}
		}
	}
}

// envelope is the bundle without the object types the OASIS bundle schema
// forgets to list (note, opinion, grouping, location): it would match them
// as both core and custom objects. Each is still validated by its own
// schema.
func envelope(inst any) any {
	b := inst.(map[string]any)
	out := map[string]any{}
	for k, v := range b {
		out[k] = v
	}
	var objs []any
	for _, o := range b["objects"].([]any) {
		switch o.(map[string]any)["type"] {
		case "note", "opinion", "grouping", "location":
			continue
		}
		objs = append(objs, o)
	}
	out["objects"] = objs
	return out
}

// TestSTIXAttributedToOnlyNamed checks that only a campaign whose estimate
// names an actor is attributed-to one, the actor named, and that every
// campaign's hypotheses travel in a note on it.
func TestSTIXAttributedToOnlyNamed(t *testing.T) {
	d := apt1Data(t)
	var bundle struct {
		Objects []map[string]any `json:"objects"`
	}
	if err := json.Unmarshal(renderSTIX(t, d), &bundle); err != nil {
		t.Fatal(err)
	}
	campaignOf := map[string]string{} // STIX id -> whodunit id
	notes := map[string]int{}
	attributed := map[string][]string{}
	for _, o := range bundle.Objects {
		switch o["type"] {
		case "campaign":
			refs := o["external_references"].([]any)
			campaignOf[o["id"].(string)] = refs[0].(map[string]any)["external_id"].(string)
		case "note":
			for _, r := range o["object_refs"].([]any) {
				notes[r.(string)]++
			}
		case "relationship":
			if o["relationship_type"] == "attributed-to" {
				attributed[o["source_ref"].(string)] = append(attributed[o["source_ref"].(string)], o["target_ref"].(string))
			}
		}
	}
	unnamed := 0
	for sid, id := range campaignOf {
		var c *report.Campaign
		for i := range d.Doc.Campaigns {
			if d.Doc.Campaigns[i].ID == id {
				c = &d.Doc.Campaigns[i]
			}
		}
		if c == nil {
			t.Fatalf("campaign %s in the bundle is not in the document", id)
		}
		if notes[sid] != 1 {
			t.Errorf("campaign %s: %d hypothesis notes, want 1", id, notes[sid])
		}
		if !c.Attribution.Named {
			unnamed++
			if len(attributed[sid]) > 0 {
				t.Errorf("campaign %s is not attributed (%s) but the bundle has attributed-to %v", id, c.Attribution.Estimate, attributed[sid])
			}
			continue
		}
		if len(attributed[sid]) != 1 {
			t.Errorf("named campaign %s: attributed-to %v, want exactly its actor", id, attributed[sid])
		}
	}
	if unnamed == 0 || len(campaignOf) < 2 {
		t.Fatalf("the fixture must have named and unnamed campaigns: %d campaigns, %d unnamed", len(campaignOf), unnamed)
	}
}

// TestSTIXRoundTrip imports the export with whodunit's own STIX reader and
// checks that nothing is lost.
func TestSTIXRoundTrip(t *testing.T) {
	d := apt1Data(t)
	out := renderSTIX(t, d)
	var bundle struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(out, &bundle); err != nil {
		t.Fatal(err)
	}
	var col intel.Collector
	st, err := (stix.Importer{Observables: stixObservables}).Import(context.Background(), bytes.NewReader(out), "export.json", intel.DefaultOptions(), &col)
	if err != nil {
		t.Fatal(err)
	}
	if st.Skipped > 0 || len(col.Objects) != len(bundle.Objects) {
		t.Fatalf("imported %d of %d objects, %d skipped: %v", len(col.Objects), len(bundle.Objects), st.Skipped, st.Errors)
	}
	got := map[string]*intel.Object{}
	for _, o := range col.Objects {
		if got[o.ID] != nil {
			t.Errorf("id %s exported twice", o.ID)
		}
		got[o.ID] = o
	}
	for i, raw := range bundle.Objects {
		var head struct{ ID string }
		json.Unmarshal(raw, &head)
		if o := got[head.ID]; o == nil || !bytes.Equal(o.Raw, raw) {
			t.Errorf("object %d (%s) not read back verbatim", i, head.ID)
		}
	}
	tlp, _ := intel.TLPMarking("amber")
	if m := got[tlp.ID]; m == nil || m.Marking == nil || m.Marking.TLP != "amber" || m.Marking.TLPVersion != "2.0" {
		t.Errorf("TLP:AMBER marking not read back: %+v", m)
	}

	// Indicators: STIX ones byte for byte, the others with their observables.
	for id, orig := range d.Indicators {
		back := got[id]
		if back == nil {
			back = got[intel.DeriveID(intel.TypeIndicator, id)]
		}
		if back == nil || back.Indicator == nil {
			t.Errorf("indicator %s (%s) not exported", id, orig.Name)
			continue
		}
		if orig.Indicator.PatternType == "stix" {
			if !bytes.Equal(bytes.TrimSpace(orig.Raw), back.Raw) || back.Indicator.Pattern != orig.Indicator.Pattern {
				t.Errorf("indicator %s: STIX original not kept verbatim", id)
			}
		}
		if diff := cmp.Diff(orig.Indicator.Observables, back.Indicator.Observables); diff != "" {
			t.Errorf("indicator %s observables (-want +got):\n%s", id, diff)
		}
		if back.Type != intel.TypeIndicator || back.ID != id {
			t.Errorf("indicator id changed: %s → %s", id, back.ID)
		}
	}

	// Attribution: campaign attributed-to APT1 with the likelihood as confidence.
	camp := d.Doc.Campaigns[0]
	cid := intel.DeriveID(intel.TypeCampaign, camp.ID)
	if got[cid] == nil || got[cid].Name != "Campaign "+camp.ID {
		t.Fatalf("campaign %s not exported as %s", camp.ID, cid)
	}
	found := false
	for _, o := range col.Objects {
		r := o.Relationship
		if r == nil || r.Type != "attributed-to" || r.SourceRef != cid || r.TargetRef != apt1ID {
			continue
		}
		found = true
		if want := int(math.Round(camp.Attribution.Likelihood * 100)); o.Confidence != want {
			t.Errorf("attributed-to confidence %d, want %d", o.Confidence, want)
		}
		if got[r.TargetRef] == nil || got[r.TargetRef].Name != "APT1" || !bytes.Equal(got[r.TargetRef].Raw, bytes.TrimSpace(d.Actors[apt1ID].Raw)) {
			t.Error("APT1's intrusion-set is not its original STIX")
		}
	}
	if !found {
		t.Error("no attributed-to relationship from the campaign to APT1")
	}

	// Sightings: one per campaign and indicator, counted and dated.
	want := map[string]int{}
	for _, cs := range d.CampaignSightings[camp.ID] {
		want[d.Sightings[cs].IndicatorID]++
	}
	for ind, n := range want {
		sid := intel.DeriveID(intel.TypeSighting, camp.ID, ind)
		s := got[sid]
		if s == nil || s.Sighting == nil {
			t.Errorf("no sighting of %s in %s", ind, camp.ID)
			continue
		}
		sp := s.Sighting
		if sp.SightingOfRef != ind || sp.Count != n || sp.FirstSeen.IsZero() || sp.LastSeen.Before(sp.FirstSeen) {
			t.Errorf("sighting of %s: %+v, want count %d", ind, sp, n)
		}
		if len(sp.WhereSightedRefs) != 1 || got[sp.WhereSightedRefs[0]] == nil || got[sp.WhereSightedRefs[0]].Name != d.Org {
			t.Errorf("sighting of %s: where_sighted_refs %v is not the reporting organisation", ind, sp.WhereSightedRefs)
		}
		for _, od := range sp.ObservedDataRefs {
			if got[od] == nil {
				t.Errorf("sighting of %s: observed-data %s missing", ind, od)
			}
		}
		if len(s.Markings) != 1 || s.Markings[0] != tlp.ID {
			t.Errorf("sighting of %s marked %v", ind, s.Markings)
		}
	}
}

// TestSTIXDeterministic checks that exporting the same data twice gives
// the same bytes, and that a filtered export keeps the same ids.
func TestSTIXDeterministic(t *testing.T) {
	a, b := renderSTIX(t, apt1Data(t)), renderSTIX(t, apt1Data(t))
	if !bytes.Equal(a, b) {
		t.Fatal("two exports of the same data differ")
	}
	d := apt1Data(t)
	one, err := d.OnlyCampaign(d.Doc.Campaigns[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	c := renderSTIX(t, one)
	cid := intel.DeriveID(intel.TypeCampaign, d.Doc.Campaigns[0].ID)
	other := intel.DeriveID(intel.TypeCampaign, d.Doc.Campaigns[1].ID)
	if !bytes.Contains(c, []byte(cid)) || bytes.Contains(c, []byte(other)) {
		t.Error("campaign export does not hold exactly its campaign")
	}
}
