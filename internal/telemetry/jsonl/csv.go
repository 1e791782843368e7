package jsonl

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/internal/textin"
	"github.com/whodunit-project/whodunit/internal/telemetry/internal/textval"
)

// CSV reads comma- (or Comma-) separated values with a header row through
// a Mapping whose sources are column names, or "#N" for the N-th column
// (1-based). Fields may be quoted ("a, b" and "" for a quote) and quoted
// fields may span lines. A list field (answers, ttls, cert_sans,
// cert_chain, rcpt_to, to) splits its cell on ListSeparator.
type CSV struct {
	Mapping Mapping
	// Comma separates fields; 0 means ','.
	Comma byte
	// ListSeparator splits list cells; 0 means ';'.
	ListSeparator byte
	MaxLineBytes  int
	Limits        fileio.Limits
}

// Name implements telemetry.Format.
func (CSV) Name() string { return "csv" }

// Sniff accepts a first line that contains the separator and names at
// least one mapped column, when a mapping is set.
func (f CSV) Sniff(head []byte, name string) bool {
	if f.Mapping.Empty() {
		return false
	}
	head = bytes.TrimLeft(head, "\ufeff \t\r\n")
	if len(head) == 0 || head[0] == '{' || head[0] == '#' {
		return false
	}
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	comma := f.comma()
	if bytes.IndexByte(head, comma) < 0 {
		return false
	}
	cols, err := splitCSV(bytes.TrimRight(head, "\r"), comma, nil, nil)
	if err != nil {
		return false
	}
	for _, e := range f.Mapping.Entries {
		for _, c := range cols {
			if !e.Literal && string(bytes.TrimSpace(c)) == e.Source {
				return true
			}
		}
	}
	return false
}

func (f CSV) comma() byte {
	if f.Comma == 0 {
		return ','
	}
	return f.Comma
}

// Open implements telemetry.Format.
func (f CSV) Open(r io.Reader, name string) (telemetry.Reader, error) {
	entries, err := f.Mapping.compile()
	if err != nil {
		return nil, fmt.Errorf("csv %s: %w", name, err)
	}
	br, err := textin.Open(r, name, f.Limits)
	if err != nil {
		return nil, err
	}
	max := f.MaxLineBytes
	if max <= 0 {
		max = DefaultMaxLineBytes
	}
	ls := f.ListSeparator
	if ls == 0 {
		ls = ';'
	}
	return &csvReader{name: name, max: max, lr: fileio.NewLineReader(br, max), entries: entries, comma: f.comma(), listSep: ls}, nil
}

type csvReader struct {
	name    string
	max     int
	lr      *fileio.LineReader
	entries []Entry
	comma   byte
	listSep byte
	cols    []int // column of each entry, -1 for literals and missing columns
	ncols   int
	header  bool
	fields  [][]byte
	rec     []byte // a record that spans lines
	arena   textval.Arena
	line    int64
	offset  int64
	err     error
}

// Next implements telemetry.Reader.
func (r *csvReader) Next(ev *telemetry.Event) error {
	if r.err != nil {
		return r.err
	}
	for {
		rec, err := r.record()
		if err != nil {
			if err == io.EOF {
				r.err = io.EOF
				return io.EOF
			}
			if telemetry.IsRecordError(err) {
				return err
			}
			r.err = fmt.Errorf("csv %s: after line %d (byte %d): %w", r.name, r.lr.Line-1, r.lr.Offset, err)
			return r.err
		}
		if len(bytes.TrimSpace(rec)) == 0 {
			continue
		}
		r.arena.Reset()
		fields, err := splitCSV(rec, r.comma, r.fields[:0], &r.arena)
		r.fields = fields
		if err != nil {
			return r.recordError(err)
		}
		if !r.header {
			if err := r.readHeader(fields); err != nil {
				r.err = fmt.Errorf("csv %s:%d: %w", r.name, r.line, err)
				return r.err
			}
			continue
		}
		ev.Reset()
		if err := r.decode(fields, ev); err != nil {
			return r.recordError(err)
		}
		return nil
	}
}

// record returns the next record: one line, or several when a quoted field
// holds line breaks.
func (r *csvReader) record() ([]byte, error) {
	line, err := r.lr.Next()
	if err != nil {
		if errors.Is(err, fileio.ErrLineTooLong) {
			r.line, r.offset = r.lr.Line, r.lr.Offset
			return nil, r.recordError(fmt.Errorf("line longer than %d bytes", r.max))
		}
		return nil, err
	}
	r.line, r.offset = r.lr.Line, r.lr.Offset
	if !openQuote(line) {
		return line, nil
	}
	r.rec = append(r.rec[:0], line...)
	for openQuote(r.rec) {
		next, err := r.lr.Next()
		if err != nil {
			if err == io.EOF || errors.Is(err, fileio.ErrLineTooLong) {
				return nil, r.recordError(errors.New("quoted field not closed"))
			}
			return nil, err
		}
		if len(r.rec)+1+len(next) > r.max {
			// skip to the end of the runaway field, reported once
			return nil, r.recordError(fmt.Errorf("record longer than %d bytes", r.max))
		}
		r.rec = append(r.rec, '\n')
		r.rec = append(r.rec, next...)
	}
	return r.rec, nil
}

