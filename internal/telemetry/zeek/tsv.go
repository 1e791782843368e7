package zeek

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strings"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/internal/textin"
	"github.com/whodunit-project/whodunit/internal/telemetry/internal/textval"
)

// DefaultMaxLineBytes bounds one line when a format's MaxLineBytes is 0.
const DefaultMaxLineBytes = telemetry.DefaultMaxLineBytes

// TSV is Zeek's tab-separated ASCII log format (any log type), driven by
// the #fields / #types header.
type TSV struct {
	// MaxLineBytes bounds one line; a longer line is one bad record.
	// 0 means DefaultMaxLineBytes.
	MaxLineBytes int
	// Limits bound gzip decompression when Open is handed compressed
	// bytes directly. Zero means fileio.DefaultLimits.
	Limits fileio.Limits
	// Needs narrows what is decoded (zero: every field the reader knows).
	Needs telemetry.Needs
}

// Name implements telemetry.Format.
func (TSV) Name() string { return "zeek" }

// Sniff recognises the header Zeek writes at the top of every ASCII log.
func (TSV) Sniff(head []byte, name string) bool {
	head = bytes.TrimLeft(head, "\ufeff")
	return bytes.HasPrefix(head, []byte("#separator ")) ||
		bytes.HasPrefix(head, []byte("#separator\t")) ||
		bytes.HasPrefix(head, []byte("#fields\t"))
}

// Open implements telemetry.Format.
func (f TSV) Open(r io.Reader, name string) (telemetry.Reader, error) {
	br, err := textin.Open(r, name, f.Limits)
	if err != nil {
		return nil, err
	}
	max := f.MaxLineBytes
	if max <= 0 {
		max = DefaultMaxLineBytes
	}
	// field offsets are kept as uint32
	max = min(max, math.MaxUint32-1)
	return &tsvReader{
		name:    name,
		max:     max,
		lr:      fileio.NewLineReader(br, max),
		nameLog: logFromName(name),
		hdr:     defaultHeader(),
		needs:   f.Needs,
	}, nil
}

// header is the state declared by the # lines of one log block.
type header struct {
	sep    byte
	setSep byte
	empty  string
	unset  string
	path   string
	fields []string
	types  []string
	// spaced is set when the #fields line separated some names by runs
	// of spaces instead of the separator (IoT-23's labelled files).
	spaced bool
}

func defaultHeader() header {
	return header{sep: '\t', setSep: ',', empty: "(empty)", unset: "-"}
}

type tsvReader struct {
	name    string
	max     int
	lr      *fileio.LineReader
	nameLog string // log name guessed from the file name
	hdr     header
	dirty   bool // header changed since cols was built

	// built from the header
	log    string
	kind   telemetry.Kind
	cols   []target
	active []column // the columns that fill something, in order
	need   int      // fields to split: up to the last active column
	ready  bool
	bounds []uint32 // field starts of the current line (see splitBounds)
	fields [][]byte // scratch for lines with space-separated columns
	joined []byte   // such a line rebuilt with the separator
	arena  textval.Arena
	needs  telemetry.Needs
	err    error
}

// Next implements telemetry.Reader.
func (r *tsvReader) Next(ev *telemetry.Event) error {
	if r.err != nil {
		return r.err
	}
	for {
		line, err := r.lr.Next()
		if err != nil {
			if err == io.EOF {
				r.err = io.EOF
				return io.EOF
			}
			if errors.Is(err, fileio.ErrLineTooLong) {
				return r.recordError(fmt.Errorf("line longer than %d bytes", r.max))
			}
			r.err = fmt.Errorf("zeek %s: after line %d (byte %d): %w", r.name, r.lr.Line-1, r.lr.Offset, err)
			return r.err
		}
		if len(line) == 0 {
			continue
		}
		if line[0] == '#' {
			if err := r.headerLine(line); err != nil {
				return r.recordError(err)
			}
			continue
		}
		if r.dirty {
			r.build()
		}
		if !r.ready {
			return r.recordError(errors.New("data line before a #fields header"))
		}
		ev.Reset()
		r.arena.Reset()
		if err := r.decode(line, ev); err != nil {
			return r.recordError(err)
		}
		return nil
	}
}

