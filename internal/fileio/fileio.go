// Package fileio opens the inputs of every reader the same way: paths,
// directories walked recursively, "-" for standard input, gzip detected by
// content and decompressed with a bound so that a gzip bomb fails cleanly.
package fileio

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Limits bound decompression. A stream is rejected when its output passes
// MaxBytes, or passes RatioFloor bytes while being more than MaxRatio times
// larger than the compressed bytes read so far.
type Limits struct {
	MaxBytes   int64
	MaxRatio   int64
	RatioFloor int64
}

// DefaultLimits suit real logs (10–30× compression) and reject bombs (1000×).
var DefaultLimits = Limits{MaxBytes: 1 << 40, MaxRatio: 250, RatioFloor: 64 << 20}

// ErrBomb is returned when decompression passes the limits.
var ErrBomb = errors.New("decompressed size exceeds the safety limit (gzip bomb?)")

// Input is one opened input.
type Input struct {
	Name string    // the path as given, or "-" / "stdin"
	R    io.Reader // decompressed content
	// Head holds the first bytes of the decompressed content for sniffing;
	// R still yields them.
	Head []byte
	// Size is the on-disk size (compressed), -1 when unknown.
	Size       int64
	Compressed bool
	counter    *countingReader
	closer     io.Closer
}

// BytesRead is how many raw (possibly compressed) bytes have been consumed:
// what a progress bar should show against Size.
func (in *Input) BytesRead() int64 { return in.counter.n }

// Close closes the underlying file.
func (in *Input) Close() error {
	if in.closer != nil {
		return in.closer.Close()
	}
	return nil
}

// HeadSize is how many bytes Open peeks for sniffing.
const HeadSize = 4096

// Open opens path ("-" is standard input), detecting gzip by its magic bytes.
func Open(path string, lim Limits) (*Input, error) {
	var f *os.File
	size := int64(-1)
	if path == "-" {
		f = os.Stdin
	} else {
		var err error
		f, err = os.Open(path)
		if err != nil {
			return nil, err
		}
		if st, err := f.Stat(); err == nil {
			if st.IsDir() {
				f.Close()
				return nil, fmt.Errorf("%s: is a directory", path)
			}
			size = st.Size()
		}
	}
	in, err := Wrap(f, path, lim)
	if err != nil {
		if path != "-" {
			f.Close()
		}
		return nil, err
	}
	in.Size = size
	if path != "-" {
		in.closer = f
	}
	return in, nil
}

// Wrap prepares r as an Input (gzip detection, bounds, head).
func Wrap(r io.Reader, name string, lim Limits) (*Input, error) {
	cr := &countingReader{r: r}
	br := bufio.NewReaderSize(cr, 256<<10)
	in := &Input{Name: name, counter: cr, Size: -1}
	magic, _ := br.Peek(2)
	var out io.Reader = br
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: gzip: %w", name, err)
		}
		zr.Multistream(true)
		in.Compressed = true
		out = bufio.NewReaderSize(&boundedReader{r: zr, raw: cr, lim: lim, name: name}, 256<<10)
	}
	pb := out.(*bufio.Reader)
	head, err := pb.Peek(HeadSize)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		if len(head) == 0 {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	in.Head = append([]byte(nil), head...)
	in.R = pb
	return in, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type boundedReader struct {
	r    io.Reader
	raw  *countingReader
	lim  Limits
	n    int64
	name string
}

func (b *boundedReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.lim.MaxBytes > 0 && b.n > b.lim.MaxBytes {
		return n, fmt.Errorf("%s: %w (%d bytes)", b.name, ErrBomb, b.n)
	}
	if b.lim.MaxRatio > 0 && b.n > b.lim.RatioFloor && b.raw.n > 0 && b.n/b.raw.n > b.lim.MaxRatio {
		return n, fmt.Errorf("%s: %w (%d:1 after %d bytes)", b.name, ErrBomb, b.n/b.raw.n, b.n)
	}
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s: gzip: %w", b.name, err)
	}
	return n, err
}

// Expand turns paths into a sorted list of files: directories are walked
// recursively, hidden files and directories skipped. "-" passes through.
func Expand(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		if p == "-" {
			out = append(out, p)
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		var files []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if path != p && strings.HasPrefix(name, ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(files)
		out = append(out, files...)
	}
	return out, nil
}

// LineReader reads lines of bounded length. A longer line is reported by
// ErrLineTooLong and skipped to its end, so one huge line never holds the
// whole input in memory.
type LineReader struct {
	br     *bufio.Reader
	max    int
	buf    []byte
	Line   int64 // number of the line last returned, 1-based
	Offset int64 // byte offset where that line starts
	next   int64
}

// ErrLineTooLong reports a line over the limit; the reader has skipped it.
var ErrLineTooLong = errors.New("line too long")

// NewLineReader reads from r with lines of at most max bytes.
func NewLineReader(r io.Reader, max int) *LineReader {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < 64<<10 {
		br = bufio.NewReaderSize(r, 256<<10)
	}
	return &LineReader{br: br, max: max}
}

// Next returns the next line without its line ending. The slice is valid
// until the next call. It returns io.EOF at the end.
func (l *LineReader) Next() ([]byte, error) {
	l.buf = l.buf[:0]
	l.Offset = l.next
	l.Line++
	tooLong := false
	for {
		chunk, err := l.br.ReadSlice('\n')
		l.next += int64(len(chunk))
		if !tooLong {
			if len(l.buf)+len(chunk) > l.max+1 {
				tooLong = true
				l.buf = l.buf[:0]
			} else if err == nil && len(l.buf) == 0 {
				// the common case: the whole line is in the buffer
				line := chunk[:len(chunk)-1]
				if n := len(line); n > 0 && line[n-1] == '\r' {
					line = line[:n-1]
				}
				return line, nil
			} else {
				l.buf = append(l.buf, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF {
				if tooLong {
					return nil, ErrLineTooLong
				}
				if len(l.buf) == 0 {
					return nil, io.EOF
				}
				return trimEOL(l.buf), nil
			}
			return nil, err
		}
		if tooLong {
			return nil, ErrLineTooLong
		}
		return trimEOL(l.buf), nil
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}
