package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportCommand imports the demo's APT1 feeds into a fresh database,
// half of them marked red, and exports: the --json summary counts what
// intel stats counts, the red ones are withheld and said so on stderr,
// and bad flags are usage errors.
func TestExportCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "w.db")
	apt1 := filepath.Join("..", "..", "examples", "intel", "actors", "APT1")
	if code, _, errs := runMain("--db", db, "-q", "intel", "import", "--actor", "APT1", "--tlp", "red", filepath.Join(apt1, "apt1-fqdn.dat")); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	if code, _, errs := runMain("--db", db, "-q", "intel", "import", "--actor", "APT1", filepath.Join(apt1, "apt1-md5.dat")); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	_, statsOut, _ := runMain("--db", db, "--json", "intel", "stats")
	var st struct {
		IndicatorTypes map[string]int `json:"indicator_types"`
	}
	if err := json.Unmarshal([]byte(statsOut), &st); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "apt1.intel")
	code, stdout, stderr := runMain("--db", db, "--json", "export", "--format", "zeek-intel", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var sum struct {
		Exported int            `json:"exported"`
		Withheld map[string]int `json:"withheld_by_tlp"`
		Files    []string       `json:"files"`
	}
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if sum.Exported != st.IndicatorTypes["md5"] || sum.Withheld["red"] != st.IndicatorTypes["domain"] || sum.Withheld["red"] == 0 {
		t.Fatalf("summary %+v, store %v", sum, st.IndicatorTypes)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if rows := strings.Count(string(data), "\tIntel::FILE_HASH\t"); rows != sum.Exported {
		t.Fatalf("%d rows in the file, %d exported", rows, sum.Exported)
	}
	_, _, stderr = runMain("--db", db, "export", "--format", "csv", "-o", filepath.Join(dir, "x.csv"))
	if want := "indicators withheld: marked TLP:RED"; !strings.Contains(stderr, want) {
		t.Fatalf("stderr %q does not say %q", stderr, want)
	}
	for _, bad := range [][]string{{"export", "--format", "snort"}, {"export", "--format", "csv", "--tlp", "purple"}, {"export", "--format", "suricata"}} {
		if code, _, _ := runMain(append([]string{"--db", db}, bad...)...); code == 0 {
			t.Errorf("%v: exit 0", bad)
		}
	}
	if code, _, _ := runMain("--db", filepath.Join(dir, "none.db"), "export", "--format", "csv"); code != 1 {
		t.Errorf("export on a missing database: exit %d, want 1", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "none.db")); err == nil {
		t.Error("export created a database")
	}
}
