package sqlite_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/intel/misp"
	"github.com/whodunit-project/whodunit/internal/intel/stix"
)

// BenchmarkImportLargeDescriptions is the audit's memory case: a STIX
// bundle of 2,000 indicators with 100 KB descriptions (200 MB). The
// import's buffer is bounded by bytes as well as by count, so the peak
// RSS stays near the bound, not near the bundle (5,000 such indicators
// peaked at 1.9 GB before).
func BenchmarkImportLargeDescriptions(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "large.json")
	writeLargeBundle(b, path, 2000, 100<<10)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if st := importFresh(b, filepath.Join(dir, fmt.Sprintf("s%d.db", i)), path, stix.Importer{}); st.Total() != 2000 {
			b.Fatalf("%d objects, want 2000", st.Total())
		}
	}
	b.ReportMetric(peakRSS(), "peak-RSS-MiB")
}

func writeLargeBundle(b *testing.B, path string, n, descBytes int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	desc := strings.Repeat("lorem ipsum ", descBytes/12)
	fmt.Fprint(w, `{"type":"bundle","id":"bundle--0b1c3f3e-8f9c-4b8e-9d77-b2a0d6f3a001","objects":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			w.WriteString(",")
		}
		fmt.Fprintf(w, `{"type":"indicator","spec_version":"2.1","id":"indicator--0b1c3f3e-8f9c-4b8e-9d77-%012d","created":"2020-01-01T00:00:00Z","modified":"2020-01-01T00:00:00Z","pattern":"[domain-name:value = 'h%d.example.com']","pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z","description":"%s"}`, i, i, desc)
	}
	w.WriteString("]}")
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
}

// BenchmarkImportLargeMISPEvent imports one MISP event of
// WHODUNIT_BENCH_MISP_ATTRS attributes (100,000 unless set; the audit's
// case is 1,000,000) into a fresh store: the event is one large object
// that every attribute's indicator links to. The time per attribute must
// not grow with the event (it grew linearly before schema 6: 6 s for
// 25,000 attributes, over 300 s for 1,000,000).
func BenchmarkImportLargeMISPEvent(b *testing.B) {
	n := 100_000
	if v := os.Getenv("WHODUNIT_BENCH_MISP_ATTRS"); v != "" {
		fmt.Sscan(v, &n)
	}
	dir := b.TempDir()
	path := filepath.Join(dir, "event.json")
	writeMISPEvent(b, path, n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st := importFresh(b, filepath.Join(dir, fmt.Sprintf("s%d.db", i)), path, misp.Importer{})
		if st.Total() < n {
			b.Fatalf("%d objects from %d attributes", st.Total(), n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/attribute")
	b.ReportMetric(peakRSS(), "peak-RSS-MiB")
}

// writeMISPEvent writes one MISP event of n domain attributes.
func writeMISPEvent(b *testing.B, path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprint(w, `{"Event":{"uuid":"5f1c5b0e-1c2d-4b6e-9d77-b2a0d6f3a001","info":"large event","date":"2021-04-08","timestamp":"1617875568","threat_level_id":"1","analysis":"2","Orgc":{"name":"X","uuid":"5f1c5b0e-1c2d-4b6e-9d77-b2a0d6f3a002"},"Attribute":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			w.WriteString(",")
		}
		fmt.Fprintf(w, `{"uuid":"5f1c5b0e-1c2d-4b6e-9d77-%012d","type":"domain","category":"Network activity","to_ids":true,"value":"h%d.evil-example.com","timestamp":"1617875568","comment":""}`, i, i)
	}
	w.WriteString("]}}")
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
}
