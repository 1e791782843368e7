package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/faultfs"
)

// TestFullDiskCommands: with the database's disk full, reading commands
// answer as before, and a command that writes fails with a message that
// names the database — the audit saw "database or disk is full" naming
// nothing, then every command failing with "disk I/O error".
func TestFullDiskCommands(t *testing.T) {
	dir := faultfs.SmallDisk(t, 16<<20)
	db := filepath.Join(dir, "case.db")
	apt1 := filepath.Join("..", "..", "..", "shared", "data", "intel", "apt1")
	if _, err := os.Stat(apt1); err != nil {
		t.Skipf("shared data absent: %v", err)
	}
	if code, _, stderr := runMain("intel", "import", "--db", db, filepath.Join(apt1, "apt1-fqdn.dat")); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	_, statsBefore, _ := runMain("intel", "stats", "--db", db, "--json")
	filler := faultfs.Fill(t, dir)

	code, stats, stderr := runMain("intel", "stats", "--db", db, "--json")
	if code != 0 || stats != statsBefore {
		t.Errorf("intel stats on a full disk: exit %d, %s\n%s", code, stderr, stats)
	}
	if code, out, stderr := runMain("intel", "list", "--db", db); code != 0 || !strings.Contains(out, "indicator") {
		t.Errorf("intel list on a full disk: exit %d: %s", code, stderr)
	}
	code, _, stderr = runMain("intel", "import", "--db", db, filepath.Join(apt1, "apt1-md5.dat"))
	if code == 0 {
		t.Fatal("an import onto a full disk succeeded")
	}
	if !strings.Contains(stderr, db) {
		t.Errorf("the error does not name the database %s:\n%s", db, stderr)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runMain("intel", "import", "--db", db, filepath.Join(apt1, "apt1-md5.dat")); code != 0 {
		t.Errorf("import after freeing space: exit %d: %s", code, stderr)
	}
}
