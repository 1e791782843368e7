package scan

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/whodunit-project/whodunit/internal/fileio"
)

// source is one opened input with a raw byte count that the progress
// display can read while another goroutine reads the file.
type source struct {
	in   *fileio.Input
	f    *os.File
	raw  *countReader
	size int64
}

func (src *source) close() {
	if src.f != nil && src.f != os.Stdin {
		src.f.Close()
	}
}

// countReader counts raw bytes for the file and for the whole scan.
type countReader struct {
	r     io.Reader
	n     int64 // this file; read by the owner only
	total *atomic.Int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.total.Add(int64(n))
	return n, err
}

func (s *scanner) open(fs *fileState) (*source, error) {
	var f *os.File
	size := int64(-1)
	if fs.path == "-" {
		f = os.Stdin
	} else {
		var err error
		if f, err = os.Open(fs.path); err != nil {
			return nil, err
		}
		if st, err := f.Stat(); err == nil {
			if st.IsDir() {
				f.Close()
				return nil, fmt.Errorf("%s: is a directory", fs.path)
			}
			size = st.Size()
		}
	}
	cr := &countReader{r: f, total: &s.rawRead}
	in, err := fileio.Wrap(cr, fs.path, s.cfg.Limits)
	if err != nil {
		if f != os.Stdin {
			f.Close()
		}
		return nil, err
	}
	in.Size = size
	return &source{in: in, f: f, raw: cr, size: size}, nil
}

// readFile opens one file, picks its format, and either cuts it into
// chunks for the workers or hands the whole stream to one worker.
func (s *scanner) readFile(ctx context.Context, fs *fileState) {
	src, err := s.open(fs)
	if err != nil {
		fs.fail(err)
		return
	}
	var head []byte
	if br, ok := src.in.R.(*bufio.Reader); ok && fs.path != "-" && s.cfg.SourceName == "" {
		head = peekHead(br)
	}
	fs.source = logicalSource(s.cfg.SourceName, fs.rel, fs.path == "-", head)
	fs.compressed = src.in.Compressed
	f := s.forced
	if f == nil {
		if len(src.in.Head) == 0 {
			src.close() // an empty file has nothing to scan
			return
		}
		var ok bool
		if f, ok = s.cfg.Registry.Sniff(src.in.Head, fs.path); !ok {
			src.close()
			if fs.walked {
				fs.mu.Lock()
				fs.sum.Skipped = "format not recognised"
				fs.mu.Unlock()
				return
			}
			fs.fail(fmt.Errorf("%s: format not recognised (use --format to name it)", fs.path))
			return
		}
	}
	fs.format = f
	fs.mu.Lock()
	fs.sum.Format = f.Name()
	fs.mu.Unlock()

	if s.cfg.ChunkSize > 0 && s.cfg.Splittable(f.Name()) {
		s.split(ctx, fs, src)
		src.close()
		fs.mu.Lock()
		fs.sum.Bytes = src.raw.n
		fs.mu.Unlock()
		return
	}
	select {
	case s.jobs <- job{fs: fs, src: src}:
	case <-ctx.Done():
		src.close()
	}
}

// getBuf takes a buffer from the pool, of length size.
func (s *scanner) getBuf(ctx context.Context, size int) []byte {
	select {
	case b := <-s.pool:
		if cap(b) < size {
			b = make([]byte, size)
		}
		return b[:size]
	case <-ctx.Done():
		return nil
	}
}

func (s *scanner) putBuf(b []byte) {
	if b != nil {
		s.pool <- b
	}
}

var newline = []byte{'\n'}