func (r *tsvReader) recordError(err error) error {
	return &telemetry.RecordError{File: r.name, Line: r.lr.Line, Offset: r.lr.Offset, Err: err}
}

// headerLine handles one "#key<sep>value" line.
func (r *tsvReader) headerLine(line []byte) error {
	if bytes.HasPrefix(line, []byte("#separator")) {
		v := bytes.TrimSpace(line[len("#separator"):])
		sep := unescapeHeader(v)
		if len(sep) != 1 {
			return fmt.Errorf("unsupported #separator %q (one byte expected)", v)
		}
		// a #separator line starts a new block: forget the old header
		r.hdr = defaultHeader()
		r.hdr.sep = sep[0]
		r.dirty = true
		r.ready = false
		return nil
	}
	key, val := line[1:], []byte(nil)
	if i := bytes.IndexByte(line, r.hdr.sep); i > 0 {
		key, val = line[1:i], line[i+1:]
	} else if i := bytes.IndexByte(line, ' '); i > 0 {
		key, val = line[1:i], bytes.TrimLeft(line[i+1:], " ")
	}
	switch string(key) {
	case "set_separator":
		s := unescapeHeader(val)
		if len(s) != 1 {
			return fmt.Errorf("unsupported #set_separator %q (one byte expected)", val)
		}
		r.hdr.setSep = s[0]
	case "empty_field":
		r.hdr.empty = string(val)
	case "unset_field":
		r.hdr.unset = string(val)
	case "path":
		r.hdr.path = string(val)
		r.dirty = true
	case "fields":
		r.hdr.fields, r.hdr.spaced = splitNames(val, r.hdr.sep)
		r.dirty = true
	case "types":
		r.hdr.types, _ = splitNames(val, r.hdr.sep)
		r.dirty = true
	case "close":
		// the block ends; a following block brings its own header
	}
	return nil
}

// splitNames splits a #fields or #types line. Names never contain spaces,
// so runs of spaces also separate (files edited by hand or by labelling
// tools put spaces where tabs belong).
func splitNames(val []byte, sep byte) ([]string, bool) {
	spaced := false
	var out []string
	for _, part := range bytes.Split(val, []byte{sep}) {
		if bytes.ContainsRune(part, ' ') {
			spaced = true
			out = append(out, strings.Fields(string(part))...)
			continue
		}
		out = append(out, string(part))
	}
	return out, spaced
}

// build maps every column to its target after a header change.
func (r *tsvReader) build() {
	r.dirty = false
	h := &r.hdr
	if len(h.fields) == 0 {
		r.ready = false
		return
	}
	log := h.path
	if log == "" {
		log = r.nameLog
	}
	if log == "" {
		set := map[string]bool{}
		for _, f := range h.fields {
			set[f] = true
		}
		log = logFromFields(func(s string) bool { return set[s] })
	}
	r.log = log
	r.kind = kindOf(log)
	r.cols = r.cols[:0]
	r.active = r.active[:0]
	r.need = 0
	for i, f := range h.fields {
		typ := ""
		if i < len(h.types) {
			typ = h.types[i]
		}
		t := lookupTarget(log, f, typ)
		if !t.needed(r.needs) {
			t = tNone // neither split out nor parsed
		}
		r.cols = append(r.cols, t)
		list := strings.HasPrefix(typ, "set[") || strings.HasPrefix(typ, "vector[") || strings.HasPrefix(typ, "table[")
		if typ == "" {
			list = t.isList()
		}
		if t != tNone {
			r.active = append(r.active, column{index: i, t: t, list: list, name: f})
			r.need = i + 1
		}
	}
	r.ready = true
}

