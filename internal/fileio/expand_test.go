package fileio

import (
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
)

// TestExpandFollowsLinks: files and directories reached through symbolic
// links are read; a broken link, a link back up the tree and a FIFO are
// listed as skipped with a reason, never dropped without a word.
func TestExpandFollowsLinks(t *testing.T) {
	root := t.TempDir()
	elsewhere := t.TempDir()
	write := func(p string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "conn.log"))
	write(filepath.Join(root, ".hidden.log"))
	write(filepath.Join(elsewhere, "dns.log"))
	write(filepath.Join(elsewhere, "sub", "http.log"))
	link := func(target, name string) {
		t.Helper()
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	link(filepath.Join(elsewhere, "dns.log"), "dns-link.log")
	link(filepath.Join(elsewhere, "sub"), "current")
	link(filepath.Join(root, "missing.log"), "broken.log")
	link(root, "loop")
	if err := syscall.Mkfifo(filepath.Join(root, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}

	files, skipped, err := ExpandReport([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		filepath.Join(root, "conn.log"),
		filepath.Join(root, "current", "http.log"),
		filepath.Join(root, "dns-link.log"),
	}
	if !reflect.DeepEqual(files, want) {
		t.Errorf("files:\n got %q\nwant %q", files, want)
	}
	reasons := map[string]string{}
	for _, s := range skipped {
		reasons[filepath.Base(s.Path)] = s.Reason
	}
	for _, name := range []string{"broken.log", "loop", "pipe"} {
		if reasons[name] == "" {
			t.Errorf("%s not listed as skipped (skipped: %v)", name, skipped)
		}
	}
	if len(skipped) != 3 {
		t.Errorf("skipped %d entries, want 3: %v", len(skipped), skipped)
	}
}