// openQuote reports whether b ends inside a quoted field.
func openQuote(b []byte) bool {
	if bytes.IndexByte(b, '"') < 0 {
		return false
	}
	in := false
	for _, c := range b {
		if c == '"' {
			in = !in
		}
	}
	return in
}

func (r *csvReader) recordError(err error) error {
	return &telemetry.RecordError{File: r.name, Line: r.line, Offset: r.offset, Err: err}
}

func (r *csvReader) readHeader(fields [][]byte) error {
	r.header = true
	r.ncols = len(fields)
	r.cols = make([]int, len(r.entries))
	found := 0
	for i, e := range r.entries {
		r.cols[i] = -1
		if e.Literal {
			continue
		}
		if strings.HasPrefix(e.Source, "#") {
			if n, err := strconv.Atoi(e.Source[1:]); err == nil && n >= 1 && n <= len(fields) {
				r.cols[i] = n - 1
				found++
			}
			continue
		}
		for c, f := range fields {
			name := bytes.TrimSpace(f)
			if c == 0 {
				name = bytes.TrimPrefix(name, []byte("\ufeff"))
			}
			if string(name) == e.Source {
				r.cols[i] = c
				found++
				break
			}
		}
	}
	if found == 0 {
		return fmt.Errorf("the header names none of the mapped columns")
	}
	return nil
}

func (r *csvReader) decode(fields [][]byte, ev *telemetry.Event) error {
	if len(fields) != r.ncols {
		return fmt.Errorf("%d fields, the header has %d", len(fields), r.ncols)
	}
	ev.File, ev.Line, ev.Offset = r.name, r.line, r.offset
	kindSet := false
	for i := range r.entries {
		e := &r.entries[i]
		if e.Literal {
			if err := set(&r.arena, ev, e, e.Source, &kindSet); err != nil {
				return err
			}
			continue
		}
		c := r.cols[i]
		if c < 0 {
			continue
		}
		cell := fields[c]
		if !e.id.isList() {
			if err := set(&r.arena, ev, e, textval.View(bytes.TrimSpace(cell)), &kindSet); err != nil {
				return err
			}
			continue
		}
		for len(cell) > 0 {
			var el []byte
			if j := bytes.IndexByte(cell, r.listSep); j >= 0 {
				el, cell = cell[:j], cell[j+1:]
			} else {
				el, cell = cell, nil
			}
			if err := set(&r.arena, ev, e, textval.View(bytes.TrimSpace(el)), &kindSet); err != nil {
				return err
			}
		}
	}
	if !kindSet {
		ev.Kind = inferKind(ev)
	}
	return nil
}

// splitCSV splits one record. Unquoted fields are views of rec; quoted
// fields with doubled quotes are decoded into the arena (when one is given).
func splitCSV(rec []byte, comma byte, out [][]byte, a *textval.Arena) ([][]byte, error) {
	for {
		if len(rec) > 0 && rec[0] == '"' {
			// quoted field
			i := 1
			esc := false
			for {
				j := bytes.IndexByte(rec[i:], '"')
				if j < 0 {
					return out, errors.New("quoted field not closed")
				}
				i += j
				if i+1 < len(rec) && rec[i+1] == '"' {
					esc = true
					i += 2
					continue
				}
				break
			}
			val := rec[1:i]
			if esc {
				if a == nil {
					val = bytes.ReplaceAll(val, []byte(`""`), []byte(`"`))
				} else {
					m := a.Mark()
					b := a.Buf()
					for k := 0; k < len(val); k++ {
						b = append(b, val[k])
						if val[k] == '"' {
							k++
						}
					}
					a.Set(b)
					val = b[m:len(b):len(b)]
				}
			}
			out = append(out, val)
			rest := rec[i+1:]
			if len(rest) == 0 {
				return out, nil
			}
			if rest[0] != comma {
				return out, errors.New("text after a closing quote")
			}
			rec = rest[1:]
			continue
		}
		j := bytes.IndexByte(rec, comma)
		if j < 0 {
			return append(out, rec), nil
		}
		out = append(out, rec[:j])
		rec = rec[j+1:]
	}
}
