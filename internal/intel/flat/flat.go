// Package flat reads the flat intelligence formats: Zeek intel files, CSV
// files and plain lists of indicators. Each reader turns every value into a
// deterministic intel indicator (the same value from two files gets the same
// id), labels it with the import options (--type, --source, --actor,
// --confidence, --tlp) and hands it to an intel.Sink. Bad records are
// skipped and reported with their line; a file that cannot be read at all
// fails with an error that names the file and the line or byte offset.
package flat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/intel"
)

// MaxLineBytes bounds one line, and one CSV record spread over several
// lines. A longer line is skipped and reported; it never sits in memory.
const MaxLineBytes = 1 << 20

// Importers returns the flat readers in the order their Sniff should be
// tried: the Zeek intel header is the most specific sign, a plain list the
// least.
func Importers() []intel.Importer {
	return []intel.Importer{ZeekIntel{}, CSV{}, List{}}
}

// Rejection thresholds: a file that yields no indicator but has bad
// records, or whose bad records outnumber good ones by far, is not the
// format it was taken for, and importing its few accidental matches would
// mislead.
const (
	mostlyBadMin   = 100
	mostlyBadRatio = 4
)

// lineSource wraps fileio.LineReader with what every flat reader checks:
// over-long lines (skipped and reported), NUL bytes (binary input, fatal),
// a UTF-8 byte-order mark, read errors and cancellation.
type lineSource struct {
	ctx  context.Context
	lr   *fileio.LineReader
	name string
	n    int
}

func newLineSource(ctx context.Context, r io.Reader, name string) *lineSource {
	return &lineSource{ctx: ctx, lr: fileio.NewLineReader(r, MaxLineBytes), name: name}
}

// next returns the next line, or io.EOF, or a fatal error. Over-long lines
// are skipped and handed to skip.
func (s *lineSource) next(skip func(*intel.RecordError)) ([]byte, error) {
	for {
		line, err := s.lr.Next()
		if s.n++; s.n&1023 == 1 { // the first line, then every 1024
			if cerr := s.ctx.Err(); cerr != nil {
				return nil, fmt.Errorf("%s:%d: %w", s.name, s.lr.Line, cerr)
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, fileio.ErrLineTooLong):
			skip(&intel.RecordError{File: s.name, Line: s.lr.Line, Offset: s.lr.Offset,
				Err: fmt.Errorf("line longer than %d bytes (starts at byte offset %d), skipped", MaxLineBytes, s.lr.Offset)})
			continue
		case err == io.EOF:
			return nil, io.EOF
		default:
			return nil, fmt.Errorf("%s:%d (byte offset %d): read: %w", s.name, s.lr.Line, s.lr.Offset, err)
		}
		if s.lr.Line == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		}
		if i := bytes.IndexByte(line, 0); i >= 0 {
			return nil, fmt.Errorf("%s:%d (byte offset %d): NUL byte: binary data, not a text file", s.name, s.lr.Line, s.lr.Offset+int64(i))
		}
		return line, nil
	}
}

// line is the number of the line last returned.
func (s *lineSource) line() int64 { return s.lr.Line }

// recordErr builds a RecordError for the current line.
func (s *lineSource) recordErr(format string, args ...any) *intel.RecordError {
	return &intel.RecordError{File: s.name, Line: s.lr.Line, Err: fmt.Errorf(format, args...)}
}

// validText reports whether b is text a value can come from.
func validText(b []byte) bool { return utf8.Valid(b) }

// trimSpace trims ASCII white space without allocating.
func trimSpace(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && isSpace(b[i]) {
		i++
	}
	for j > i && isSpace(b[j-1]) {
		j--
	}
	return b[i:j]
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}

// headLines splits a sniffing head into lines. When the head is as long
// as fileio reads for sniffing, its last line may be cut off and is dropped
// (unless it is the only one).
func headLines(head []byte) [][]byte {
	full := len(head) >= fileio.HeadSize
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	lines := bytes.Split(head, []byte("\n"))
	if n := len(lines); n > 1 && (full || len(lines[n-1]) == 0) {
		lines = lines[:n-1]
	}
	for i, l := range lines {
		lines[i] = bytes.TrimSuffix(l, []byte("\r"))
	}
	return lines
}
