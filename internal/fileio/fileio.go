// Package fileio opens the inputs of every reader the same way: paths,
// directories walked recursively, "-" for standard input, gzip detected by
// content and decompressed with a bound so that a gzip bomb fails cleanly.
package fileio

import (
	"bufio"
	"bytes"
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
	// MaxStream bounds the raw bytes read from an input that is not a
	// regular file (a pipe, a device, standard input), which has no size
	// to stop at; 0 means no bound (a live tail into scan).
	MaxStream int64
}

// DefaultLimits suit real logs (10–30× compression) and reject bombs (1000×).
var DefaultLimits = Limits{MaxBytes: 1 << 40, MaxRatio: 250, RatioFloor: 64 << 20}

// ErrBomb is returned when decompression passes the limits.
var ErrBomb = errors.New("decompressed size exceeds the safety limit (gzip bomb?)")

// ErrStreamTooLarge is returned when a stream passes Limits.MaxStream.
var ErrStreamTooLarge = errors.New("stream exceeds the size limit")

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
	f := os.Stdin
	if path != "-" {
		var err error
		if f, err = os.Open(path); err != nil {
			return nil, err
		}
	}
	size := int64(-1)
	var r io.Reader = f
	if st, err := f.Stat(); err == nil {
		switch {
		case st.IsDir():
			if path != "-" {
				f.Close()
			}
			return nil, fmt.Errorf("%s: is a directory", path)
		case st.Mode().IsRegular():
			size = st.Size()
		case lim.MaxStream > 0:
			r = &streamLimit{r: f, left: lim.MaxStream, max: lim.MaxStream, name: path}
		}
	}
	in, err := Wrap(r, path, lim)
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

// streamLimit fails a stream once it passes max bytes, so that /dev/zero
// or an endless pipe ends with an error instead of running for ever.
type streamLimit struct {
	r    io.Reader
	left int64
	max  int64
	name string
}

