package cite_test

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/cite"
)

// TestReadFindsRecordsByOffset reads records of a plain and a gzipped
// file by offset and gets their bytes and line numbers.
func TestReadFindsRecordsByOffset(t *testing.T) {
	data := []byte("#fields\ta\tb\none\t1\ntwo\t2\nthree\t3")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	dir := t.TempDir()
	for name, content := range map[string][]byte{"x.log": data, "x.log.gz": gz.Bytes()} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		recs, err := cite.Read(p, []int64{24, 12, 12, 18, 99})
		if err != nil {
			t.Fatal(err)
		}
		for off, want := range map[int64]struct {
			text string
			line int64
		}{12: {"one\t1", 2}, 18: {"two\t2", 3}, 24: {"three\t3", 4}} {
			got, err := recs[off].Text()
			if err != nil || got != want.text || recs[off].Line != want.line {
				t.Errorf("%s @%d = %q line %d (%v), want %q line %d", name, off, got, recs[off].Line, err, want.text, want.line)
			}
		}
		if recs[99].Err == nil {
			t.Errorf("%s: offset past the end read %q", name, recs[99].Bytes)
		}
	}
	h1, _ := cite.FileSHA256(filepath.Join(dir, "x.log"))
	h2, _ := cite.FileSHA256(filepath.Join(dir, "x.log.gz"))
	if len(h1) != 64 || h1 == h2 {
		t.Errorf("hashes %s %s", h1, h2)
	}
}
