package cli

import (
	"regexp"
	"testing"

	"github.com/spf13/cobra"
)

// TestExampleMappingsParse checks that every --mapping an Example shows is
// one the scanner accepts: a help text that fails when copied is a bug.
func TestExampleMappingsParse(t *testing.T) {
	re := regexp.MustCompile(`--mapping '([^']*)'`)
	found := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, m := range re.FindAllStringSubmatch(c.Example, -1) {
			found++
			if _, err := loadMapping(m[1]); err != nil {
				t.Errorf("%s: example mapping %q: %v", c.CommandPath(), m[1], err)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	for _, c := range commands(&App{}) {
		walk(c)
	}
	if found == 0 {
		t.Fatal("no example shows --mapping; the test looks at nothing")
	}
}