func (s *streamLimit) Read(p []byte) (int, error) {
	if s.left <= 0 {
		return 0, fmt.Errorf("%s: %w (%d bytes read; a pipe or device is read up to this bound)", s.name, ErrStreamTooLarge, s.max)
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.r.Read(p)
	s.left -= int64(n)
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
// recursively, hidden files and directories skipped, symbolic links
// followed. "-" passes through. What it cannot use is dropped; callers that
// must say so use ExpandReport.
func Expand(paths []string) ([]string, error) {
	files, _, err := ExpandReport(paths)
	return files, err
}

// Skipped is an entry of a walked directory that is not read, and why.
type Skipped struct {
	Path   string
	Reason string
}

// ExpandReport is Expand that also lists what it skipped inside walked
// directories (broken links, links that loop back, sockets, devices), so
// that no file is left out without a word. Hidden entries are skipped on
// purpose and not listed.
func ExpandReport(paths []string) ([]string, []Skipped, error) {
	var out []string
	var skipped []Skipped
	for _, p := range paths {
		if p == "-" {
			out = append(out, p)
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		w := walker{seen: map[string]bool{}}
		if err := w.walk(p); err != nil {
			return nil, nil, err
		}
		sort.Strings(w.files)
		out = append(out, w.files...)
		skipped = append(skipped, w.skipped...)
	}
	return out, skipped, nil
}

// walker walks a directory tree following symbolic links; seen holds the
// real paths of directories entered, so a link back up is not a loop.
type walker struct {
	seen    map[string]bool
	files   []string
	skipped []Skipped
}

func (w *walker) walk(dir string) error {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	if w.seen[real] {
		w.skipped = append(w.skipped, Skipped{dir, "a link to a directory already walked"})
		return nil
	}
	w.seen[real] = true
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if err := w.entry(filepath.Join(dir, e.Name()), e); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) entry(path string, e fs.DirEntry) error {
	mode := e.Type()
	if mode&fs.ModeSymlink != 0 {
		st, err := os.Stat(path)
		if err != nil {
			w.skipped = append(w.skipped, Skipped{path, "a broken symbolic link"})
			return nil
		}
		mode = st.Mode().Type()
	}
	switch {
	case mode.IsDir():
		return w.walk(path)
	case mode.IsRegular():
		w.files = append(w.files, path)
	default:
		w.skipped = append(w.skipped, Skipped{path, "not a regular file (" + mode.String() + ")"})
	}
	return nil
}

// Slices is an io.Reader over byte slices already in memory, read one
// after the other: a header block and a chunk of a file, say. A LineReader
// reading from a *Slices returns lines in place, without copying them into
// a buffer of its own; everyone else reads it as an ordinary io.Reader.
// The slices must not change while they are being read.
type Slices struct {
	parts [][]byte
	i     int // current part
	pos   int // read position in it
}

// NewSlices returns a reader over parts.
func NewSlices(parts ...[]byte) *Slices {
	s := &Slices{}
	s.Reset(parts)
	return s
}

// Reset starts reading parts from the beginning. It keeps parts (not a
// copy): the caller must not change it while s is read.
func (s *Slices) Reset(parts [][]byte) {
	s.parts, s.i, s.pos = parts, 0, 0
}

// Read implements io.Reader.
func (s *Slices) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && s.i < len(s.parts) {
		c := copy(p[n:], s.parts[s.i][s.pos:])
		n += c
		s.pos += c
		if s.pos == len(s.parts[s.i]) {
			s.i++
			s.pos = 0
		}
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// Peek returns up to n of the next bytes without consuming them; fewer
// when the input ends. The result may be a copy.
func (s *Slices) Peek(n int) []byte {
	if s.i < len(s.parts) && len(s.parts[s.i])-s.pos >= n {
		return s.parts[s.i][s.pos : s.pos+n]
	}
	var out []byte
	for i, pos := s.i, s.pos; i < len(s.parts) && len(out) < n; i, pos = i+1, 0 {
		out = append(out, s.parts[i][pos:min(len(s.parts[i]), pos+n-len(out))]...)
	}
	return out
}

// slice returns the rest of the current part up to and including the next
// newline, and whether it holds one; nil, false at the end of the input.
func (s *Slices) slice() ([]byte, bool) {
	for s.i < len(s.parts) {
		part := s.parts[s.i][s.pos:]
		if len(part) == 0 {
			s.i++
			s.pos = 0
			continue
		}
		if j := bytes.IndexByte(part, '\n'); j >= 0 {
			s.pos += j + 1
			return part[:j+1], true
		}
		s.i++
		s.pos = 0
		return part, false
	}
	return nil, false
}

// LineReader reads lines of bounded length. A longer line is reported by
// ErrLineTooLong and skipped to its end, so one huge line never holds the
// whole input in memory.
type LineReader struct {
	br     *bufio.Reader
	mem    *Slices // set instead of br when the input is in memory
	max    int
	buf    []byte
	Line   int64 // number of the line last returned, 1-based
	Offset int64 // byte offset where that line starts
	next   int64
}

// ErrLineTooLong reports a line over the limit; the reader has skipped it.
var ErrLineTooLong = errors.New("line too long")

// NewLineReader reads from r with lines of at most max bytes.
//
// A *Slices is read in place: the lines returned are slices of its parts.
func NewLineReader(r io.Reader, max int) *LineReader {
	if s, ok := r.(*Slices); ok {
		return &LineReader{mem: s, max: max}
	}
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
	if l.mem != nil {
		return l.nextInMemory()
	}
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

// nextInMemory is Next for a *Slices input: the same lines, limits and
// offsets, with a line that lies whole in one part returned in place.
func (l *LineReader) nextInMemory() ([]byte, error) {
	tooLong := false
	for {
		chunk, nl := l.mem.slice()
		l.next += int64(len(chunk))
		if chunk == nil {
			// the end of the input
			if tooLong {
				return nil, ErrLineTooLong
			}
			if len(l.buf) == 0 {
				return nil, io.EOF
			}
			return trimEOL(l.buf), nil
		}
		if !tooLong {
			if len(l.buf)+len(chunk) > l.max+1 {
				tooLong = true
				l.buf = l.buf[:0]
			} else if nl && len(l.buf) == 0 {
				// the common case: the whole line is in one part
				return trimEOL(chunk), nil
			} else {
				l.buf = append(l.buf, chunk...)
			}
		}
		if !nl {
			continue
		}
		if tooLong {
			return nil, ErrLineTooLong
		}
		return trimEOL(l.buf), nil
	}
}
