package textin

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// Lines walks the non-blank lines of a line-per-record format and turns
// line-level failures into what every such reader returns: io.EOF at the
// end, a *telemetry.RecordError for a line over the limit (skipped), and a
// fatal error, kept for every later call, when the input cannot be read.
type Lines struct {
	Format string // names the format in messages: "eve", "jsonl", …
	Name   string // the input's name
	Max    int    // the line limit given to LR
	LR     *fileio.LineReader
	err    error
}

// NewLines reads lines of at most max bytes from br.
func NewLines(format, name string, br io.Reader, max int) *Lines {
	return &Lines{Format: format, Name: name, Max: max, LR: fileio.NewLineReader(br, max)}
}

// Next returns the next non-blank line, trimmed; it is valid until the
// next call.
func (l *Lines) Next() ([]byte, error) {
	if l.err != nil {
		return nil, l.err
	}
	for {
		line, err := l.LR.Next()
		if err != nil {
			if err == io.EOF {
				l.err = io.EOF
				return nil, io.EOF
			}
			if errors.Is(err, fileio.ErrLineTooLong) {
				return nil, l.RecordError(fmt.Errorf("line longer than %d bytes", l.Max))
			}
			l.err = fmt.Errorf("%s %s: after line %d (byte %d): %w", l.Format, l.Name, l.LR.Line-1, l.LR.Offset, err)
			return nil, l.err
		}
		line = bytes.TrimSpace(line)
		if len(line) > 0 {
			return line, nil
		}
	}
}

// RecordError reports err as a bad record at the current line.
func (l *Lines) RecordError(err error) error {
	return &telemetry.RecordError{File: l.Name, Line: l.LR.Line, Offset: l.LR.Offset, Err: err}
}
