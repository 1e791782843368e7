package tlp

import "fmt"

// Ceiling is the most a recipient may receive: a key's --tlp-max, export's
// or report's --tlp. Internal recipients belong to the organisation that
// runs whodunit, the only ones TLP:AMBER+STRICT may reach.
type Ceiling struct {
	Max      Level
	Internal bool
}

// Allows reports whether an object at level l may go to the recipient.
// TLP:RED never leaves through a collection, an export or a report: it is
// for named people, whom no key or file stands for.
func (c Ceiling) Allows(l Level) bool {
	switch {
	case l < Unmarked || l >= Red:
		return false
	case l == AmberStrict:
		return c.Internal && c.Max >= AmberStrict
	default:
		return l <= c.Max
	}
}

// String is the ceiling as the CLI shows it ("amber+strict (internal)").
func (c Ceiling) String() string {
	if c.Internal {
		return c.Max.String() + " (internal)"
	}
	return c.Max.String()
}

// ParseCeiling reads a ceiling as --tlp-max and --tlp take it. Red is
// refused because nothing marked red may leave; amber+strict needs an
// internal recipient, since nobody else may receive it.
func ParseCeiling(s string, internal bool) (Ceiling, error) {
	l, err := Parse(s)
	if err != nil {
		return Ceiling{}, err
	}
	switch {
	case l == Red:
		return Ceiling{}, fmt.Errorf("TLP:RED cannot be a ceiling: nothing marked red leaves whodunit (highest is amber+strict)")
	case l == AmberStrict && !internal:
		return Ceiling{}, fmt.Errorf("TLP:AMBER+STRICT is only for the organisation's own (internal) recipients")
	}
	return Ceiling{Max: l, Internal: internal}, nil
}
