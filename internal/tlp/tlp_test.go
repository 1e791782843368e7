package tlp

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/intel"
)

func TestParse(t *testing.T) {
	cases := map[string]Level{
		"clear": Clear, "white": Clear, "TLP:WHITE": Clear, " tlp:clear ": Clear,
		"green": Green, "TLP:GREEN": Green, "Amber": Amber, "amber+strict": AmberStrict,
		"TLP:AMBER+STRICT": AmberStrict, "red": Red,
	}
	for in, want := range cases {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "tlp:", "purple", "amber strict", "amber+", "TLP:RED:", "ambre"} {
		if l, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", bad, l)
		}
	}
}

func TestStringRoundTrip(t *testing.T) {
	if Unmarked.String() != "" || Unmarked.Label() != "" {
		t.Fatalf("Unmarked prints %q/%q", Unmarked.String(), Unmarked.Label())
	}
	for l := Clear; l <= Red; l++ {
		back, err := Parse(l.String())
		if err != nil || back != l {
			t.Errorf("%v does not round-trip: %v, %v", l, back, err)
		}
		if back, err := Parse(l.Label()); err != nil || back != l {
			t.Errorf("label %q does not round-trip", l.Label())
		}
	}
	if AmberStrict.Label() != "TLP:AMBER+STRICT" {
		t.Fatalf("label %q", AmberStrict.Label())
	}
}

// TestStandardIDs checks the ids against the texts of the standards: the
// four STIX 2.1 TLP 1.0 definitions and the five of the TLP 2.0 extension.
func TestStandardIDs(t *testing.T) {
	want := map[string]Level{
		"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": Clear,
		"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": Green,
		"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": Amber,
		"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": Red,
		"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": Clear,
		"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": Green,
		"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": Amber,
		"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": AmberStrict,
		"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": Red,
	}
	if len(standardIDs) != len(want) {
		t.Fatalf("%d standard ids, want %d", len(standardIDs), len(want))
	}
	for id, l := range want {
		if got, ok := StandardID(id); !ok || got != l {
			t.Errorf("%s = %v, %v; want %v", id, got, ok, l)
		}
	}
}

func TestOfMarkings(t *testing.T) {
	green1, amber2, red2 := id(t, "green", "1.0"), id(t, "amber", "2.0"), id(t, "red", "2.0")
	if l := OfMarkings(nil); l != Unmarked {
		t.Fatalf("no markings: %v", l)
	}
	if l := OfMarkings([]string{"marking-definition--00000000-0000-4000-8000-000000000000"}); l != Unmarked {
		t.Fatalf("a non-TLP marking: %v", l)
	}
	if l := OfMarkings([]string{green1, amber2}); l != Amber {
		t.Fatalf("green 1.0 + amber 2.0: %v", l)
	}
	if l := OfMarkings([]string{red2, green1}); l != Red {
		t.Fatalf("red first: %v", l)
	}
}

