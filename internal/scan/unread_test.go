package scan_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/whodunit-project/whodunit/internal/scan"
)

// TestLinksFollowedAndUnreadSaid: a log reached through a symbolic link
// is scanned, and a broken link and a FIFO in the directory are listed as
// skipped with their reason — the audit saw linked logs left out without
// a word.
func TestLinksFollowedAndUnreadSaid(t *testing.T) {
	log := filepath.Join("..", "..", "..", "shared", "data", "telemetry", "zeek", "stratosphere", "005-zeek-scenario-malicious", "dns.log")
	abs, err := filepath.Abs(log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Skipf("shared data absent: %v", err)
	}
	dir := t.TempDir()
	for target, name := range map[string]string{abs: "dns.log", filepath.Join(dir, "gone.log"): "broken.log"} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := scan.Run(context.Background(), scan.Config{Paths: []string{dir}, Registry: registry()})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Events == 0 {
		t.Error("the linked log was not scanned")
	}
	reasons := map[string]string{}
	for _, f := range sum.Files {
		if f.Skipped != "" {
			reasons[filepath.Base(f.Path)] = f.Skipped
		}
	}
	if reasons["broken.log"] == "" || reasons["pipe"] == "" || sum.SkippedFiles != 2 {
		t.Errorf("skipped %d: %v; want broken.log and pipe with reasons", sum.SkippedFiles, reasons)
	}
}
