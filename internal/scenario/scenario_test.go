package scenario_test

import (
	"bufio"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/scenario"
)

func TestGenerateWritesTruthAtTheRightLines(t *testing.T) {
	bg := filepath.Join("..", "..", "..", "shared", "data", "telemetry", "zeek", "wrccdc-2018")
	if _, err := os.Stat(bg); err != nil {
		t.Skip("shared data not present")
	}
	out := t.TempDir()
	m, err := scenario.Generate(scenario.Spec{Background: bg, Out: out, Seed: 1, Days: 7, Files: []string{"dns", "ssl"},
		Actors: []scenario.Actor{{Name: "APT1", Domains: []string{"hugesoft.org", "msnhome.org"}, IPs: []string{"223.166.10.20"},
			MD5s: []string{"001dd76872d80801692ff942308c64e6"}, UTCOffset: 8, Victims: 2, Sessions: 10, Beacon: 30 * time.Minute, Jitter: 0.2}},
		Decoys: scenario.Decoys{SharedIPs: []string{"198.51.100.7"}, UnknownBeacon: "45.77.1.2"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Victims["APT1"]) != 2 || !strings.HasPrefix(m.Victims["APT1"][0], "10.") {
		t.Errorf("victims %v, want internal hosts from the background", m.Victims)
	}
	lines := map[string][]string{}
	for _, f := range m.Files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(fh)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines[f] = append(lines[f], sc.Text())
		}
		fh.Close()
	}
	if len(m.Truths) < 100 {
		t.Fatalf("%d truths", len(m.Truths))
	}
	for _, tr := range m.Truths {
		l := lines[tr.File]
		if tr.Line < 1 || int(tr.Line) > len(l) || !strings.Contains(l[tr.Line-1], tr.Value) {
			t.Fatalf("truth %+v does not point at a line holding its value", tr)
		}
	}
	// The background is kept: the real dns log's 53,624 lines are all there.
	dns := lines[filepath.Join(out, "dns.log.gz")]
	if len(dns) < 53624 {
		t.Errorf("dns log has %d lines", len(dns))
	}
}
