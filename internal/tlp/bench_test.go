package tlp

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// BenchmarkOf measures the level of the OASIS APT1 bundle's objects, as a
// TAXII page computes it for every object it serves.
func BenchmarkOf(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "data", "intel", "stix", "apt1.json"))
	if err != nil {
		b.Skipf("shared data not available: %v", err)
	}
	var bundle struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(raw, &bundle); err != nil {
		b.Fatal(err)
	}
	objs := make([]*intel.Object, len(bundle.Objects))
	for i, r := range bundle.Objects {
		var head struct {
			ID   string   `json:"id"`
			Refs []string `json:"object_marking_refs"`
		}
		if err := json.Unmarshal(r, &head); err != nil {
			b.Fatal(err)
		}
		objs[i] = &intel.Object{ID: head.ID, Raw: r, Markings: head.Refs}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Of(objs[i%len(objs)], Amber)
	}
}
