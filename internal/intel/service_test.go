package intel_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/formats"
	"github.com/whodunit-project/whodunit/internal/pattern"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

const sharedIntel = "../../../shared/data/intel"

// service is the production import service over a fresh SQLite store.
func service(t *testing.T) (*intel.ImportService, *sqlite.Store) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tx := func(ctx context.Context, src intel.Source, fn func(intel.Sink) error) (bool, error) {
		res, err := db.Import(ctx, src, fn)
		return res.Already, err
	}
	return formats.Service(tx), db
}

func importOne(t *testing.T, s *intel.ImportService, path, force string) intel.FileResult {
	t.Helper()
	done := make(chan []intel.FileResult, 1)
	go func() {
		res, err := s.ImportPaths(context.Background(), []string{path}, force, intel.DefaultOptions())
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	select {
	case res := <-done:
		if len(res) != 1 {
			t.Fatalf("%s: %d results", path, len(res))
		}
		return res[0]
	case <-time.After(10 * time.Minute): // a hang, not slowness: the race detector on a busy machine is slow
		t.Fatalf("importing %s hangs", path)
	}
	return intel.FileResult{}
}

func objects(r intel.FileResult) int {
	n := 0
	for _, c := range r.Stats.Objects {
		n += c
	}
	return n
}

func sourceCount(t *testing.T, db *sqlite.Store) int {
	t.Helper()
	srcs, err := db.Sources(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(srcs)
}

func readShared(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedIntel, rel))
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("shared data absent")
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// feedFIFO writes data into a new named pipe from a goroutine, as
// <(cat file) does, and returns the pipe's path.
func feedFIFO(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	go func() {
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		f.Write(data)
	}()
	return p
}

// A pipe can be read only once: the import must be that one reading, and
// its digest must still recognise the same content the second time.
func TestImportReadsAPipeOnce(t *testing.T) {
	data := readShared(t, "apt1/apt1-fqdn.dat")
	s, db := service(t)
	first := importOne(t, s, feedFIFO(t, data), "")
	if first.Err != nil || first.Format != "zeek-intel" {
		t.Fatalf("pipe: format %q, err %v", first.Format, first.Err)
	}
	if got := first.Stats.Objects["indicator"]; got != 2046 {
		t.Errorf("pipe: %d indicators, want the 2,046 of the file", got)
	}
	again := importOne(t, s, feedFIFO(t, data), "")
	if again.Err != nil || !again.Already {
		t.Errorf("the same content again: already=%v err=%v", again.Already, again.Err)
	}
	if n := sourceCount(t, db); n != 1 {
		t.Errorf("%d sources after importing the same content twice, want 1", n)
	}
}

// An endless device ends with a clear error at the stream bound.
func TestImportBoundsAStream(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	s, db := service(t)
	s.Limits.MaxStream = 8 << 20
	r := importOne(t, s, "/dev/zero", "list")
	if !errors.Is(r.Err, fileio.ErrStreamTooLarge) || !strings.Contains(r.Err.Error(), "/dev/zero") {
		t.Fatalf("/dev/zero: err %v, want the stream bound naming the file", r.Err)
	}
	if n := sourceCount(t, db); n != 0 {
		t.Errorf("%d sources after a failed import, want 0", n)
	}
}

// The digest is of what was imported, not of what the file holds when it
// is hashed: changing a file between imports makes a new source.
func TestImportDigestIsOfTheContent(t *testing.T) {
	data := readShared(t, "apt1/apt1-certs.dat")
	s, db := service(t)
	p := filepath.Join(t.TempDir(), "apt1-certs.dat")
	write := func(b []byte) {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(data)
	if r := importOne(t, s, p, ""); r.Err != nil || r.Already || r.Stats.Objects["indicator"] != 25 {
		t.Fatalf("first: %+v", r)
	}
	if r := importOne(t, s, p, ""); r.Err != nil || !r.Already {
		t.Fatalf("same file again: already=%v err=%v", r.Already, r.Err)
	}
	last := bytes.LastIndexByte(bytes.TrimRight(data, "\n"), '\n')
	write(data[:last+1]) // one certificate fewer
	r := importOne(t, s, p, "")
	if r.Err != nil || r.Already || r.Stats.Objects["indicator"] != 24 {
		t.Fatalf("changed file: already=%v err=%v %v", r.Already, r.Err, r.Stats.Objects)
	}
	if n := sourceCount(t, db); n != 2 {
		t.Errorf("%d sources, want 2", n)
	}
}

// Re-gzipping ATT&CK at another level, or decompressing it, is the same
// content: it must not become a second source.
func TestImportIdentityIgnoresCompression(t *testing.T) {
	// The bundled subset of the real ATT&CK bundle: the whole bundle makes
	// the same point at thirty times the cost.
	gz, err := os.ReadFile(filepath.Join("..", "..", "examples", "intel", "attack-subset.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var re bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&re, gzip.BestSpeed)
	zw.Write(plain)
	zw.Close()
	if bytes.Equal(re.Bytes(), gz) {
		t.Fatal("re-compression gave the same bytes: the test proves nothing")
	}
	dir := t.TempDir()
	s, db := service(t)
	for i, b := range [][]byte{gz, re.Bytes(), append(plain, '\n', '\n')} {
		// the same name each time: a source is its name and its content
		p := filepath.Join(dir, "enterprise-attack.json.gz")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		r := importOne(t, s, p, "")
		if r.Err != nil || r.Already != (i > 0) {
			t.Fatalf("copy %d: already=%v err=%v", i, r.Already, r.Err)
		}
		os.Remove(p)
	}
	if n := sourceCount(t, db); n != 1 {
		t.Errorf("%d sources for one content, want 1", n)
	}
}

// A CSV feed saved with CRLF line ends and a final newline is the same
// feed; a changed value is not.
func TestImportIdentityIgnoresLineEnds(t *testing.T) {
	data, err := os.ReadFile("flat/testdata/indicators.csv")
	if err != nil {
		t.Fatal(err)
	}
	lf := bytes.TrimRight(data, "\n")
	crlf := append(bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n")), '\r', '\n')
	dir := t.TempDir()
	s, db := service(t)
	for i, b := range [][]byte{lf, crlf, append(lf, '\n')} {
		p := filepath.Join(dir, "indicators.csv")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		r := importOne(t, s, p, "")
		if r.Err != nil || r.Already != (i > 0) || (i == 0 && objects(r) == 0) {
			t.Fatalf("copy %d: already=%v err=%v objects=%d", i, r.Already, r.Err, objects(r))
		}
	}
	if n := sourceCount(t, db); n != 1 {
		t.Errorf("%d sources for one feed, want 1", n)
	}
}

// A STIX indicator whose pattern is valid but cannot be evaluated here is
// skipped with the reason, not imported for the scan to drop in silence.
func TestImportSkipsPatternNotEvaluable(t *testing.T) {
	data := readShared(t, "stix/apt1.json")
	const was = `"[domain-name:value = 'msnhome.org']"`
	if !bytes.Contains(data, []byte(was)) {
		t.Fatal("apt1.json changed: no msnhome.org indicator")
	}
	bad := bytes.Replace(data, []byte(was), []byte(`"[domain-name:value MATCHES '((a{100}){100}){100}']"`), 1)
	p := filepath.Join(t.TempDir(), "apt1.json")
	if err := os.WriteFile(p, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := service(t)
	good := importOne(t, s, filepath.Join(sharedIntel, "stix/apt1.json"), "")
	r := importOne(t, s, p, "")
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if r.Stats.Skipped != 1 || len(r.Stats.Errors) != 1 || !errors.Is(r.Stats.Errors[0], pattern.ErrNotEvaluable) {
		t.Fatalf("skipped %d, errors %v: want the one indicator, not evaluable", r.Stats.Skipped, r.Stats.Errors)
	}
	if got, want := r.Stats.Objects["indicator"], good.Stats.Objects["indicator"]-1; got != want {
		t.Errorf("%d indicators imported, want %d", got, want)
	}
}
