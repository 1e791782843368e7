package export_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/whodunit-project/whodunit/internal/export"
	"github.com/whodunit-project/whodunit/internal/stixschema"
	"github.com/whodunit-project/whodunit/internal/store"
)

func stixSchemas(t *testing.T) func(typ string) *jsonschema.Schema {
	t.Helper()
	return stixschema.Load(t, stixschema.Dir)
}

// TestSTIXBundle exports the demo's intelligence, validates the bundle and
// every object against the OASIS schemas, and imports it into a fresh
// store: the same indicators, values and actor links come back.
func TestSTIXBundle(t *testing.T) {
	schema := stixSchemas(t)
	db := examplesStore(t)
	out, sum := run(t, db, "stix", export.Options{MaxTLP: "amber+strict"})
	var bundle struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(out, &bundle); err != nil {
		t.Fatal(err)
	}
	// The bundle's schema tries every object against every type's schema
	// (oneOf): its envelope is checked with one object, and each object
	// below against its own type's schema, a twentieth of the work.
	var envelope map[string]any
	if err := json.Unmarshal(out, &envelope); err != nil {
		t.Fatal(err)
	}
	if objs, _ := envelope["objects"].([]any); len(objs) > 0 {
		envelope["objects"] = objs[:1]
	}
	env, err := json.Marshal(envelope)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(env))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema("bundle").Validate(inst); err != nil {
		t.Fatalf("bundle: %v", err)
	}
	types := map[string]int{}
	for _, raw := range bundle.Objects {
		var head struct{ Type string }
		if err := json.Unmarshal(raw, &head); err != nil {
			t.Fatal(err)
		}
		types[head.Type]++
		o, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema(head.Type).Validate(o); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
	}
	if types["indicator"] != sum.Exported || types["relationship"] == 0 || types["intrusion-set"] < 2 {
		t.Fatalf("bundle holds %v for %d exported indicators", types, sum.Exported)
	}
	back := reimport(t, out, "bundle.json", "stix")
	if got := stats(t, back).Objects["indicator"]; got != sum.Exported {
		t.Fatalf("round trip: %d indicators back, %d exported", got, sum.Exported)
	}
	sent := values(t, db, store.ObjectQuery{})
	for _, v := range values(t, back, store.ObjectQuery{}) {
		if _, found := slices.BinarySearch(sent, v); !found {
			t.Fatalf("value %s came back but was never in the store", v)
		}
	}
	for _, actor := range []string{"APT1", "APT28"} {
		if n, m := countActor(t, back, actor), relationshipsTo(t, out, actor); n == 0 || n != m {
			t.Errorf("%s: %d indicators back, the bundle has %d", actor, n, m)
		}
	}
}

// relationshipsTo counts the indicators the bundle says indicate actor.
func relationshipsTo(t *testing.T, data []byte, actor string) int {
	t.Helper()
	var bundle struct {
		Objects []struct {
			Type, ID, Name   string
			RelationshipType string `json:"relationship_type"`
			Source           string `json:"source_ref"`
			Target           string `json:"target_ref"`
		}
	}
	if err := json.Unmarshal(data, &bundle); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, o := range bundle.Objects {
		if (o.Type == "intrusion-set" || o.Type == "threat-actor") && o.Name == actor {
			ids[o.ID] = true
		}
	}
	inds := map[string]bool{}
	for _, o := range bundle.Objects {
		if o.Type == "relationship" && o.RelationshipType == "indicates" && ids[o.Target] {
			inds[o.Source] = true
		}
	}
	return len(inds)
}
