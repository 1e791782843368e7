package tlp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/intel"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{"clear", "white", "TLP:GREEN", "amber", "amber+strict", "TLP:RED", "", "tlp:", "ＴＬＰ:RED", "red\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := Parse(s)
		if err != nil {
			if l != Unmarked {
				t.Fatalf("error with level %v", l)
			}
			return
		}
		if l < Clear || l > Red {
			t.Fatalf("Parse(%q) = %d", s, l)
		}
		if back, err := Parse(l.String()); err != nil || back != l {
			t.Fatalf("%q → %v does not round-trip", s, l)
		}
		if strings.TrimSpace(s) == "" {
			t.Fatalf("blank %q parsed", s)
		}
	})
}

// FuzzOf feeds raw STIX objects: Of never panics, answers a level, and a
// default only ever raises the answer.
func FuzzOf(f *testing.F) {
	dir := filepath.Join("..", "..", "..", "shared", "data", "intel", "stix")
	for _, n := range []string{"interop-objectmarking-test.json", "indicator-for-c2-ip-address.json"} {
		if b, err := os.ReadFile(filepath.Join(dir, n)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(granular("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1")))
	f.Add([]byte(`{"granular_markings":[{"lang":"fr","selectors":["name"]}]}`))
	f.Add([]byte(`{"OBJECT_MARKING_REFS":["marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		o := &intel.Object{ID: "indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2", Type: intel.TypeIndicator, Raw: raw}
		base := Of(o, Unmarked)
		for _, dflt := range []Level{Unmarked, Clear, Green, Amber, Red} {
			l := Of(o, dflt)
			if l < base || l > Red || (base == Unmarked && l != dflt) {
				t.Fatalf("Of = %v under default %v, %v without", l, dflt, base)
			}
		}
	})
}
