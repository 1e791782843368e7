package taxii_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/taxii"
)

// Paging the real APT1 FQDN list (stored compactly, one shape for all
// its lines) gives every indicator exactly once, also when the handler
// cuts a store page short: an object the key may not see (the list's
// source has no STIX of its own) makes a page of 1,000 need a second
// store read. Found by the load test: the cut repeated an indicator,
// because a compact indicator's store position is not its version time.
func TestPagingCompactListEachOnce(t *testing.T) {
	list := filepath.Join("..", "..", "..", "shared", "data", "intel", "apt1", "apt1-fqdn.dat")
	if _, err := os.Stat(list); err != nil {
		t.Skip("shared data not present")
	}
	f := newFixture(t, openStore(t), taxii.Config{})
	f.importFile(list, "apt1-fqdn")
	for _, limit := range []string{"1000", "7"} {
		seen := map[string]bool{}
		indicators, next := 0, ""
		for {
			target := intelC + "objects/?limit=" + limit
			if next != "" {
				target += "&next=" + next
			}
			e := decodeEnvelope(t, f.get("amber", target).body)
			for _, raw := range e.Objects {
				var o struct{ ID, Type string }
				if err := json.Unmarshal(raw, &o); err != nil {
					t.Fatal(err)
				}
				if seen[o.ID] {
					t.Fatalf("limit %s: %s served twice", limit, o.ID)
				}
				seen[o.ID] = true
				if o.Type == "indicator" {
					indicators++
				}
			}
			if !e.More {
				break
			}
			next = e.Next
		}
		if indicators != 2046 {
			t.Errorf("limit %s: %d indicators served, the list has 2,046 lines", limit, indicators)
		}
	}
}
