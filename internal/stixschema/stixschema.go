// Package stixschema gives tests the OASIS STIX 2.1 JSON schemas of the
// shared conformance data, compiled from disk: every schema is registered
// under its own $id, so relative $refs resolve to local files, never the
// network.
package stixschema

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Dir is where the schemas are, seen from a package two levels below the
// repository root (internal/NAME).
var Dir = filepath.Join("..", "..", "..", "shared", "data", "conformance", "stix-schemas", "schemas")

// Load compiles the schemas in dir and returns the schema of a STIX type
// ("bundle", "indicator", …), failing the test for a type with none. It
// skips the test when dir is absent.
func Load(t testing.TB, dir string) func(typ string) *jsonschema.Schema {
	t.Helper()
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("STIX schemas not available at %s: %v", dir, err)
	}
	c := jsonschema.NewCompiler()
	ids := map[string]string{} // schema file stem → $id
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		id, doc, err := readSchema(path)
		if err != nil {
			return err
		}
		if id == "" {
			t.Fatalf("%s has no $id", path)
		}
		ids[strings.TrimSuffix(filepath.Base(path), ".json")] = id
		return c.AddResource(id, doc)
	})
	if err != nil {
		t.Fatal(err)
	}
	cache := map[string]*jsonschema.Schema{}
	return func(typ string) *jsonschema.Schema {
		if s, ok := cache[typ]; ok {
			return s
		}
		id, ok := ids[typ]
		if !ok {
			t.Fatalf("no schema for STIX type %q", typ)
		}
		s, err := c.Compile(id)
		if err != nil {
			t.Fatalf("compiling %s: %v", id, err)
		}
		cache[typ] = s
		return s
	}
}

func readSchema(path string) (string, any, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return "", nil, err
	}
	id, _ := doc.(map[string]any)["$id"].(string)
	return id, doc, nil
}