func TestOf(t *testing.T) {
	green, red, strict := id(t, "green", "2.0"), id(t, "red", "1.0"), id(t, "amber+strict", "2.0")
	const unknown = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ec"
	cases := []struct {
		name string
		o    *intel.Object
		dflt Level
		want Level
	}{
		{"unmarked takes the default", obj(nil, ""), Amber, Amber},
		{"unmarked with no default", obj(nil, ""), Unmarked, Unmarked},
		{"object marking", obj([]string{green}, ""), Amber, Green},
		{"most restrictive ref", obj([]string{green, red}, ""), Amber, Red},
		{"granular above object marking", obj([]string{green}, granular(strict)), Clear, AmberStrict},
		{"granular only", obj(nil, granular(red)), Clear, Red},
		{"granular lang only is no marking", obj([]string{green}, `{"granular_markings":[{"lang":"de","selectors":["name"]}]}`), Amber, Green},
		{"raw refs count even if Markings lost them", obj(nil, `{"object_marking_refs":["`+red+`"]}`), Clear, Red},
		{"unknown marking is at least amber", obj([]string{unknown}, ""), Clear, Amber},
		{"unknown marking under a red default", obj([]string{unknown}, ""), Red, Red},
		{"unknown next to green", obj([]string{green, unknown}, ""), Green, Amber},
		{"unreadable raw", obj([]string{green}, `{"granular_markings":"red"`), Green, Amber},
		{"granular without ref or lang", obj([]string{green}, `{"granular_markings":[{"selectors":["name"]}]}`), Green, Amber},
		{"escaped key still read", obj(nil, `{"object_marking_refs":["`+strings.Replace(red, "m", `\u006d`, 1)+`"]}`), Clear, Red},
		{"the standard definitions travel", mustMarking(t, "red", "2.0"), Amber, Clear},
	}
	for _, c := range cases {
		if got := Of(c.o, c.dflt); got != c.want {
			t.Errorf("%s: Of = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestDefinitions: a statement marking the store knows does not restrict,
// a TLP marking under a private id counts at its level.
func TestDefinitions(t *testing.T) {
	const stmt = "marking-definition--a1b2c3d4-0000-4000-8000-000000000001"
	const private = "marking-definition--a1b2c3d4-0000-4000-8000-000000000002"
	d := Definitions{}
	d.Add(&intel.Object{ID: stmt, Type: intel.TypeMarkingDef, Marking: &intel.MarkingSpec{DefinitionType: "statement", Statement: "Copyright 2026"}})
	d.Add(&intel.Object{ID: private, Type: intel.TypeMarkingDef, Marking: &intel.MarkingSpec{DefinitionType: "tlp", TLP: "red"}})
	// A copy of a standard id claiming another level changes nothing.
	d.Add(&intel.Object{ID: id(t, "red", "2.0"), Type: intel.TypeMarkingDef, Marking: &intel.MarkingSpec{TLP: "clear"}})
	green := id(t, "green", "2.0")
	if l := d.Of(obj([]string{green, stmt}, ""), Amber); l != Green {
		t.Errorf("green + known statement = %v, want green", l)
	}
	if l := d.Of(obj([]string{stmt}, ""), Amber); l != Amber {
		t.Errorf("statement only = %v, want the default", l)
	}
	if l := d.Of(obj([]string{private}, ""), Clear); l != Red {
		t.Errorf("private red id = %v", l)
	}
	if l := d.Of(obj([]string{id(t, "red", "2.0")}, ""), Clear); l != Red {
		t.Errorf("forged standard copy = %v", l)
	}
	if l := Of(obj([]string{green, stmt}, ""), Green); l != Amber {
		t.Errorf("without definitions the statement is unknown: %v", l)
	}
}

// TestOfSharedData reads the OASIS interop example: TLP:RED next to an id
// that is no standard marking.
func TestOfSharedData(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "data", "intel", "stix", "interop-objectmarking-test.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	var o struct {
		ID   string   `json:"id"`
		Refs []string `json:"object_marking_refs"`
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	if l := Of(&intel.Object{ID: o.ID, Type: "campaign", Raw: raw}, Clear); l != Red {
		t.Fatalf("%s: %v, want red", path, l)
	}
	if l := Of(&intel.Object{ID: o.ID, Type: "campaign", Raw: raw, Markings: o.Refs[1:]}, Clear); l != Red {
		t.Fatalf("Markings without the red id: %v, want red from raw", l)
	}
}

func TestCeiling(t *testing.T) {
	for max := Clear; max <= AmberStrict; max++ {
		for _, internal := range []bool{false, true} {
			c := Ceiling{Max: max, Internal: internal}
			for l := Unmarked; l <= Red; l++ {
				want := l <= max && l != Red && (l != AmberStrict || internal)
				if got := c.Allows(l); got != want {
					t.Errorf("%v allows %v = %v, want %v", c, l, got, want)
				}
			}
		}
	}
	if (Ceiling{Max: Red, Internal: true}).Allows(Red) {
		t.Fatal("a red ceiling let red out")
	}
	if (Ceiling{Max: Red}).Allows(Level(9)) || (Ceiling{Max: Red}).Allows(Level(-1)) {
		t.Fatal("an invalid level was allowed")
	}
}

func TestParseCeiling(t *testing.T) {
	c, err := ParseCeiling("TLP:AMBER+STRICT", true)
	if err != nil || c != (Ceiling{Max: AmberStrict, Internal: true}) {
		t.Fatalf("amber+strict internal: %v, %v", c, err)
	}
	if c, err := ParseCeiling("white", false); err != nil || c.Max != Clear {
		t.Fatalf("white: %v, %v", c, err)
	}
	for _, bad := range []struct {
		s        string
		internal bool
	}{{"red", true}, {"amber+strict", false}, {"", true}, {"beige", false}} {
		if c, err := ParseCeiling(bad.s, bad.internal); err == nil {
			t.Errorf("ParseCeiling(%q, %v) = %v, want an error", bad.s, bad.internal, c)
		}
	}
}

func id(t *testing.T, level, version string) string { return mustMarking(t, level, version).ID }

func mustMarking(t *testing.T, level, version string) *intel.Object {
	t.Helper()
	m, err := intel.TLPMarkingVersion(level, version)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func obj(markings []string, raw string) *intel.Object {
	o := &intel.Object{ID: "indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2", Type: intel.TypeIndicator, Markings: markings}
	if raw != "" {
		o.Raw = json.RawMessage(raw)
	}
	return o
}

func granular(ref string) string {
	return `{"type":"indicator","granular_markings":[{"marking_ref":"` + ref + `","selectors":["pattern"]}]}`
}
