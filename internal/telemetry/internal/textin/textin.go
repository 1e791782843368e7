// Package textin prepares the io.Reader handed to a text format's Open: it
// reuses a large enough *bufio.Reader (what fileio.Open gives), and
// decompresses gzip itself when the caller passed compressed bytes
// directly, with fileio's bomb limits.
package textin

import (
	"bufio"
	"io"

	"github.com/whodunit-project/whodunit/internal/fileio"
)

// Open returns a buffered reader over the (decompressed) text of r.
func Open(r io.Reader, name string, lim fileio.Limits) (*bufio.Reader, error) {
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
