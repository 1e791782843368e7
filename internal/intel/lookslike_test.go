package intel_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/intel"
)

var sharedData = filepath.Join("..", "..", "..", "shared", "data")

func looksLike(t *testing.T, path string) string {
	t.Helper()
	in, err := fileio.Open(path, fileio.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	return intel.LooksLike(in.Head, path)
}

func sharedFiles(t *testing.T, dir string) []string {
	t.Helper()
	root := filepath.Join(sharedData, dir)
	if _, err := os.Stat(root); err != nil {
		t.Skipf("shared data absent: %v", err)
	}
	files, err := fileio.Expand([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestLooksLikeTelemetry: every log and capture of the shared telemetry
// is recognised for what it is, Zeek logs by their #path.
func TestLooksLikeTelemetry(t *testing.T) {
	n := 0
	for _, f := range sharedFiles(t, "telemetry") {
		got := looksLike(t, f)
		base := strings.ToLower(filepath.Base(f))
		var want string
		switch {
		case strings.HasPrefix(base, "license"), strings.HasPrefix(base, "readme"):
			continue // prose, tested below
		case strings.HasSuffix(base, ".pcapng"):
			want = "a pcapng capture"
		case strings.Contains(base, ".pcap"):
			want = "a pcap capture"
		case strings.HasSuffix(base, ".json.gz"):
			want = "a Zeek " + strings.TrimSuffix(base, ".json.gz") + " log (JSON)"
		case strings.HasSuffix(base, ".log.gz"):
			want = "a Zeek " + strings.TrimSuffix(base, ".log.gz") + " log"
		case strings.Contains(base, ".log"):
			// a Zeek log, TSV or JSON: named by its #path or _path, else its file
			if !strings.HasPrefix(got, "a Zeek ") || !strings.Contains(got, " log") {
				t.Errorf("%s looks like %q, want a Zeek log", f, got)
			}
			n++
			continue
		default:
			continue // citations, labelling settings: neither telemetry nor intelligence
		}
		if got != want {
			t.Errorf("%s looks like %q, want %q", f, got, want)
		}
		n++
	}
	if n < 40 {
		t.Errorf("only %d telemetry files checked", n)
	}
}

func TestLooksLikeProse(t *testing.T) {
	for _, f := range sharedFiles(t, ".") {
		base := strings.ToUpper(filepath.Base(f))
		want := ""
		switch {
		case strings.HasPrefix(base, "LICENSE"):
			want = "a licence text"
		case strings.HasPrefix(base, "README"):
			want = "a README"
		default:
			continue
		}
		if got := looksLike(t, f); got != want {
			t.Errorf("%s looks like %q, want %q", f, got, want)
		}
	}
}

// TestLooksLikeLeavesIntelligenceAlone: no intelligence file of the
// shared data or the examples is refused.
func TestLooksLikeLeavesIntelligenceAlone(t *testing.T) {
	files := sharedFiles(t, "intel")
	ex, err := fileio.Expand([]string{filepath.Join("..", "..", "examples", "intel")})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(files, ex...) {
		base := strings.ToUpper(filepath.Base(f))
		if strings.HasPrefix(base, "LICENSE") || strings.HasPrefix(base, "README") {
			continue
		}
		if got := looksLike(t, f); got != "" {
			t.Errorf("%s, intelligence, looks like %q", f, got)
		}
	}
}

func TestLooksLikeEVE(t *testing.T) {
	path := filepath.Join("..", "telemetry", "eve", "testdata", "eve.json")
	if _, err := os.Stat(path); err != nil {
		t.Skip(err)
	}
	if got := looksLike(t, path); got != "a Suricata EVE log" {
		t.Errorf("eve.json looks like %q", got)
	}
}

// TestLooksLikeHeaderlessZeek: every real Zeek TSV log with its # header
// cut off is still refused as telemetry, not taken for a CSV feed whose
// address column becomes indicators.
func TestLooksLikeHeaderlessZeek(t *testing.T) {
	n := 0
	for _, f := range sharedFiles(t, "telemetry/zeek") {
		if !strings.HasPrefix(looksLike(t, f), "a Zeek ") || strings.HasSuffix(looksLike(t, f), "(JSON)") {
			continue
		}
		in, err := fileio.Open(f, fileio.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		var body []string
		for _, l := range strings.Split(string(in.Head), "\n") {
			if !strings.HasPrefix(l, "#") {
				body = append(body, l)
			}
		}
		in.Close()
		if len(body) < 3 || body[0] == "" || body[0][0] < '0' || body[0][0] > '9' {
			continue // (almost) no records, or no time column (loaded_scripts)
		}
		if got := intel.LooksLike([]byte(strings.Join(body, "\n")), "records.tsv"); got != "a Zeek log without its header" {
			t.Errorf("%s without its header looks like %q", f, got)
		}
		n++
	}
	if n < 20 {
		t.Errorf("only %d headerless logs checked", n)
	}
}
