package export

import (
	"fmt"

	"github.com/whodunit-project/whodunit/internal/tlp"
)

// Exports go to the organisation's own sensors and platforms, so the
// ceiling is an internal one: amber+strict may leave when asked for, red
// never does (package tlp has the rules every way out shares).
const exportInternal = true

// ParseTLP reads a level as --tlp takes it ("amber", "TLP:AMBER+STRICT",
// "white") and returns its name; red is refused, since it never leaves.
func ParseTLP(s string) (string, error) {
	c, err := parseCeiling(s)
	if err != nil {
		return "", err
	}
	return c.Max.String(), nil
}

// parseCeiling is the ceiling of Options.MaxTLP ("" = amber).
func parseCeiling(s string) (tlp.Ceiling, error) {
	if s == "" {
		s = "amber"
	}
	c, err := tlp.ParseCeiling(s, exportInternal)
	if err != nil {
		return tlp.Ceiling{}, fmt.Errorf("--tlp: %w", err)
	}
	return c, nil
}
