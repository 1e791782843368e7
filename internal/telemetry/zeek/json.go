package zeek

import (
	"bytes"
	"io"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/internal/jsonscan"
	"github.com/whodunit-project/whodunit/internal/telemetry/internal/textin"
	"github.com/whodunit-project/whodunit/internal/telemetry/internal/textval"
)

// JSON is Zeek's JSON log format: one object per line, columns flattened
// with dots ("id.orig_h"), "_path" naming the log when several are mixed.
// Nested records ("id": {"orig_h": …}) are accepted too.
type JSON struct {
	// MaxLineBytes bounds one line; 0 means DefaultMaxLineBytes.
	MaxLineBytes int
	// Limits bound gzip decompression when Open gets compressed bytes.
	Limits fileio.Limits
	// Needs narrows what is decoded (zero: every field the reader knows).
	Needs telemetry.Needs
}

// Name implements telemetry.Format.
func (JSON) Name() string { return "zeek-json" }

// Sniff recognises a JSON object line that starts the way Zeek writes
// them: "_path" or "ts" first, or the Zeek connection id columns. Suricata
// EVE ("event_type") is left to its own reader.
func (JSON) Sniff(head []byte, name string) bool {
	line := firstLine(head)
	if len(line) == 0 || line[0] != '{' || bytes.Contains(line, []byte(`"event_type"`)) {
		return false
	}
	rest := bytes.TrimLeft(line[1:], " \t")
	return bytes.HasPrefix(rest, []byte(`"_path"`)) || bytes.HasPrefix(rest, []byte(`"ts"`)) ||
		bytes.Contains(line, []byte(`"id.orig_h"`)) || bytes.Contains(line, []byte(`"id":{"orig_h"`))
}

// firstLine returns the first non-blank line of head, trimmed.
func firstLine(head []byte) []byte {
	head = bytes.TrimLeft(head, "\ufeff \t\r\n")
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	return bytes.TrimSpace(head)
}

// Open implements telemetry.Format.
func (f JSON) Open(r io.Reader, name string) (telemetry.Reader, error) {
	br, err := textin.Open(r, name, f.Limits)
	if err != nil {
		return nil, err
	}
	max := f.MaxLineBytes
	if max <= 0 {
		max = DefaultMaxLineBytes
	}
	lines := textin.NewLines("zeek-json", name, br, max)
	return &jsonReader{
		name:    name,
		max:     max,
		lr:      lines.LR,
		lines:   lines,
		nameLog: logFromName(name),
		tables:  map[string]*table{},
		needs:   f.Needs,
	}, nil
}

// table is the column mapping of one log, built on first use.
type table struct {
	log  string
	kind telemetry.Kind
	cols map[string]target
}

type jsonReader struct {
	name    string
	max     int
	lr      *fileio.LineReader
	lines   *textin.Lines
	nameLog string
	tables  map[string]*table
	last    *table
	arena   textval.Arena
	doc     jsonscan.Doc
	keyBuf  []byte
	needs   telemetry.Needs
	// inferred is set once the log name was guessed from the columns of
	// the first line without _path.
	inferred bool
}

// Next implements telemetry.Reader.
func (r *jsonReader) Next(ev *telemetry.Event) error {
	line, err := r.lines.Next()
	if err != nil {
		return err
	}
	ev.Reset()
	r.arena.Reset()
	if err := r.decode(line, ev); err != nil {
		return r.lines.RecordError(err)
	}
	return nil
}

func (r *jsonReader) decode(line []byte, ev *telemetry.Event) error {
	obj, err := r.doc.Object(line)
	if err != nil {
		return err
	}
	// Zeek writes _path first; without it the file name or the columns say
	// which log this is.
	var logName []byte
	if k, _, v, ok := obj.Next(); ok && string(k) == "_path" && v.Kind == jsonscan.String && !v.Escaped {
		logName = v.Raw
	}
	tb := r.table(logName, line)
	ev.Kind = tb.kind
	ev.Log = tb.log
	ev.File = r.name
	ev.Line = r.lr.Line
	ev.Offset = r.lr.Offset
	obj, _ = r.doc.Object(line)
	if err := r.members(&obj, tb, ev, 0, 0); err != nil {
		return err
	}
	return obj.Err()
}

