package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// Red is refused as a limit on every way out, before anything is read.
func TestRedNeverLeavesFlags(t *testing.T) {
	db := filepath.Join(t.TempDir(), "none.db")
	for _, args := range [][]string{
		{"report", "--format", "json", "--tlp", "red"},
		{"hunt", "--intel", "x.json", "--logs", "x.log", "--tlp", "TLP:RED"},
		{"export", "--format", "csv", "--tlp", "red"},
		{"apikey", "create", "x", "--tlp-max", "red"},
	} {
		code, _, errs := runMain(append([]string{"--db", db}, args...)...)
		if code != 2 || !strings.Contains(errs, "TLP:RED") {
			t.Errorf("%v: exit %d, %q; want a usage error about TLP:RED", args, code, errs)
		}
	}
}
