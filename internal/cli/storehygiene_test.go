package cli_test

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/scan"
)

// TestImportRefusesTelemetry offers real telemetry and prose as
// intelligence: each is refused, saying what it looks like, and nothing
// is imported, unless --format forces a format.
func TestImportRefusesTelemetry(t *testing.T) {
	needShared(t)
	db := filepath.Join(t.TempDir(), "w.db")
	tel := filepath.Join(sharedData, "telemetry")
	cases := map[string]string{
		filepath.Join(tel, "zeek", "wrccdc-2018", "dns.log.gz"):                                  "a Zeek dns log",
		filepath.Join(tel, "zeek", "wrccdc-2018", "json", "ssl.json.gz"):                         "a Zeek ssl log (JSON)",
		filepath.Join(tel, "zeek", "stratosphere", "008-zeek-mixed", "data", "conn.log.labeled"): "a Zeek conn log",
		filepath.Join(tel, "pcap", "smtp.pcap"):                                                  "a pcap capture",
		filepath.Join(sharedData, "README.md"):                                                   "a README",
		filepath.Join(tel, "zeek", "wrccdc-2018", "LICENSE"):                                     "a licence text",
	}
	for path, what := range cases {
		out, errs, code := runCLI(t, "--db", db, "intel", "import", path)
		want := path + ": looks like " + what + ", not intelligence; --format forces a format"
		if code != 1 || !strings.Contains(errs, "whodunit: "+want) || out != "" {
			t.Errorf("import %s: exit %d, stdout %q, stderr %q; want exit 1 and %q", path, code, out, errs, want)
		}
	}
	out, _, code := runCLI(t, "--db", db, "--json", "intel", "sources")
	if code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("sources after refused imports: exit %d, %s", code, out)
	}
	log := filepath.Join(tel, "zeek", "wrccdc-2018", "dns.log.gz")
	if _, errs, code := runCLI(t, "--db", db, "intel", "import", "--format", "csv", log); code != 0 {
		t.Errorf("--format csv on a Zeek log: exit %d, %s", code, errs)
	}
}

// TestImportSuggestsActor: the APT1 lists name their report in
// meta.source; without --actor the import suggests it, with it it does not.
func TestImportSuggestsActor(t *testing.T) {
	needShared(t)
	path := filepath.Join(sharedData, "intel", "apt1", "apt1-fqdn.dat")
	db := filepath.Join(t.TempDir(), "w.db")
	_, errs, code := runCLI(t, "--db", db, "intel", "import", path)
	if code != 0 || !strings.Contains(errs, `"Mandiant APT1 Report", which names APT1`) || !strings.Contains(errs, "--actor APT1") {
		t.Errorf("import without --actor: exit %d, stderr %q; want a suggestion of --actor APT1", code, errs)
	}
	_, errs, code = runCLI(t, "--db", filepath.Join(t.TempDir(), "x.db"), "intel", "import", "--actor", "APT1", path)
	if code != 0 || strings.Contains(errs, "hint:") {
		t.Errorf("import with --actor: exit %d, stderr %q; want no hint", code, errs)
	}
}

type sourceLine struct {
	Name    string `json:"name"`
	Format  string `json:"format"`
	Path    string `json:"path"`
	Objects int    `json:"objects"`
}

func sourcesOf(t *testing.T, db string) map[string]sourceLine {
	t.Helper()
	out, errs, code := runCLI(t, "--db", db, "--json", "intel", "sources")
	if code != 0 {
		t.Fatalf("intel sources: exit %d, %s", code, errs)
	}
	var list []sourceLine
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("intel sources --json: %v\n%s", err, out)
	}
	m := map[string]sourceLine{} // a directory gives one source per file: add them up
	for _, s := range list {
		sum := m[s.Name]
		sum.Name, sum.Format, sum.Path = s.Name, s.Format, s.Path
		sum.Objects += s.Objects
		m[s.Name] = sum
	}
	return m
}