// members applies every member of obj; prefix is the length of keyBuf that
// holds the enclosing record's name and a dot.
func (r *jsonReader) members(obj *jsonscan.Obj, tb *table, ev *telemetry.Event, prefix, depth int) error {
	for {
		k, kesc, v, ok := obj.Next()
		if !ok {
			return obj.Err()
		}
		var key []byte
		if kesc {
			var err error
			r.keyBuf, err = jsonscan.AppendUnescaped(r.keyBuf[:prefix], k)
			if err != nil {
				return err
			}
			key = r.keyBuf
		} else if prefix > 0 {
			r.keyBuf = append(r.keyBuf[:prefix], k...)
			key = r.keyBuf
		} else {
			key = k
		}
		t := tb.cols[string(key)]
		switch v.Kind {
		case jsonscan.Object:
			if depth < 4 {
				if !kesc && prefix == 0 {
					r.keyBuf = append(r.keyBuf[:0], k...)
				}
				r.keyBuf = append(r.keyBuf, '.')
				sub := r.doc.Enter(v)
				if err := r.members(&sub, tb, ev, len(r.keyBuf), depth+1); err != nil {
					return err
				}
			}
		case jsonscan.Array:
			if t == tNone {
				continue
			}
			arr := r.doc.EnterArray(v)
			for {
				el, ok := arr.Next()
				if !ok {
					break
				}
				if el.Kind != jsonscan.String && el.Kind != jsonscan.Number {
					continue
				}
				s, err := r.str(el)
				if err != nil {
					return err
				}
				if err := setElem(&r.arena, ev, t, textval.View(key), s); err != nil {
					return err
				}
			}
			if err := arr.Err(); err != nil {
				return err
			}
		case jsonscan.Null:
		default:
			if t == tNone {
				continue
			}
			s, err := r.str(v)
			if err != nil {
				return err
			}
			if err := setScalar(&r.arena, ev, t, textval.View(key), s); err != nil {
				return err
			}
		}
	}
}

// str returns the text of a scalar: strings are JSON-unescaped and then
// Zeek's \xHH byte escapes decoded.
func (r *jsonReader) str(v jsonscan.Value) (string, error) {
	if !v.Escaped {
		return textval.View(v.Raw), nil
	}
	m := r.arena.Mark()
	b, err := jsonscan.AppendUnescaped(r.arena.Buf(), v.Raw)
	if err != nil {
		r.arena.Set(b[:m])
		return "", err
	}
	if bytes.Contains(b[m:], []byte(`\x`)) {
		dec := appendHexEscapes(nil, b[m:])
		b = append(b[:m], dec...)
	}
	r.arena.Set(b)
	return r.arena.Since(m), nil
}

// appendHexEscapes decodes only \xHH (Zeek's JSON writer uses it for bytes
// that are not valid UTF-8; a literal backslash is already plain).
func appendHexEscapes(dst, b []byte) []byte {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '\\' && i+3 < len(b) && b[i+1] == 'x' {
			if hi, ok := unhex(b[i+2]); ok {
				if lo, ok := unhex(b[i+3]); ok {
					dst = append(dst, hi<<4|lo)
					i += 3
					continue
				}
			}
		}
		dst = append(dst, c)
	}
	return dst
}

// table returns the column mapping for a line of the log named path (from
// _path), or of the log the file name or the first line's columns suggest.
func (r *jsonReader) table(path []byte, line []byte) *table {
	var log string
	if len(path) > 0 {
		if r.last != nil && r.last.log == string(path) {
			return r.last
		}
		if tb, ok := r.tables[string(path)]; ok {
			r.last = tb
			return tb
		}
		log = string(path)
	} else {
		if !r.inferred {
			// The columns outrank the file name: a dns log saved as
			// conn.json is still a dns log.
			r.inferred = true
			if l := logFromFields(func(f string) bool {
				return bytes.Contains(line, []byte(`"`+f+`"`))
			}); l != "" {
				r.nameLog = l
			}
		}
		log = r.nameLog
		if r.last != nil && r.last.log == log {
			return r.last
		}
		if tb, ok := r.tables[log]; ok {
			r.last = tb
			return tb
		}
	}
	tb := &table{log: log, kind: kindOf(log), cols: map[string]target{}}
	for f, t := range common {
		tb.cols[f] = t
	}
	for f, t := range perLog[log] {
		tb.cols[f] = t
	}
	for f, t := range tb.cols {
		if !t.needed(r.needs) {
			delete(tb.cols, f) // a column not in cols is skipped, not parsed
		}
	}
	if len(r.tables) < 1024 {
		r.tables[log] = tb
	}
	r.last = tb
	return tb
}