// split reads a line-oriented input in chunks that end at line boundaries
// and hands them to the workers with what each needs to be read on its
// own: the header block in effect at its start, its first line number and
// its byte offset. Reading is sequential (so gzip works too); parsing and
// matching run in parallel.
func (s *scanner) split(ctx context.Context, fs *fileState, src *source) {
	r, ok := src.in.R.(*bufio.Reader)
	if !ok {
		r = bufio.NewReaderSize(src.in.R, 64<<10)
	}
	var (
		hdr   headerTracker
		carry []byte
		line  int64 // lines before the next chunk
		off   int64 // offset of the next chunk in the (decompressed) stream
		size  = s.cfg.ChunkSize
	)
	// a chunk holds at least one whole line: up to the limit plus its
	// newline, and no reader takes a longer one
	limit := s.cfg.MaxLineBytes + 1
	for {
		buf := s.getBuf(ctx, max(size, len(carry)+1))
		if buf == nil {
			return
		}
		n := copy(buf, carry)
		m, err := io.ReadFull(r, buf[n:])
		data := buf[:n+m]
		end := false
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			end, err = true, nil
		} else if err != nil {
			end = true
		}
		cut := len(data)
		if !end {
			i := bytes.LastIndexByte(data, '\n')
			if i < 0 && len(data) < limit {
				// a line longer than a chunk: read on with a bigger one
				carry = append(carry[:0], data...)
				size = min(2*len(data), limit)
				s.putBuf(buf)
				continue
			}
			if i < 0 {
				// a line over the limit: report it here and skip to
				// its end, as a reader would
				skipped, found, serr := skipLine(r)
				fs.mu.Lock()
				fs.sum.BadRecords++
				fs.addErrors([]posErr{{line + 1, off, fmt.Sprintf("%s:%d: line longer than %d bytes", fs.path, line+1, s.cfg.MaxLineBytes)}})
				fs.sum.DataBytes += int64(len(data)) + skipped
				fs.mu.Unlock()
				s.dataDone.Add(int64(len(data)) + skipped)
				line++
				off += int64(len(data)) + skipped
				carry = carry[:0]
				size = s.cfg.ChunkSize
				s.putBuf(buf)
				if serr != nil {
					fs.fail(fmt.Errorf("%s: offset %d: %w", fs.path, off, serr))
					return
				}
				if !found {
					return
				}
				continue
			}
			cut = i + 1
		}
		size = s.cfg.ChunkSize
		carry = append(carry[:0], data[cut:]...)
		chunk := data[:cut]
		j := job{fs: fs, buf: buf, data: chunk, header: hdr.block, hdrLines: hdr.lines, startLine: line, startOff: off}
		hdr.scan(chunk)
		line += int64(bytes.Count(chunk, newline))
		off += int64(cut)
		if len(chunk) == 0 {
			s.putBuf(buf)
		} else {
			select {
			case s.jobs <- j:
			case <-ctx.Done():
				s.putBuf(buf)
				return
			}
		}
		if err != nil {
			fs.fail(fmt.Errorf("%s: offset %d: %w", fs.path, off, err))
			return
		}
		if end {
			return
		}
	}
}

// skipLine reads up to and including the next newline.
func skipLine(br *bufio.Reader) (n int64, found bool, err error) {
	for {
		b, err := br.ReadSlice('\n')
		n += int64(len(b))
		switch err {
		case nil:
			return n, true, nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			return n, false, nil
		default:
			return n, false, err
		}
	}
}

// headerTracker follows the '#' header lines of a Zeek TSV stream (other
// line formats have none) so that a reader starting in the middle of the
// stream can first be shown the header in effect there. A Zeek reader
// resets its header at "#separator" and otherwise takes the last value of
// each "#key" line, so the tracker keeps the last #separator line and, after
// it, the last line of each key: a bounded block however many header lines
// the stream has.
type headerTracker struct {
	sep   []byte
	keys  []string
	last  map[string][]byte
	size  int
	block []byte // rendered; never modified in place (chunks keep references)
	lines int64
}

// maxHeaderBytes bounds the kept header; keys beyond it are dropped.
const maxHeaderBytes = 64 << 10

var hSeparator = []byte("#separator")

// headerKey is the directive name of a header line: the letters, digits and
// underscores after '#' ("fields" in "#fields\tts\tuid").
func headerKey(ln []byte) string {
	i := 1
	for i < len(ln) {
		c := ln[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			break
		}
		i++
	}
	return string(ln[1:i])
}

// scan updates the tracker with the header lines in chunk, which starts at
// a line boundary.
func (h *headerTracker) scan(chunk []byte) {
	changed := false
	for i := 0; i < len(chunk); {
		j := bytes.IndexByte(chunk[i:], '#')
		if j < 0 {
			break
		}
		p := i + j
		if p > 0 && chunk[p-1] != '\n' {
			i = p + 1
			continue
		}
		lineEnd := len(chunk)
		if e := bytes.IndexByte(chunk[p:], '\n'); e >= 0 {
			lineEnd = p + e + 1
		}
		i = lineEnd
		ln := chunk[p:lineEnd]
		if bytes.HasPrefix(ln, hSeparator) {
			h.sep, h.keys, h.last, h.size = withNewline(ln), nil, map[string][]byte{}, len(ln)+1
			changed = true
			continue
		}
		k := headerKey(ln)
		if k == "" {
			continue // a comment: readers ignore it
		}
		if h.last == nil {
			h.last = map[string][]byte{}
		}
		old, seen := h.last[k]
		if h.size-len(old)+len(ln)+1 > maxHeaderBytes {
			continue
		}
		if !seen {
			h.keys = append(h.keys, k)
		}
		h.size += len(ln) + 1 - len(old)
		h.last[k] = withNewline(ln)
		changed = true
	}
	if !changed {
		return
	}
	block := append([]byte(nil), h.sep...)
	for _, k := range h.keys {
		block = append(block, h.last[k]...)
	}
	h.block = block
	h.lines = int64(bytes.Count(block, newline))
}

func withNewline(ln []byte) []byte {
	out := append([]byte(nil), ln...)
	if len(out) == 0 || out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return out
}
