package jsonl

import (
	"bytes"
	"fmt"
	"io"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/internal/jsonscan"
	"github.com/whodunit-project/whodunit/internal/telemetry/internal/textin"
	"github.com/whodunit-project/whodunit/internal/telemetry/internal/textval"
)

// DefaultMaxLineBytes bounds one line (or one CSV record) when
// MaxLineBytes is 0.
const DefaultMaxLineBytes = telemetry.DefaultMaxLineBytes

// maxPathDepth bounds how deep a key path may reach into nested objects.
const maxPathDepth = 16

// JSONL reads one JSON object per line through a Mapping.
type JSONL struct {
	Mapping      Mapping
	MaxLineBytes int
	Limits       fileio.Limits
}

// Name implements telemetry.Format.
func (JSONL) Name() string { return "jsonl" }

// Sniff accepts any JSON object line, but only when a mapping is set: the
// generic reader is the fallback after the formats that know their source.
func (f JSONL) Sniff(head []byte, name string) bool {
	if f.Mapping.Empty() {
		return false
	}
	head = bytes.TrimLeft(head, "\ufeff \t\r\n")
	return len(head) > 1 && head[0] == '{'
}

// Open implements telemetry.Format.
func (f JSONL) Open(r io.Reader, name string) (telemetry.Reader, error) {
	entries, err := f.Mapping.compile()
	if err != nil {
		return nil, fmt.Errorf("jsonl %s: %w", name, err)
	}
	br, err := textin.Open(r, name, f.Limits)
	if err != nil {
		return nil, err
	}
	max := f.MaxLineBytes
	if max <= 0 {
		max = DefaultMaxLineBytes
	}
	lines := textin.NewLines("jsonl", name, br, max)
	jr := &jsonlReader{name: name, max: max, lr: lines.LR, lines: lines, entries: entries}
	for i := range entries {
		if entries[i].Literal {
			jr.literals = append(jr.literals, i)
		} else {
			jr.top = append(jr.top, i)
		}
	}
	return jr, nil
}

type jsonlReader struct {
	name     string
	max      int
	lr       *fileio.LineReader
	lines    *textin.Lines
	entries  []Entry
	literals []int // entries with a literal value
	top      []int // entries read from the record
	sub      [maxPathDepth][]int
	filled   []bool
	arena    textval.Arena
	doc      jsonscan.Doc
}

// Next implements telemetry.Reader.
func (r *jsonlReader) Next(ev *telemetry.Event) error {
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

func (r *jsonlReader) decode(line []byte, ev *telemetry.Event) error {
	obj, err := r.doc.Object(line)
	if err != nil {
		return err
	}
	ev.File, ev.Line, ev.Offset = r.name, r.lr.Line, r.lr.Offset
	if cap(r.filled) < len(r.entries) {
		r.filled = make([]bool, len(r.entries))
	}
	r.filled = r.filled[:len(r.entries)]
	clear(r.filled)
	kindSet := false
	for _, i := range r.literals {
		if err := set(&r.arena, ev, &r.entries[i], r.entries[i].Source, &kindSet); err != nil {
			return err
		}
	}
	if err := r.walk(&obj, r.top, 0, 0, ev, &kindSet); err != nil {
		return err
	}
	if err := obj.Err(); err != nil {
		return err
	}
	if !kindSet {
		ev.Kind = inferKind(ev)
	}
	return nil
}

// walk applies the members of o to the entries in cand, whose sources have
// their first off bytes matched already. A source "a.b" names key "a.b"
// itself, or key "b" inside object "a": both are tried.
func (r *jsonlReader) walk(o *jsonscan.Obj, cand []int, off, depth int, ev *telemetry.Event, kindSet *bool) error {
	for {
		k, kesc, v, ok := o.Next()
		if !ok {
			return o.Err()
		}
		if kesc {
			// keys with escapes are rare; compare their decoded form
			dec, err := jsonscan.AppendUnescaped(nil, k)
			if err != nil {
				return err
			}
			k = dec
		}
		var sub []int
		if depth+1 < maxPathDepth {
			sub = r.sub[depth][:0]
		}
		for _, i := range cand {
			src := r.entries[i].Source[off:]
			if len(src) == len(k) && src == string(k) {
				if err := r.apply(i, v, ev, kindSet); err != nil {
					return err
				}
				continue
			}
			if v.Kind == jsonscan.Object && depth+1 < maxPathDepth && len(src) > len(k) && src[len(k)] == '.' && src[:len(k)] == string(k) {
				sub = append(sub, i)
			}
		}
		if len(sub) > 0 {
			r.sub[depth] = sub
			so := r.doc.Enter(v)
			if err := r.walk(&so, sub, off+len(k)+1, depth+1, ev, kindSet); err != nil {
				return err
			}
		}
	}
}

// apply stores value v for entry i: arrays give every element to a list
// field and the first one to a scalar field.
func (r *jsonlReader) apply(i int, v jsonscan.Value, ev *telemetry.Event, kindSet *bool) error {
	e := &r.entries[i]
	if r.filled[i] && !e.id.isList() {
		return nil
	}
	switch v.Kind {
	case jsonscan.Object, jsonscan.Null:
		return nil
	case jsonscan.Array:
		a := r.doc.EnterArray(v)
		for {
			el, ok := a.Next()
			if !ok {
				return a.Err()
			}
			if el.Kind == jsonscan.Object || el.Kind == jsonscan.Array || el.Kind == jsonscan.Null {
				continue
			}
			s, err := jsonscan.Text(&r.arena, el)
			if err != nil {
				return err
			}
			if err := set(&r.arena, ev, e, s, kindSet); err != nil {
				return err
			}
			r.filled[i] = true
			if !e.id.isList() {
				// drain the rest for validation, keep the first
				for {
					if _, ok := a.Next(); !ok {
						return a.Err()
					}
				}
			}
		}
	}
	s, err := jsonscan.Text(&r.arena, v)
	if err != nil {
		return err
	}
	r.filled[i] = true
	return set(&r.arena, ev, e, s, kindSet)
}
