package sqlite_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/flat"
	"github.com/whodunit-project/whodunit/internal/intel/stix"
	"github.com/whodunit-project/whodunit/internal/scan/benchgen"
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
	for i := 0; i < b.N; i++ {
		st := importFresh(b, filepath.Join(b.TempDir(), "b.db"), path, stix.Importer{})
		if st.Total() != 24771 {
			b.Fatalf("%d objects", st.Total())
		}
	}
	b.ReportMetric(peakRSS(), "peak-RSS-MiB")
}

// BenchmarkImportList1M imports a million-line plain indicator list (the
// value file of make bench-scan's 1M set: domains, addresses, hashes, URL
// hosts and paths, e-mail addresses) into a fresh store per iteration,
// reader included, as `whodunit intel import` does.
func BenchmarkImportList1M(b *testing.B) {
	var buf bytes.Buffer
	if err := benchgen.WriteValues(&buf, benchgen.Indicators(1_000_000, 1)); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	n := 0
	for b.Loop() {
		s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "b.db"))
		if err != nil {
			b.Fatal(err)
		}
		var st intel.Stats
		_, err = s.Import(ctx, intel.Source{Name: "list", Format: "list", SHA256: "x"}, func(sink intel.Sink) error {
			var err error
			st, err = flat.List{}.Import(ctx, bytes.NewReader(data), "indicators-1000000.txt", intel.DefaultOptions(), sink)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		if n = st.Objects[intel.TypeIndicator]; n < 980_000 {
			b.Fatalf("%d indicators imported", n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "indicators/s")
	b.ReportMetric(peakRSS(), "peak-RSS-MiB")
}

// importFresh imports the file at path with imp into a new store at db, as
// one source, and returns the importer's counts.
func importFresh(b *testing.B, db, path string, imp intel.Importer) intel.Stats {
	b.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	in, err := fileio.Open(path, fileio.DefaultLimits)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	var st intel.Stats
	_, err = s.Import(ctx, intel.Source{Name: filepath.Base(path), Format: imp.Name(), SHA256: "x"}, func(sink intel.Sink) error {
		var err error
		st, err = imp.Import(ctx, in.R, path, intel.DefaultOptions(), sink)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return st
}