func bySource(t *testing.T, db string) map[string]int {
	t.Helper()
	out, _, code := runCLI(t, "--db", db, "--json", "intel", "stats")
	var st struct {
		BySource map[string]int `json:"by_source"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil {
		t.Fatalf("intel stats: exit %d, %s", code, out)
	}
	return st.BySource
}

// TestIntelSourcesAndDelete imports the demo's APT1 list twice, under two
// names, and a STIX file; deleting one name keeps the list's indicators
// for the other.
func TestIntelSourcesAndDelete(t *testing.T) {
	// heavy and independent: runs beside the rest of the package
	t.Parallel()
	db := filepath.Join(t.TempDir(), "w.db")
	apt1 := filepath.Join(examplesDir, "intel", "actors", "APT1")
	for _, args := range [][]string{
		{"intel", "import", filepath.Join(examplesDir, "intel", "attack-subset.json.gz")},
		{"intel", "import", "--actor", "APT1", "--source", "first", apt1},
		{"intel", "import", "--actor", "APT1", "--source", "second", apt1},
	} {
		if _, errs, code := runCLI(t, append([]string{"--db", db}, args...)...); code != 0 {
			t.Fatalf("%v: exit %d, %s", args, code, errs)
		}
	}
	srcs, stats := sourcesOf(t, db), bySource(t, db)
	for name, n := range stats {
		if srcs[name].Objects != n {
			t.Errorf("source %s: %d objects listed, intel stats says %d", name, srcs[name].Objects, n)
		}
	}
	if srcs["first"].Objects == 0 || srcs["first"].Format == "" {
		t.Fatalf("sources: %+v", srcs)
	}
	before := indicatorsOf(t, db, "APT1")
	out, errs, code := runCLI(t, "--db", db, "--json", "intel", "delete", "--source", "first")
	var res struct {
		Deleted int `json:"deleted_objects"`
		Kept    int `json:"kept_objects"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("delete: exit %d, %s %s", code, out, errs)
	}
	// all but the identity that names the source "first" is also second's
	if res.Deleted != 1 || res.Kept == 0 || res.Kept > srcs["first"].Objects {
		t.Errorf("deleting a source another one repeats: %+v, want 1 deleted, at most %d kept", res, srcs["first"].Objects)
	}
	if after := indicatorsOf(t, db, "APT1"); after != before || after == 0 {
		t.Errorf("APT1 indicators: %d before, %d after deleting one of two identical sources", before, after)
	}
	if _, ok := sourcesOf(t, db)["first"]; ok {
		t.Error("the deleted source is still listed")
	}
	if _, errs, code := runCLI(t, "--db", db, "intel", "delete", "--source", "first"); code != 1 || !strings.HasPrefix(errs, "whodunit: no source named \"first\"") {
		t.Errorf("deleting it again: exit %d, %q", code, errs)
	}
}

func indicatorsOf(t *testing.T, db, actor string) int {
	t.Helper()
	out, errs, code := runCLI(t, "--db", db, "--json", "intel", "list", "--type", "indicator", "--actor", actor)
	var list []json.RawMessage
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil {
		t.Fatalf("intel list: exit %d, %s %.200s", code, errs, out)
	}
	return len(list)
}

// TestSightingsPivot checks the pivots on the demo's store against the
// report it wrote: each campaign's sightings are the report's count.
func TestSightingsPivot(t *testing.T) {
	// heavy and independent: runs beside the rest of the package
	t.Parallel()
	dir, db := demoDB(t)
	var doc report.Document
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil || json.Unmarshal(data, &doc) != nil {
		t.Fatalf("report.json: %v", err)
	}
	for _, c := range doc.Campaigns {
		lines := jsonLines(t, "--db", db, "sightings", "--campaign", strings.ToLower(c.ID))
		if len(lines) != c.Sightings {
			t.Errorf("campaign %s: %d sightings listed, the report counts %d", c.ID, len(lines), c.Sightings)
		}
	}
	host := "10.164.94.120"
	lines := jsonLines(t, "--db", db, "sightings", "--host", host, "--since", "2018-03-24", "--until", "2018-03-25T00:00:00Z")
	if len(lines) == 0 {
		t.Fatal("no sightings of the demo's victim host")
	}
	for _, l := range lines {
		if (l["src_ip"] != host && l["dst_ip"] != host) || !strings.HasPrefix(l["time"].(string), "2018-03-24") {
			t.Errorf("--host %s --since/--until: got %v", host, l)
		}
	}
	val := jsonLines(t, "--db", db, "sightings", "--value", "msnhome.org", "--limit", "2")
	if len(val) != 2 || val[0]["value"] != "msnhome.org" || val[0]["indicator_id"] == "" {
		t.Errorf("--value --limit 2: %v", val)
	}
	out, _, code := runCLI(t, "--db", db, "sightings", "--host", host, "--since", "2018-03-24", "--until", "2018-03-25", "--csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(rows) != len(lines)+1 || rows[0][0] != "time" {
		t.Errorf("--csv: exit %d, %v, %d rows for %d sightings", code, err, len(rows), len(lines))
	}
	if _, errs, code := runCLI(t, "--db", db, "sightings", "--campaign", "C-nope"); code != 2 || !strings.Contains(errs, "has no campaign") {
		t.Errorf("unknown campaign: exit %d, %s", code, errs)
	}
}

