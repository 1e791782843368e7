package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/faultfs"
	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/flat"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

// needAPT1FQDN is the shared APT1 list; the test skips without it.
// Tests that mount a small disk ask first: a skip with the store open on
// it leaves a mount the cleanup cannot remove.
func needAPT1FQDN(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(apt1FQDN); err != nil {
		t.Skipf("shared data absent: %v", err)
	}
	return apt1FQDN
}

func importAPT1(t *testing.T, s store.Importer) {
	t.Helper()
	ctx := context.Background()
	path := needAPT1FQDN(t)
	in, err := fileio.Open(path, fileio.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	_, err = s.Import(ctx, intel.Source{Name: "apt1-fqdn", Format: "zeek-intel", SHA256: "d1"}, func(sink intel.Sink) error {
		_, err := flat.ZeekIntel{}.Import(ctx, in.R, path, intel.DefaultOptions(), sink)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestFullDisk: on a disk with no space left, read commands still read
// (the audit found every command failing with "disk I/O error"), writes
// fail as "disk full" without harming the database, and after space is
// freed the store is whole and writable.
func TestFullDisk(t *testing.T) {
	ctx := context.Background()
	needAPT1FQDN(t)
	dir := faultfs.SmallDisk(t, 16<<20)
	path := filepath.Join(dir, "case.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	importAPT1(t, s)
	before, err := s.IntelStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	filler := faultfs.Fill(t, dir)

	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("open on a full disk: %v", err)
	}
	st, err := s.IntelStats(ctx)
	if err != nil {
		t.Fatalf("intel stats on a full disk: %v", err)
	}
	if st.Objects["indicator"] != before.Objects["indicator"] || st.Objects["indicator"] == 0 {
		t.Errorf("full disk: %d indicators, want %d", st.Objects["indicator"], before.Objects["indicator"])
	}
	sightings := manySightings(2000)
	if _, err := s.PutSightings(ctx, sightings); !sqlite.ReadOnly(err) {
		t.Errorf("writing sightings on a full disk: %v, want a read-only error", err)
	}
	s.Close()

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := s.PutSightings(ctx, sightings); err != nil || n != len(sightings) {
		t.Errorf("after freeing space: %d stored, %v", n, err)
	}
	if st, err := s.IntelStats(ctx); err != nil || st.Objects["indicator"] != before.Objects["indicator"] {
		t.Errorf("after freeing space: %v indicators, %v", st.Objects["indicator"], err)
	}
}

// TestDiskFillsDuringWrite: the disk fills while sightings are written,
// as in the audit's scan. The write fails as disk-full, nothing of it is
// kept, read commands still read, and after space is freed the store takes
// the write whole.
func TestDiskFillsDuringWrite(t *testing.T) {
	ctx := context.Background()
	needAPT1FQDN(t)
	dir := faultfs.SmallDisk(t, 16<<20)
	path := filepath.Join(dir, "case.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	importAPT1(t, s)
	filler := faultfs.Fill(t, dir)
	sightings := manySightings(5000)
	if _, err := s.PutSightings(ctx, sightings); !sqlite.DiskFull(err) {
		t.Fatalf("writing sightings as the disk fills: %v, want a disk-full error", err)
	}
	s.Close()
	if st, err := os.Stat(path + "-wal"); err == nil {
		t.Logf("WAL after the failed write: %d bytes", st.Size())
	}

	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("open after the disk filled: %v", err)
	}
	if st, err := s.IntelStats(ctx); err != nil || st.Objects["indicator"] == 0 {
		t.Fatalf("intel stats after the disk filled: %v, %v", st.Objects, err)
	}
	n := 0
	if err := s.Sightings(ctx, store.SightingQuery{}, func(*match.Sighting) error { n++; return nil }); err != nil || n != 0 {
		t.Errorf("after the failed write: %d sightings, %v; want none", n, err)
	}
	s.Close()

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := s.PutSightings(ctx, sightings); err != nil || n != len(sightings) {
		t.Errorf("after freeing space: %d stored, %v", n, err)
	}
}

// manySightings are n distinct sightings of one indicator.
func manySightings(n int) []match.Sighting {
	out := make([]match.Sighting, n)
	for i := range out {
		v := fmt.Sprintf("host%d.example.com", i)
		out[i] = match.Sighting{IndicatorID: "indicator--x", Field: "dns.query", Value: v, File: "dns.log", Line: int64(i)}
	}
	return out
}