// decode fills ev from one data line.
func (r *tsvReader) decode(line []byte, ev *telemetry.Event) error {
	h := &r.hdr
	// The split stops recording after the last column that fills
	// something and only counts the separators of the rest.
	b, nf := splitFields(line, h.sep, r.bounds[:0], r.need)
	r.bounds = b
	if nf != len(r.cols) {
		if !h.spaced || nf > len(r.cols) {
			return fmt.Errorf("%d fields, the #fields header declares %d", nf, len(r.cols))
		}
		// Some columns were separated by spaces: rebuild the line with
		// the separator and split again (rare: labelled IoT-23 files).
		b = splitBounds(line, h.sep, r.bounds[:0], nf)
		r.bounds = b
		fields := r.fields[:0]
		for k := 0; k < nf; k++ {
			fields = append(fields, line[b[k]:b[k+1]-1])
		}
		fields = resplitSpaced(fields)
		r.fields = fields
		if len(fields) != len(r.cols) {
			return fmt.Errorf("%d fields, the #fields header declares %d", len(fields), len(r.cols))
		}
		joined := r.joined[:0]
		for k, f := range fields {
			if k > 0 {
				joined = append(joined, h.sep)
			}
			joined = append(joined, f...)
		}
		r.joined = joined
		line = joined
		b = splitBounds(line, h.sep, r.bounds[:0], r.need)
		r.bounds = b
	}
	// one pass over the line tells whether any field needs unescaping
	escaped := bytes.IndexByte(line, '\\') >= 0
	ev.Kind = r.kind
	ev.Log = r.log
	ev.File = r.name
	ev.Line = r.lr.Line
	ev.Offset = r.lr.Offset
	// Zeek's unset mark is "-": compared as a byte, not by a call
	unset1 := len(h.unset) == 1
	var unsetByte byte
	if unset1 {
		unsetByte = h.unset[0]
	}
	active := r.active
	for i := range active {
		col := &active[i]
		raw := line[b[col.index] : b[col.index+1]-1]
		if len(raw) == len(h.unset) && (unset1 && raw[0] == unsetByte || !unset1 && string(raw) == h.unset) {
			continue
		}
		if len(raw) == len(h.empty) && string(raw) == h.empty {
			continue
		}
		if !col.list {
			s := textval.View(raw)
			if escaped {
				s = r.unescape(raw)
			}
			if err := setScalar(&r.arena, ev, col.t, col.name, s); err != nil {
				return err
			}
			continue
		}
		for len(raw) > 0 {
			var el []byte
			if i := bytes.IndexByte(raw, h.setSep); i >= 0 {
				el, raw = raw[:i], raw[i+1:]
			} else {
				el, raw = raw, nil
			}
			if len(el) == len(h.unset) && string(el) == h.unset {
				continue
			}
			s := textval.View(el)
			if escaped {
				s = r.unescape(el)
			}
			if err := setElem(&r.arena, ev, col.t, col.name, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// column is one column that fills an Event field.
type column struct {
	index int
	t     target
	list  bool
	name  string
}

// splitBounds stores in b the start of each of the first n fields of line,
// followed by one past the end of field n-1, so that field k is
// line[b[k] : b[k+1]-1]. line must hold at least n fields.
func splitBounds(line []byte, sep byte, b []uint32, n int) []uint32 {
	b, _ = splitFields(line, sep, b, n)
	return b
}

// splitFields is splitBounds that also counts the fields of the whole line
// (separators after field n are counted, not recorded). When the line has
// fewer than n fields, only the bounds of those it has are meaningful.
//
// It finds separators eight bytes at a time (one IndexByte call per field
// costs more than the scan itself: a Zeek line has twenty-odd short
// fields) and gathers the finds of 64 bytes into one bit mask before
// reading positions out of it, so that the loop over the positions ends
// once per 64 bytes instead of once per word: that loop's exit is the
// branch the processor mispredicts.
func splitFields(line []byte, sep byte, b []uint32, n int) ([]uint32, int) {
	// a 64-byte block may hold 64 separators past the last one needed
	if cap(b) < n+66 {
		b = make([]uint32, n+66, n+96)
	}
	b = b[:n+66]
	b[0] = 0
	k := 1
	pat := uint64(sep) * 0x0101010101010101
	i := 0
	for ; i+64 <= len(line) && k <= n; i += 64 {
		blk := line[i : i+64]
		mask := sepMask8(blk[0:8], pat) | sepMask8(blk[8:16], pat)<<8 | sepMask8(blk[16:24], pat)<<16 |
			sepMask8(blk[24:32], pat)<<24 | sepMask8(blk[32:40], pat)<<32 | sepMask8(blk[40:48], pat)<<40 |
			sepMask8(blk[48:56], pat)<<48 | sepMask8(blk[56:64], pat)<<56
		base := uint32(i) + 1
		for mask != 0 {
			b[k] = base + uint32(bits.TrailingZeros64(mask))
			k++
			mask &= mask - 1
		}
	}
	for ; i+8 <= len(line) && k <= n; i += 8 {
		mask := sepMask8(line[i:i+8], pat)
		base := uint32(i) + 1
		for mask != 0 {
			b[k] = base + uint32(bits.TrailingZeros64(mask))
			k++
			mask &= mask - 1
		}
	}
	for ; i < len(line) && k <= n; i++ {
		if line[i] == sep {
			b[k] = uint32(i) + 1
			k++
		}
	}
	fields := k + bytes.Count(line[i:], []byte{sep})
	if k <= n {
		b[k] = uint32(len(line)) + 1
	}
	return b[:n+1], fields
}

// sepMask8 returns a byte whose bit j is set when b[j] is the separator
// repeated in every byte of pat. b holds eight bytes.
func sepMask8(b []byte, pat uint64) uint64 {
	const lo7 = 0x7f7f7f7f7f7f7f7f
	x := binary.LittleEndian.Uint64(b) ^ pat
	// high bit set exactly in the bytes of x that are zero
	m := ^((x&lo7 + lo7) | x | lo7)
	// gather the eight high bits into the top byte (no two partial
	// products meet, so nothing carries), then move it down
	return (m >> 7) * 0x0102040810204080 >> 56
}

// resplitSpaced splits fields on runs of two or more spaces, for files whose
// last columns are separated by spaces instead of the separator.
func resplitSpaced(fields [][]byte) [][]byte {
	out := make([][]byte, 0, len(fields)+4)
	for _, f := range fields {
		for {
			i := bytes.Index(f, []byte("  "))
			if i < 0 {
				out = append(out, f)
				break
			}
			out = append(out, f[:i])
			j := i
			for j < len(f) && f[j] == ' ' {
				j++
			}
			f = f[j:]
		}
	}
	return out
}

// unescape decodes Zeek's escapes (\xHH and \\) into the arena; a value
// without a backslash is returned as a view of the line.
func (r *tsvReader) unescape(b []byte) string {
	if bytes.IndexByte(b, '\\') < 0 {
		return textval.View(b)
	}
	m := r.arena.Mark()
	r.arena.Set(appendUnescaped(r.arena.Buf(), b))
	return r.arena.Since(m)
}

// appendUnescaped decodes \xHH and \\ ; any other backslash stays as is.
func appendUnescaped(dst, b []byte) []byte {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '\\' && i+1 < len(b) {
			if b[i+1] == '\\' {
				dst = append(dst, '\\')
				i++
				continue
			}
			if b[i+1] == 'x' && i+3 < len(b) {
				if hi, ok := unhex(b[i+2]); ok {
					if lo, ok := unhex(b[i+3]); ok {
						dst = append(dst, hi<<4|lo)
						i += 3
						continue
					}
				}
			}
		}
		dst = append(dst, c)
	}
	return dst
}

func unescapeHeader(b []byte) []byte {
	if bytes.IndexByte(b, '\\') < 0 {
		return b
	}
	return appendUnescaped(nil, b)
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
