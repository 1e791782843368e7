package export

import (
	"fmt"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// TLP levels in order of restriction; white is TLP 1.0's name for clear.
var tlpRank = map[string]int{"clear": 1, "white": 1, "green": 2, "amber": 3, "amber+strict": 4, "red": 5}

// ParseTLP reads a level as --tlp takes it ("amber", "TLP:RED", "white").
func ParseTLP(s string) (string, error) {
	l := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "tlp:")
	if _, ok := tlpRank[l]; !ok {
		return "", fmt.Errorf("unknown TLP level %q (want clear, green, amber, amber+strict or red)", s)
	}
	if l == "white" {
		l = "clear"
	}
	return l, nil
}

// moreRestrictive reports whether TLP level a is above b ("" is unmarked,
// below every level).
func moreRestrictive(a, b string) bool { return tlpRank[a] > tlpRank[b] }

// markingLevels maps the marking-definition ids the standards fix to
// their TLP level, so that an indicator marked with an id whose definition
// was never imported is still judged.
func markingLevels() map[string]string {
	out := map[string]string{}
	for _, v := range []string{"1.0", "2.0"} {
		for _, l := range []string{"white", "clear", "green", "amber", "amber+strict", "red"} {
			if m, err := intel.TLPMarkingVersion(l, v); err == nil {
				out[m.ID] = normTLP(l)
			}
		}
	}
	return out
}

func normTLP(l string) string {
	if l == "white" {
		return "clear"
	}
	return l
}