func jsonLines(t *testing.T, args ...string) []map[string]any {
	t.Helper()
	out, errs, code := runCLI(t, append([]string{"--json"}, args...)...)
	if code != 0 {
		t.Fatalf("%v: exit %d, %s", args, code, errs)
	}
	var list []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%v: a line is not JSON: %v\n%s", args, err, sc.Text())
		}
		list = append(list, m)
	}
	return list
}

// TestReportAfterScanCountsEvents: report after scan states the events
// and bytes the scan read, from the store.
func TestReportAfterScanCountsEvents(t *testing.T) {
	dir := t.TempDir()
	db, sum := filepath.Join(dir, "w.db"), filepath.Join(dir, "sum.json")
	tel := filepath.Join(examplesDir, "telemetry")
	for _, args := range [][]string{
		{"intel", "import", "--actor", "APT1", filepath.Join(examplesDir, "intel", "actors", "APT1")},
		{"scan", "--summary-json", sum, filepath.Join(tel, "dns.log.gz"), filepath.Join(tel, "ssl.log.gz")},
	} {
		if _, errs, code := runCLI(t, append([]string{"--db", db, "-q"}, args...)...); code != 0 {
			t.Fatalf("%v: exit %d, %s", args, code, errs)
		}
	}
	var run scan.RunReport
	data, err := os.ReadFile(sum)
	if err != nil || json.Unmarshal(data, &run) != nil || run.Summary.Events == 0 {
		t.Fatalf("scan summary: %v %s", err, data)
	}
	out, errs, code := runCLI(t, "--db", db, "report", "--format", "json")
	var doc report.Document
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil {
		t.Fatalf("report: exit %d, %s", code, errs)
	}
	if doc.Summary.Events != run.Summary.Events || doc.Summary.Bytes != run.Summary.DataBytes {
		t.Errorf("report after scan: %d events, %d bytes; the scan read %d events, %d bytes",
			doc.Summary.Events, doc.Summary.Bytes, run.Summary.Events, run.Summary.DataBytes)
	}
}

// TestReportOutputErrors: -o on a directory or under a missing one names
// the path and leaves no file behind.
func TestReportOutputErrors(t *testing.T) {
	_, db := demoDB(t)
	target := t.TempDir()
	for out, want := range map[string]string{
		target: "whodunit: -o " + target + ": is a directory",
		filepath.Join(target, "missing", "r.html"): "whodunit: -o " + filepath.Join(target, "missing", "r.html") + ": directory " + filepath.Join(target, "missing") + " does not exist",
	} {
		_, errs, code := runCLI(t, "--db", db, "report", "-o", out)
		if code != 1 || !strings.HasPrefix(errs, want) {
			t.Errorf("report -o %s: exit %d, %q; want %q", out, code, errs, want)
		}
	}
	if left, _ := os.ReadDir(target); len(left) != 0 {
		t.Errorf("left behind in %s: %v", target, left)
	}
}

func TestMistypedFlagSuggests(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"attribute", "--assset", "a.csv"}, `unknown flag --assset for "whodunit attribute"; did you mean --assets?`},
		{[]string{"intel", "import", "--fromat", "csv", "x"}, "did you mean --format?"},
		{[]string{"sightings", "--hots", "10.0.0.1"}, "did you mean --host?"},
		{[]string{"scan", "--jsno", "x"}, "did you mean --json?"},
	} {
		_, errs, code := runCLI(t, tc.args...)
		if code != 2 || !strings.HasPrefix(errs, "whodunit: ") || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, %q; want exit 2 and %q", tc.args, code, errs, tc.want)
		}
	}
}
