// Package cite reads the records a report cites: the file's SHA-256 as it
// is on disk, and each record's raw bytes (one line of the decompressed
// content, from its byte offset) with its line number. Reports use it to
// carry their evidence; verify uses it to check a report against the
// original logs.
package cite

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"unicode/utf8"

	"github.com/whodunit-project/whodunit/internal/fileio"
)

// MaxRecord bounds one cited record: a log line longer than this is cut.
const MaxRecord = 64 << 10

// ErrBinary is returned (wrapped) for a record that is not text (a
// packet of a capture): it is cited by position and hash only.
var ErrBinary = errors.New("binary record")

// Record is one cited record.
type Record struct {
	Offset int64
	Line   int64 // 1-based
	Bytes  []byte
	Err    error // why the record could not be read (past the end, binary)
}

// FileSHA256 hashes the file at path as it is on disk, in hex.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Read reads the records at offsets of the file at path in one pass over
// its decompressed content, and returns them by offset.
func Read(path string, offsets []int64) (map[int64]Record, error) {
	in, err := fileio.Open(path, fileio.DefaultLimits)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	want := append([]int64(nil), offsets...)
	sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
	out := map[int64]Record{}
	br := bufio.NewReaderSize(in.R, 256<<10)
	var pos, line int64 = 0, 1
	for _, off := range want {
		if _, done := out[off]; done {
			continue
		}
		if off < 0 {
			out[off] = Record{Offset: off, Err: fmt.Errorf("%s: negative offset %d", path, off)}
			continue
		}
		n, nl, err := skip(br, off-pos)
		pos, line = pos+n, line+nl
		if err != nil {
			out[off] = Record{Offset: off, Err: fmt.Errorf("%s: offset %d is past the end (%d bytes)", path, off, pos)}
			continue
		}
		raw, err := readLine(br)
		rec := Record{Offset: off, Line: line, Bytes: raw}
		if err != nil {
			rec.Err = fmt.Errorf("%s: offset %d: %w", path, off, err)
		}
		out[off] = rec
		pos += int64(len(raw))
		line += int64(bytes.Count(raw, []byte{'\n'}))
	}
	return out, nil
}

// skip discards n bytes and counts the line ends among them.
func skip(br *bufio.Reader, n int64) (done, lines int64, err error) {
	buf := make([]byte, 32<<10)
	for done < n {
		k := int64(len(buf))
		if n-done < k {
			k = n - done
		}
		m, err := io.ReadFull(br, buf[:k])
		done += int64(m)
		lines += int64(bytes.Count(buf[:m], []byte{'\n'}))
		if err != nil {
			return done, lines, err
		}
	}
	return done, lines, nil
}

// readLine reads one record up to and including its line end (at most
// MaxRecord bytes); the caller counts the line end, and Text trims it.
func readLine(br *bufio.Reader) ([]byte, error) {
	var out []byte
	for len(out) < MaxRecord {
		b, err := br.ReadByte()
		if err != nil {
			if len(out) == 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return out, nil
		}
		out = append(out, b)
		if b == '\n' {
			return out, nil
		}
	}
	return out, nil
}

// Text is the record as a report carries it: without its line end, and
// only when it is text.
func (r Record) Text() (string, error) {
	if r.Err != nil {
		return "", r.Err
	}
	b := bytes.TrimRight(r.Bytes, "\r\n")
	if !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return "", fmt.Errorf("offset %d: %w", r.Offset, ErrBinary)
	}
	return string(b), nil
}
