// Package textin prepares the io.Reader handed to a text format's Open: it
// reuses a large enough *bufio.Reader (what fileio.Open gives) or text in
// memory (a *fileio.Slices, what the scan engine hands out), and
// decompresses gzip itself when the caller passed compressed bytes
// directly, with fileio's bomb limits.
package textin

import (
	"bufio"
	"io"

	"github.com/whodunit-project/whodunit/internal/fileio"
)

// Open returns a buffered reader over the (decompressed) text of r: a
// *bufio.Reader, or r itself when it is a *fileio.Slices (text already in
// memory, which fileio.LineReader reads in place).
func Open(r io.Reader, name string, lim fileio.Limits) (io.Reader, error) {
	if s, ok := r.(*fileio.Slices); ok {
		if magic := s.Peek(2); !(len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
			return s, nil
		}
	}
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < 64<<10 {
		br = bufio.NewReaderSize(r, 256<<10)
	}
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		if lim == (fileio.Limits{}) {
			lim = fileio.DefaultLimits
		}
		in, err := fileio.Wrap(br, name, lim)
		if err != nil {
			return nil, err
		}
		return in.R.(*bufio.Reader), nil
	}
	return br, nil
}
