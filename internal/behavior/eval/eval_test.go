package eval_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/behavior/eval"
)

var data = filepath.Join("..", "..", "..", "..", "shared", "data")

// TestStratosphere runs the evaluation on the real captures and checks the
// targets loosely: the C2 of 001, 003 and 009 found, the DGA of 005 found,
// the named periodic Microsoft / Dropbox / ESET traffic of the benign hosts
// lowered below the threshold or suppressed.
func TestStratosphere(t *testing.T) {
	root := filepath.Join(data, "telemetry", "zeek", "stratosphere")
	if _, err := os.Stat(root); err != nil {
		t.Skip("shared data not present:", err)
	}
	wl, err := eval.LoadWarninglists(filepath.Join(data, "intel", "misp-warninglists"))
	if err != nil {
		t.Fatal(err)
	}
	allow, err := behavior.LoadAllowlist(filepath.Join("testdata", "site.allow"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := behavior.DefaultConfig()
	for _, withAllow := range []bool{false, true} {
		var benign behavior.Benign = wl
		if withAllow {
			benign = behavior.Chain(wl, allow)
		}
		for _, ds := range eval.Datasets() {
			r, err := eval.Run(root, ds, cfg, benign)
			if err != nil {
				t.Fatal(err)
			}
			if r.Events == 0 {
				t.Fatalf("%s: no events read", ds.Name)
			}
			switch ds.Name {
			case "001", "003":
				if r.RecallAssessable() < 1 || r.Precision() < 1 {
					t.Errorf("%s: recall %.2f precision %.2f, want 1 and 1", ds.Name, r.RecallAssessable(), r.Precision())
				}
			case "009":
				// the one miss is www.microsoft.com, Malicious only because
				// every record of the infected host is
				if r.FoundAssessable < 8 {
					t.Errorf("009: %d of the 8 C2 series found", r.FoundAssessable)
				}
			case "005":
				dga := false
				for _, f := range r.Found {
					dga = dga || f.Detection.Analytic == behavior.DGA
				}
				if !dga {
					t.Error("005: DGA not flagged")
				}
			default: // benign hosts
				for _, d := range r.Findings {
					n := d.DstName
					if cfg.Detected(d) && (strings.HasSuffix(n, "microsoft.com") || strings.HasSuffix(n, "dropbox.com") || strings.HasSuffix(n, "eset.com")) {
						t.Errorf("%s: named benign periodic series detected: %s %s→%s %.2f", ds.Name, d.Analytic, d.Src, n, d.Score)
					}
				}
				if withAllow && len(r.FalsePos) > 1 {
					t.Errorf("%s with the site allowlist: %d false positives", ds.Name, len(r.FalsePos))
				}
				if len(r.Lowered) == 0 {
					t.Errorf("%s: nothing lowered by the known-benign lists", ds.Name)
				}
			}
		}
	}
}
