package scan_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/scan"
)

// realDNS is the decompressed real WRCCDC 2018 Zeek DNS log, cut to its
// first n lines.
func realDNS(t *testing.T, n int) []byte {
	raw, err := os.ReadFile(filepath.Join(needShared(t, "telemetry", "zeek", "wrccdc-2018"), "dns.log.gz"))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	return bytes.Join(lines[:min(n, len(lines))], nil)
}

// writeIn writes a file, making its directory.
func writeIn(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, name, data)
}

// resolverSnapshot matches what the exercise's DNS log is full of: its
// resolver's address and its own domain.
func resolverSnapshot(t *testing.T) *match.Snapshot {
	snap, err := match.Compile([]*intel.Object{
		{ID: "indicator--resolver", Type: intel.TypeIndicator, Indicator: &intel.IndicatorSpec{Observables: []intel.Observable{{Type: intel.IPv4, Value: "10.0.0.100"}}}},
		{ID: "indicator--wrccdc", Type: intel.TypeIndicator, Indicator: &intel.IndicatorSpec{Observables: []intel.Observable{{Type: intel.Domain, Value: "wrccdc.org"}}}},
	}, match.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// keysByFile runs a scan and returns the sighting keys of each file (by
// path relative to base).
func keysByFile(t *testing.T, base string, cfg scan.Config) map[string][]string {
	t.Helper()
	cfg.Snapshot = resolverSnapshot(t)
	_, _, sgs := runCollect(t, cfg)
	out := map[string][]string{}
	for _, sg := range sgs {
		rel, err := filepath.Rel(base, sg.File)
		if err != nil || !filepath.IsAbs(sg.File) {
			t.Fatalf("sighting file %q is not absolute under %s", sg.File, base)
		}
		if sg.Source == "" {
			t.Fatalf("sighting %s:%d has no source", sg.File, sg.Line)
		}
		out[rel] = append(out[rel], sg.Key())
	}
	for _, ks := range out {
		slices.Sort(ks)
	}
	return out
}

// TestKeysNameTheLogicalSource copies one directory of real logs to two
// absolute paths and scans both as two roots: every file gets the same
// keys in both copies, and the keys do not depend on the working
// directory the scan was started from.
func TestKeysNameTheLogicalSource(t *testing.T) {
	dns := realDNS(t, 4000)
	base := t.TempDir()
	for _, root := range []string{"mnt-a/logs", "mnt-b/elsewhere/logs"} {
		writeIn(t, filepath.Join(base, root, "2018-03-24"), "dns.log", dns)
		writeIn(t, filepath.Join(base, root, "2018-03-24"), "dns-small.log.gz", gz(t, dns[:len(dns)/3]))
	}
	got := keysByFile(t, base, scan.Config{Paths: []string{filepath.Join(base, "mnt-a/logs"), filepath.Join(base, "mnt-b/elsewhere/logs")}, Workers: 2})
	for _, name := range []string{"2018-03-24/dns.log", "2018-03-24/dns-small.log.gz"} {
		a, b := got[filepath.Join("mnt-a/logs", name)], got[filepath.Join("mnt-b/elsewhere/logs", name)]
		if len(a) < 100 {
			t.Fatalf("%s: only %d sightings", name, len(a))
		}
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("%s: keys differ between the two copies (-a +b):\n%s", name, diff)
		}
	}
	// the same keys from a relative path, started elsewhere
	wd, _ := os.Getwd()
	if err := os.Chdir(filepath.Join(base, "mnt-b")); err != nil {
		t.Fatal(err)
	}
	rel := keysByFile(t, base, scan.Config{Paths: []string{"elsewhere/logs"}, ChunkSize: 16 << 10})
	os.Chdir(wd)
	if diff := cmp.Diff(got[filepath.Join("mnt-a/logs/2018-03-24/dns.log")], rel[filepath.Join("mnt-b/elsewhere/logs/2018-03-24/dns.log")]); diff != "" {
		t.Errorf("relative path, chunked: keys differ (-absolute +relative):\n%s", diff)
	}
	if slices.Equal(got[filepath.Join("mnt-a/logs/2018-03-24/dns.log")], got[filepath.Join("mnt-a/logs/2018-03-24/dns-small.log.gz")]) {
		t.Error("two different files have the same keys")
	}
}

// TestAppendedLogKeepsItsKeys scans a real log, appends its next records
// as a live log grows, and scans again: every record scanned the first
// time keeps its key.
func TestAppendedLogKeepsItsKeys(t *testing.T) {
	full := realDNS(t, 6000)
	dir := t.TempDir()
	// below and above the 64 KiB a fingerprint reads at most
	for _, cut := range []int{12 << 10, 40 << 10, 200 << 10} {
		first := full[:bytes.LastIndexByte(full[:cut], '\n')+1]
		p := writeFile(t, dir, "dns.log", first)
		before := keysByFile(t, dir, scan.Config{Paths: []string{dir}})["dns.log"]
		// a record half written when the first scan ran would be a bad
		// line then; here the log grows by whole and partial lines
		f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(full[len(first):])
		f.Close()
		after := keysByFile(t, dir, scan.Config{Paths: []string{dir}, Workers: 2, ChunkSize: 32 << 10})["dns.log"]
		if len(before) < 50 || len(after) <= len(before) {
			t.Fatalf("cut at %d: %d sightings before, %d after", cut, len(before), len(after))
		}
		for _, k := range before {
			if _, ok := slices.BinarySearch(after, k); !ok {
				t.Fatalf("cut at %d: key %s of the first scan is gone after the append", cut, k)
			}
		}
	}
}

// TestSameNameDifferentFiles gives two roots a dns.log each whose matched
// records are identical — same lines, same values — but whose first
// records differ: they are different logs, so their keys differ.
func TestSameNameDifferentFiles(t *testing.T) {
	dns := realDNS(t, 3000)
	other := bytes.Replace(dns, []byte("1521911720.865716"), []byte("1521911720.865715"), 1)
	if bytes.Equal(dns, other) {
		t.Fatal("the log's first record is not the one expected")
	}
	base := t.TempDir()
	writeIn(t, filepath.Join(base, "sensor1"), "dns.log", dns)
	writeIn(t, filepath.Join(base, "sensor2"), "dns.log", other)
	got := keysByFile(t, base, scan.Config{Paths: []string{filepath.Join(base, "sensor1"), filepath.Join(base, "sensor2")}})
	a, b := got[filepath.Join("sensor1", "dns.log")], got[filepath.Join("sensor2", "dns.log")]
	if len(a) < 100 || len(a) != len(b) {
		t.Fatalf("%d and %d sightings", len(a), len(b))
	}
	for _, k := range a {
		if _, ok := slices.BinarySearch(b, k); ok {
			t.Fatalf("key %s is in both files", k)
		}
	}

	// a name given by the user is the source: the same name and path give
	// the same keys, another name other keys
	named := func(name string, root string) []string {
		return keysByFile(t, base, scan.Config{Paths: []string{filepath.Join(base, root)}, SourceName: name})[filepath.Join(root, "dns.log")]
	}
	if diff := cmp.Diff(named("dc1", "sensor1"), named("dc1", "sensor2")); diff != "" {
		t.Errorf("same source name: keys differ (-sensor1 +sensor2):\n%s", diff)
	}
	if x, y := named("dc1", "sensor1"), named("dc2", "sensor1"); len(x) == 0 || slices.Equal(x, y) {
		t.Error("two source names give the same keys")
	}
}

func TestSourceOfStdin(t *testing.T) {
	dns := realDNS(t, 300)
	for _, name := range []string{"", "tap0"} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		go func() { w.Write(dns); w.Close() }()
		old := os.Stdin
		os.Stdin = r
		_, _, sgs := runCollect(t, scan.Config{Paths: []string{"-"}, Snapshot: resolverSnapshot(t), SourceName: name})
		os.Stdin = old
		r.Close()
		want := name
		if want == "" {
			want = "stdin"
		}
		if len(sgs) == 0 {
			t.Fatal("no sightings from stdin")
		}
		for _, sg := range sgs {
			if sg.Source != want {
				t.Fatalf("source %q, want %q", sg.Source, want)
			}
		}
	}
	if !strings.HasPrefix(scanSourceOf(t, dns), "sha256:") {
		t.Error("a file without a name has no fingerprint source")
	}
}

func scanSourceOf(t *testing.T, data []byte) string {
	dir := t.TempDir()
	writeFile(t, dir, "x.log", data)
	_, _, sgs := runCollect(t, scan.Config{Paths: []string{dir}, Snapshot: resolverSnapshot(t)})
	if len(sgs) == 0 {
		t.Fatal("no sightings")
	}
	return sgs[0].Source
}
