// Package tlp holds the Traffic Light Protocol 2.0 rules that every way out
// of whodunit applies: the TAXII server's collections, export and report
// --tlp. One set of rules, so that no path is more lenient than another.
package tlp

import (
	"fmt"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// Level is a TLP level, ordered from least to most restrictive.
type Level int

// The levels of TLP 2.0. Unmarked sorts below every level: it is what an
// object without any marking has before a default is applied.
const (
	Unmarked Level = iota
	Clear
	Green
	Amber
	AmberStrict
	Red
)

var names = [...]string{"", "clear", "green", "amber", "amber+strict", "red"}

// String is the level as --tlp takes it; "" for Unmarked.
func (l Level) String() string {
	if l < Unmarked || l > Red {
		return fmt.Sprintf("tlp.Level(%d)", int(l))
	}
	return names[l]
}

// Label is the level as documents print it ("TLP:AMBER+STRICT"); "" for
// Unmarked.
func (l Level) Label() string {
	if l <= Unmarked || l > Red {
		return ""
	}
	return "TLP:" + strings.ToUpper(names[l])
}

// Parse reads a level in any case, with or without the "TLP:" prefix.
// "white" is TLP 1.0's name for clear.
func Parse(s string) (Level, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	l = strings.TrimPrefix(l, "tlp:")
	if l == "white" {
		return Clear, nil
	}
	for i := Clear; i <= Red; i++ {
		if names[i] == l {
			return i, nil
		}
	}
	return Unmarked, fmt.Errorf("unknown level %q (want clear, green, amber, amber+strict or red; white is clear)", s)
}

// Max is the more restrictive of a and b.
func Max(a, b Level) Level {
	if a > b {
		return a
	}
	return b
}

// standardIDs maps the marking-definition ids that STIX 2.1 (TLP 1.0) and
// the TLP 2.0 extension fix to their level. They are taken from package
// intel, which writes them, so reader and writer cannot disagree.
var standardIDs = func() map[string]Level {
	out := map[string]Level{}
	for _, v := range []string{"1.0", "2.0"} {
		for _, name := range []string{"white", "clear", "green", "amber", "amber+strict", "red"} {
			m, err := intel.TLPMarkingVersion(name, v)
			if err != nil {
				continue // the level does not exist in that version
			}
			l, err := Parse(name)
			if err != nil {
				panic("tlp: intel knows a level tlp does not: " + name)
			}
			out[m.ID] = l
		}
	}
	return out
}()

// StandardID reports the level of a standard TLP marking-definition id.
func StandardID(id string) (Level, bool) {
	l, ok := standardIDs[id]
	return l, ok
}

// OfMarkings is the most restrictive TLP level among marking-definition
// ids; Unmarked when none of them is a standard TLP marking.
func OfMarkings(ids []string) Level {
	out := Unmarked
	for _, id := range ids {
		out = Max(out, standardIDs[id])
	}
	return out
}
