package warninglist_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/warninglist"
)

// listsDir is the MISP warninglists snapshot in the shared data.
func listsDir(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join("..", "..", "..", "..", "shared", "data", "intel", "misp-warninglists", "lists")
	if _, err := os.Stat(dir); err != nil {
		tb.Skipf("shared data not available: %v", err)
	}
	return dir
}

// importAll imports every list.json under dir.
func importAll(tb testing.TB, dir string) ([]*intel.Warninglist, intel.Stats) {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*", "list.json"))
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(files)
	var c intel.Collector
	var total intel.Stats
	imp := warninglist.Importer{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			tb.Fatal(err)
		}
		head := make([]byte, 4096)
		n, _ := fh.Read(head)
		if !imp.Sniff(head[:n], f) {
			tb.Errorf("%s: not sniffed as a warninglist", f)
		}
		if _, err := fh.Seek(0, 0); err != nil {
			tb.Fatal(err)
		}
		st, err := imp.Import(context.Background(), fh, f, intel.DefaultOptions(), &c)
		fh.Close()
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		total.Add(st)
	}
	return c.Warninglists, total
}

func TestRealWarninglists(t *testing.T) {
	lists, st := importAll(t, listsDir(t))
	if len(lists) != 136 {
		t.Errorf("imported %d lists, want the 136 of the snapshot", len(lists))
	}
	entries := 0
	byType := map[string]int{}
	for _, w := range lists {
		entries += len(w.Entries)
		byType[w.MatchType]++
	}
	if diff := cmp.Diff(map[string]int{"cidr": 80, "string": 32, "hostname": 19, "substring": 3, "regex": 2}, byType); diff != "" {
		t.Errorf("lists by type (-want +got):\n%s", diff)
	}
	if entries < 500000 {
		t.Errorf("only %d entries", entries)
	}
	t.Logf("%d lists, %d entries, %d entries skipped", len(lists), entries, st.Skipped)
	for _, e := range st.Errors {
		t.Logf("skipped: %v", e)
	}

	set, skipped, err := warninglist.NewSet(lists)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range skipped {
		t.Logf("not compiled: %v", s)
	}
	tests := []struct {
		t     intel.ValueType
		value string
		want  string // a list name that must be among the hits
	}{
		{intel.IPv4, "8.8.8.8", "List of known IPv4 public DNS resolvers"},
		{intel.IPv4, "1.1.1.1", "List of known IPv4 public DNS resolvers"},
		{intel.Domain, "mail.google.com", "List of known google domains"},
		{intel.Domain, "docs.google.com", "List of known google domains"},
		{intel.URL, "https://docs.google.com/document/d/1", "List of known google domains"},
		{intel.IPv4, "52.95.110.1", "List of known Amazon AWS IP address ranges"},
		{intel.IPv4, "10.1.2.3", "List of RFC 1918 CIDR blocks"},
		{intel.CIDR, "192.168.10.0/24", "List of RFC 1918 CIDR blocks"},
		{intel.Email, "abuse@example.org", "Common contact e-mail addresses"},
		{intel.MD5, "D41D8CD98F00B204E9800998ECF8427E", "List of known hashes for empty files"},
	}
	for _, tc := range tests {
		got := set.Check(tc.t, tc.value)
		found := false
		for _, n := range got {
			if n == tc.want {
				found = true
			}
		}
		if !found {
			t.Errorf("Check(%s, %q) = %q, want it to include %q", tc.t, tc.value, got, tc.want)
		}
	}
	misses := []struct {
		t     intel.ValueType
		value string
	}{
		{intel.Domain, "kavkazcentr.info"},
		{intel.Domain, "n0vinite.com"},
		{intel.MD5, "8c4fa713c5e2b009114adda758adc445"},
	}
	for _, m := range misses {
		if got := set.Check(m.t, m.value); len(got) != 0 {
			t.Errorf("Check(%s, %q) = %q, want no list (an APT28/APT indicator)", m.t, m.value, got)
		}
	}
}
