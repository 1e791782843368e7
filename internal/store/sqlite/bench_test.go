package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/stix"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

// peakRSS reads the process's high-water resident set size in MiB.
func peakRSS() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkImportAttack imports the full ATT&CK Enterprise bundle (24,771
// objects, 7.5 MB gzip / 34 MB JSON) into a fresh store per iteration.
func BenchmarkImportAttack(b *testing.B) {
	path := filepath.Join("..", "..", "..", "..", "shared", "data", "intel", "attack", "enterprise-attack.json.gz")
	if _, err := os.Stat(path); err != nil {
		b.Skip("shared data not present")
	}
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "b.db"))
		if err != nil {
			b.Fatal(err)
		}
		in, err := fileio.Open(path, fileio.DefaultLimits)
		if err != nil {
			b.Fatal(err)
		}
		var st intel.Stats
		_, err = s.Import(ctx, intel.Source{Name: "attack", Format: "stix", SHA256: "x"}, func(sink intel.Sink) error {
			var err error
			st, err = stix.Importer{}.Import(ctx, in.R, path, intel.DefaultOptions(), sink)
			return err
		})
		in.Close()
		s.Close()
		if err != nil {
			b.Fatal(err)
		}
		if st.Total() != 24771 {
			b.Fatalf("%d objects", st.Total())
		}
	}
	b.ReportMetric(peakRSS(), "peak-RSS-MiB")
}
