package cli_test

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// realDNSLog writes the header and first record of the real WRCCDC dns log
// with the query replaced by name, as Zeek writes it (its \xNN escapes).
func realDNSLog(t *testing.T, dir, name string) string {
	t.Helper()
	f, err := os.Open(filepath.Join(sharedData, "telemetry", "zeek", "wrccdc-2018", "dns.log.gz"))
	if err != nil {
		t.Skip("shared data not present")
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 4096)
	n, _ := zr.Read(head)
	lines := strings.SplitAfter(string(head[:n]), "\n")
	var b strings.Builder
	for _, l := range lines[:8] { // the header
		b.WriteString(l)
	}
	b.WriteString(strings.Replace(lines[8], "ise.wrccdc.org", name, 1))
	p := filepath.Join(dir, "dns.log")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// noControls fails when out holds a byte that drives a terminal.
func noControls(t *testing.T, what, out string) {
	t.Helper()
	for _, c := range []byte(out) {
		if c < 0x20 && c != '\t' && c != '\n' || c == 0x7f {
			t.Errorf("%s prints control byte %#x raw:\n%q", what, c, out)
			return
		}
	}
}

// A DNS name with Zeek's \x1b escapes, and an actor name from the command
// line, reach the terminal escaped on stdout and stderr, in every command.
func TestTextOutputEscapesControls(t *testing.T) {
	needShared(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "w.db")
	logPath := realDNSLog(t, dir, `x\x1b[31mred\x1b]0;owned\x07.msnhome.org`)
	if _, errs, code := runCLI(t, "--db", db, "intel", "import", filepath.Join(sharedData, "intel", "stix", "apt1.json")); code != 0 {
		t.Fatalf("import: %s", errs)
	}
	if _, errs, code := runCLI(t, "--db", db, "scan", logPath); code != 0 {
		t.Fatalf("scan: %s", errs)
	}
	out, errs, code := runCLI(t, "--db", db, "sightings")
	if code != 0 {
		t.Fatalf("sightings: %s", errs)
	}
	noControls(t, "sightings", out)
	if !strings.Contains(out, `x\x1b[31mred\x1b]0;owned\x07.msnhome.org`) {
		t.Errorf("sightings does not show the query escaped:\n%s", out)
	}
	list := filepath.Join(dir, "list.txt")
	os.WriteFile(list, []byte("msnhome.org\n"), 0o600)
	if _, errs, code := runCLI(t, "--db", db, "intel", "import", "--actor", "APT\x1b[2J\x07", list); code != 0 {
		t.Fatalf("import --actor: %s", errs)
	}
	out, _, _ = runCLI(t, "--db", db, "intel", "list")
	noControls(t, "intel list", out)
	if !strings.Contains(out, `APT\x1b[2J\x07`) {
		t.Errorf("intel list does not show the actor escaped:\n%s", out)
	}
	_, errs, _ = runCLI(t, "--db", db, "intel", "import", filepath.Join(dir, "no\x1b[31msuch"))
	noControls(t, "an error on stderr", errs)
	// JSON is escaped by its encoder and must stay byte-for-byte JSON
	out, _, _ = runCLI(t, "--json", "--db", db, "sightings")
	if !bytes.Contains([]byte(out), []byte(`\u001b[31m`)) {
		t.Errorf("--json sightings: %s", out)
	}
}
