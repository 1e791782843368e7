package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/whodunit-project/whodunit/internal/cli"
)

var update = flag.Bool("update", false, "rewrite the golden files of the --json outputs")

var examplesDir = filepath.Join("..", "..", "examples")

// demoStore runs the demo once per test binary and returns its output
// directory (with whodunit.db and the reports).
var demoStore = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "whodunit-golden-")
	if err != nil {
		return "", err
	}
	var out, errb bytes.Buffer
	if code := runMainArgs(&out, &errb, "demo", "--examples", examplesDir, "--out", dir); code != 0 {
		return "", &demoError{code, errb.String()}
	}
	return dir, nil
})

// demoDB skips in -short mode, else returns the demo's output directory and
// its database, failing the test when the demo did not run.
func demoDB(t *testing.T) (dir, db string) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the demo")
	}
	dir, err := demoStore()
	if err != nil {
		t.Fatal(err)
	}
	return dir, filepath.Join(dir, "whodunit.db")
}

type demoError struct {
	code   int
	stderr string
}

func (e *demoError) Error() string { return "demo failed: " + e.stderr }

// TestJSONGolden runs every command that reports results with --json on
// the demo's store and compares stdout with testdata/golden/NAME.json
// (refresh with go test ./internal/cli -run TestJSONGolden -update). Each
// output must be JSON (one document, or JSON lines for scan) and nothing
// else.
func TestJSONGolden(t *testing.T) {
	// heavy and independent: runs beside the rest of the package
	t.Parallel()
	dir, db := demoDB(t)
	scanDB := filepath.Join(t.TempDir(), "scan.db")
	apt1 := filepath.Join(examplesDir, "intel", "actors", "APT1")
	pattern := filepath.Join("..", "..", "..", "shared", "data", "intel", "stix", "poisonivy.json")
	cases := []struct {
		name  string
		args  []string
		lines bool // JSON lines
	}{
		{"intel-stats", []string{"--db", db, "intel", "stats"}, false},
		{"intel-show-apt28", []string{"--db", db, "intel", "show", "APT28"}, false},
		{"intel-list-apt28", []string{"--db", db, "intel", "list", "--actor", "APT28"}, false},
		{"intel-check", []string{"--db", db, "intel", "check", "8.8.8.8", "msnhome.org", "185.86.151.2"}, false},
		{"detections", []string{"--db", db, "detections"}, false},
		{"attribute", []string{"--db", db, "attribute", "--assets", filepath.Join(examplesDir, "assets.csv")}, false},
		{"geo", []string{"--db", db, "geo", "8.8.8.8", "58.246.20.7", "10.0.0.1", "2001:4860:4860::8888"}, false},
		{"pattern-validate", []string{"pattern", "validate", "[domain-name:value = 'msnhome.org'] FOLLOWEDBY [ipv4-addr:value = '58.246.20.7'] WITHIN 60 SECONDS"}, false},
		{"intel-import", []string{"--db", scanDB, "intel", "import", "--actor", "APT1", apt1}, false},
		{"scan", []string{"--db", scanDB, "scan", "--workers", "1", filepath.Join(examplesDir, "telemetry", "http.log.gz")}, true},
		{"intel-sources", []string{"--db", db, "intel", "sources"}, false},
		{"sightings-value", []string{"--db", db, "sightings", "--value", "msnhome.org", "--limit", "20"}, true},
		{"sightings-campaign", []string{"--db", db, "sightings", "--campaign", "c-a2027174ea"}, true},
		{"intel-delete", []string{"--db", scanDB, "intel", "delete", "--source", "apt1-certs.dat"}, false},
	}
	if _, err := os.Stat(pattern); err == nil {
		cases = append(cases, struct {
			name  string
			args  []string
			lines bool
		}{"pattern-match", []string{"pattern", "match", "--pattern", "[file:hashes.MD5 = '4a3ca11d2b1d2f9b6c4e3b9e9c1c2b3d']", pattern}, false})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := runMainArgs(&out, &errb, append([]string{"--json"}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, errb.String())
			}
			got := normalise(t, out.Bytes(), tc.lines, dir)
			checkGolden(t, filepath.Join("testdata", "golden", tc.name+".json"), got)
		})
	}
}

// TestDemoReportGolden pins the demo's report.json: a change to any
// campaign, hypothesis, likelihood or piece of evidence shows as a diff
// (refresh deliberately with -update).
func TestDemoReportGolden(t *testing.T) {
	dir, _ := demoDB(t)
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, filepath.Join("testdata", "golden", "demo-report.json"), normalise(t, data, false, dir))
}

var (
	timestampKey = regexp.MustCompile(`"(generated|imported_at|created|duration_ns)": ("[^"]*"|[0-9]+)`)
)

// normalise checks that out is JSON and replaces what differs from run to
// run: the temporary directory, the checkout's absolute path, generation
// times and durations.
func normalise(t *testing.T, out []byte, lines bool, tmp string) []byte {
	t.Helper()
	docs := [][]byte{out}
	if lines {
		docs = bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
	}
	for i, d := range docs {
		if len(bytes.TrimSpace(d)) == 0 && lines && len(docs) == 1 {
			continue
		}
		if !json.Valid(d) {
			t.Fatalf("output %d is not JSON:\n%.400s", i, d)
		}
	}
	abs, _ := filepath.Abs(filepath.Join("..", ".."))
	s := strings.ReplaceAll(string(out), tmp, "$TMP")
	s = strings.ReplaceAll(s, abs+string(filepath.Separator), "$REPO/")
	s = strings.ReplaceAll(s, filepath.Join("..", "..")+string(filepath.Separator), "$REPO/")
	s = timestampKey.ReplaceAllString(s, `"$1": "…"`)
	return []byte(s)
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (create it with -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; refresh with -update if deliberate):\n%s", path, diff)
	}
}

func runMainArgs(stdout, stderr *bytes.Buffer, args ...string) int {
	return cli.Main(context.Background(), args, strings.NewReader(""), stdout, stderr)
}
