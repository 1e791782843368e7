package report_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden compares the Markdown and JSON renderings of the APT1 fixture
// with testdata/*.golden; `go test ./internal/report -update` rewrites them.
func TestGolden(t *testing.T) {
	for _, tc := range []struct{ format, file string }{
		{"md", "report.md.golden"},
		{"json", "report.json.golden"},
		{"csv", "sightings.csv.golden"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			var b bytes.Buffer
			if err := report.Render(tc.format, &b, apt1Data(t)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), b.String()); diff != "" {
				t.Errorf("%s differs from %s (-want +got):\n%s", tc.format, path, diff)
			}
		})
	}
}
