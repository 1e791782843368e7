package formats_test

import (
	"os"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/formats"
)

const shared = "../../../../shared/data"

// samples names, for every registered format, a real file of that format
// (from the repository, or from the shared data when it is there). A format
// added to the registry without a sample fails TestEveryImporterSniffed.
var samples = map[string][]string{
	"stix":             {"../../../examples/intel/apt1.json", shared + "/intel/stix/poisonivy.json"},
	"misp":             {"../misp/testdata/event-all-types.json"},
	"misp-galaxy":      {"../../../examples/intel/misp-galaxy-threat-actor-subset.json", shared + "/intel/misp-galaxy/threat-actor.json"},
	"misp-warninglist": {"../../../examples/intel/warninglists/public-dns-v4/list.json"},
	"openioc":          {"../openioc/testdata/apt28-domains.ioc", "../openioc/testdata/v11-mixed.ioc"},
	"zeek-intel":       {"../flat/testdata/all-types.intel", shared + "/intel/apt1/apt1-fqdn.dat"},
	"csv":              {"../flat/testdata/indicators.csv", "../flat/testdata/urlhaus-style.csv"},
	"list":             {"../flat/testdata/list.txt"},
}

// TestEveryImporterSniffed checks that every registered importer is
// reachable by sniffing: its real sample files are claimed by it and by no
// importer tried before it.
func TestEveryImporterSniffed(t *testing.T) {
	importers := formats.Importers()
	for _, im := range importers {
		files, ok := samples[im.Name()]
		if !ok {
			t.Errorf("importer %q has no sample file in this test", im.Name())
			continue
		}
		for _, path := range files {
			got, err := sniff(importers, path)
			if os.IsNotExist(err) && strings.HasPrefix(path, shared) {
				t.Logf("%s: shared data absent, not checked", path)
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", path, err)
				continue
			}
			if got != im.Name() {
				t.Errorf("%s sniffed as %q, want %q", path, got, im.Name())
			}
		}
	}
	if len(samples) != len(importers) {
		t.Errorf("%d samples for %d importers: a sample names a format that is not registered", len(samples), len(importers))
	}
}

func sniff(importers []intel.Importer, path string) (string, error) {
	in, err := fileio.Open(path, fileio.DefaultLimits)
	if err != nil {
		return "", err
	}
	defer in.Close()
	for _, im := range importers {
		if im.Sniff(in.Head, path) {
			return im.Name(), nil
		}
	}
	return "nothing", nil
}

func TestDirImporterTakesAFeed(t *testing.T) {
	dirs := formats.DirImporters()
	if len(dirs) != 1 || dirs[0].Name() != "misp-feed" {
		t.Fatalf("dir importers: %v", formats.Names())
	}
	if !dirs[0].IsDir("../misp/testdata/feed") {
		t.Error("the MISP feed directory is not taken whole")
	}
	if dirs[0].IsDir("../flat/testdata") {
		t.Error("a directory of lists taken as a MISP feed")
	}
}

func TestNamesAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range formats.Names() {
		if seen[n] {
			t.Errorf("format %q registered twice", n)
		}
		seen[n] = true
	}
}

func TestSTIXObservables(t *testing.T) {
	obs, simple, err := formats.STIXObservables("[domain-name:value = 'msnhome.org']")
	if err != nil || !simple || len(obs) != 1 || obs[0].Value != "msnhome.org" {
		t.Errorf("simple pattern: %v %v %v", obs, simple, err)
	}
	if _, simple, err := formats.STIXObservables("[domain-name:value = 'a.com'] FOLLOWEDBY [ipv4-addr:value = '1.2.3.4']"); err != nil || simple {
		t.Errorf("a FOLLOWEDBY pattern is not simple: %v %v", simple, err)
	}
	if _, _, err := formats.STIXObservables("[domain-name:value = "); err == nil {
		t.Error("a broken pattern gives no error")
	}
}
