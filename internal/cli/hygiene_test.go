package cli_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/cli"
	"github.com/whodunit-project/whodunit/internal/hunt"
)

// Commands that only read refuse a database that does not exist, exit 1,
// and create nothing (no file, no directory).
func TestReadCommandsCreateNoStore(t *testing.T) {
	for _, args := range [][]string{
		{"intel", "stats"}, {"intel", "list"}, {"intel", "show", "APT1"}, {"intel", "check", "8.8.8.8"},
		{"detections"}, {"attribute"}, {"report", "--format", "json"},
		{"intel", "sources"}, {"intel", "delete", "--source", "x"}, {"sightings", "--value", "x"},
	} {
		dir := t.TempDir()
		db := filepath.Join(dir, "sub", "none.db")
		var out, errb bytes.Buffer
		code := runMainArgs(&out, &errb, append([]string{"--db", db}, args...)...)
		if code != 1 || !strings.Contains(errb.String(), "no database at "+db) {
			t.Errorf("%v: exit %d, stderr %q; want 1 and a message naming the database", args, code, errb.String())
		}
		if _, err := os.Stat(filepath.Join(dir, "sub")); !os.IsNotExist(err) {
			t.Errorf("%v created %s", args, filepath.Join(dir, "sub"))
		}
	}
}

// A mistyped command is a usage error that suggests the right one.
func TestMistypedCommandSuggests(t *testing.T) {
	var out, errb bytes.Buffer
	code := runMainArgs(&out, &errb, "hnut")
	if code != 2 || !strings.Contains(errb.String(), "hunt") {
		t.Errorf("exit %d, stderr %q; want 2 and a suggestion of hunt", code, errb.String())
	}
	errb.Reset()
	code = runMainArgs(&out, &errb, "intel", "stat")
	if code != 2 || !strings.Contains(errb.String(), "stats") {
		t.Errorf("exit %d, stderr %q; want 2 and a suggestion of stats", code, errb.String())
	}
}

// intel check exits 0 on a hit and 1 on none, reads values from stdin
// with "-", and names each hit's actor, source and sighting count.
func TestIntelCheckExitCodesAndStdin(t *testing.T) {
	dir, db := demoDB(t)
	var out, errb bytes.Buffer
	if code := runMainArgs(&out, &errb, "--db", db, "intel", "check", "example.org"); code != 1 {
		t.Errorf("no hit: exit %d, want 1 (%s)", code, errb.String())
	}
	out.Reset()
	code := cli.Main(context.Background(), []string{"--db", db, "intel", "check", "-"},
		strings.NewReader("# suspects\n\nexample.org\nmsnhome.org\n"), &out, &errb)
	if code != 0 {
		t.Fatalf("a hit read from stdin: exit %d, want 0 (%s)", code, errb.String())
	}
	for _, want := range []string{"example.org (domain)", "msnhome.org (domain)", "actors: APT1", "apt1-fqdn.dat", "sighted "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// the sighting counts are the sightings report's own
	out.Reset()
	if code := runMainArgs(&out, &errb, "--json", "--db", db, "intel", "check", "msnhome.org"); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var res []hunt.CheckResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || len(res) != 1 || len(res[0].Indicators) == 0 {
		t.Fatalf("check --json: %v %s", err, out.String())
	}
	perIndicator := csvCounts(t, filepath.Join(dir, "sightings.csv"), "indicator_id")
	for _, h := range res[0].Indicators {
		if h.Sightings == 0 || h.Sightings != perIndicator[h.Indicator] {
			t.Errorf("%s: check says %d sightings, sightings.csv has %d", h.Indicator, h.Sightings, perIndicator[h.Indicator])
		}
	}
}

// csvCounts counts the rows of a CSV file by the value of one column.
func csvCounts(t *testing.T, path, column string) map[string]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("%s: %v", path, err)
	}
	col := slices.Index(rows[0], column)
	if col < 0 {
		t.Fatalf("%s has no column %q: %v", path, column, rows[0])
	}
	counts := map[string]int{}
	for _, r := range rows[1:] {
		counts[r[col]]++
	}
	return counts
}

// The same malware family from two sources (OpenIOC's CHOPSTICK and
// ATT&CK's CHOPSTICK, S0023) is one entry of the actor's profile, in intel
// show and in the report's actor section.
func TestSameMalwareListedOnce(t *testing.T) {
	dir, _ := demoDB(t)
	var out, errb bytes.Buffer
	if code := runMainArgs(&out, &errb, "--db", filepath.Join(dir, "whodunit.db"), "intel", "show", "Fancy Bear"); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if n := strings.Count(out.String(), "CHOPSTICK"); n != 1 || !strings.Contains(out.String(), "CHOPSTICK (S0023)") {
		t.Errorf("intel show lists CHOPSTICK %d times:\n%s", n, out.String())
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(md), "| CHOPSTICK |"); n != 1 {
		t.Errorf("report.md has %d software rows for CHOPSTICK, want 1", n)
	}
}

// -q silences all but errors: the exit code answers (as grep -q does).
func TestQuietPrintsOnlyErrors(t *testing.T) {
	dir, db := demoDB(t)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"intel", "check", "msnhome.org"}, 0},
		{[]string{"intel", "check", "example.org"}, 1},
		{[]string{"intel", "stats"}, 0},
		{[]string{"detections"}, 0},
	} {
		var out, errb bytes.Buffer
		code := runMainArgs(&out, &errb, append([]string{"-q", "--db", db}, tc.args...)...)
		if code != tc.code || out.Len() != 0 || errb.Len() != 0 {
			t.Errorf("-q %v: exit %d (want %d), stdout %q, stderr %q", tc.args, code, tc.code, out.String(), errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := runMainArgs(&out, &errb, "-q", "--db", filepath.Join(dir, "missing.db"), "intel", "stats"); code != 1 || errb.Len() == 0 {
		t.Errorf("-q on an error: exit %d, stderr %q; want 1 and the error", code, errb.String())
	}
}
