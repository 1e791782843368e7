package match

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// The inputs stream holds everything a Snapshot is built from — the
// options that change answers, the warninglists and the indicators in the
// lean form the store's MatchIndicators streams — so that a worker on
// another machine builds the same snapshot (same Version, same sightings)
// as the coordinator. It is written and read one indicator at a time.
//
// Format, version 1. Integers are unsigned LEB128 varints ("uv") or
// zig-zag signed varints ("sv"); a string is a uv length and its bytes; a
// time is a byte 0 (zero time) or 1 followed by sv Unix seconds and uv
// nanoseconds (< 1e9).
//
//	stream     = magic "WDMINPUT", uv format version (1), record*
//	record     = kind byte, uv payload length, payload
//	'O' options     uv flags (bit 0: STIX patterns are compiled)
//	'H' size hint   uv indicators expected (optional, before any 'I')
//	'L' warninglist name, match type, category, description, sv version,
//	                uv n + n attribute strings, uv n + n entry strings
//	'I' indicator   id, type, flags byte (1 revoked, 2 has an indicator
//	                spec, 4 host-only, 8 context), modified time; with a
//	                spec: pattern type, pattern, valid-from, valid-until,
//	                uv n + n warninglist names, uv n + n observables
//	                (type, value, sv port, issuer)
//	'E' end         uv number of 'L' records, uv number of 'I' records
//
// 'O' comes first and once; 'H' and 'L' records precede every 'I'; 'E' is
// last and nothing follows it, so a truncated stream is an error. Fields
// of an intel.Object that the matcher does not read are not carried.
const (
	inputsMagic   = "WDMINPUT"
	inputsVersion = 1

	recOptions   = 'O'
	recSizeHint  = 'H'
	recList      = 'L'
	recIndicator = 'I'
	recEnd       = 'E'

	optPatterns = 1 << 0

	indRevoked  = 1 << 0
	indSpec     = 1 << 1
	indHostOnly = 1 << 2
	indContext  = 1 << 3

	// maxRecord bounds one record; a warninglist of a million entries
	// fits with room to spare.
	maxRecord = 1 << 30
)

// InputWriter writes an inputs stream. Write the options and warninglists
// with NewInputWriter, then every indicator with Add, then Close.
type InputWriter struct {
	w          *bufio.Writer
	buf        []byte
	lists, ind uint64
	closed     bool
}

// NewInputWriter starts an inputs stream on w for a snapshot built with
// opt: it writes the options and opt.Warninglists. opt.Patterns is
// recorded as "patterns are compiled"; the reader supplies its own
// compiler. An opaque opt.Suppress cannot be written.
func NewInputWriter(w io.Writer, opt Options) (*InputWriter, error) {
	if opt.Suppress != nil {
		return nil, errors.New("match inputs: an opaque Options.Suppress cannot be written; pass Options.Warninglists")
	}
	iw := &InputWriter{w: bufio.NewWriterSize(w, 256<<10)}
	iw.w.WriteString(inputsMagic)
	iw.w.Write(binary.AppendUvarint(nil, inputsVersion))
	var flags uint64
	if opt.Patterns != nil {
		flags |= optPatterns
	}
	if err := iw.record(recOptions, binary.AppendUvarint(iw.buf[:0], flags)); err != nil {
		return nil, err
	}
	for _, l := range opt.Warninglists {
		if l == nil {
			continue
		}
		if err := iw.record(recList, appendList(iw.buf[:0], l)); err != nil {
			return nil, err
		}
		iw.lists++
	}
	return iw, nil
}

// Grow records how many indicators will follow, so that the reader's
// Builder sizes its tables once. It must come before the first Add.
func (iw *InputWriter) Grow(n int) error {
	if iw.ind > 0 || iw.closed {
		return errors.New("match inputs: Grow after Add")
	}
	return iw.record(recSizeHint, binary.AppendUvarint(iw.buf[:0], uint64(max(n, 0))))
}

// Add writes one object (as Builder.Add would take it).
func (iw *InputWriter) Add(o *intel.Object) error {
	if iw.closed {
		return errors.New("match inputs: Add after Close")
	}
	if o == nil {
		return errors.New("match inputs: nil object")
	}
	iw.ind++
	return iw.record(recIndicator, appendObject(iw.buf[:0], o))
}

// Close writes the end record and flushes; it does not close the
// underlying writer.
func (iw *InputWriter) Close() error {
	if iw.closed {
		return nil
	}
	iw.closed = true
	p := binary.AppendUvarint(iw.buf[:0], iw.lists)
	p = binary.AppendUvarint(p, iw.ind)
	if err := iw.record(recEnd, p); err != nil {
		return err
	}
	return iw.w.Flush()
}

func (iw *InputWriter) record(kind byte, payload []byte) error {
	iw.buf = payload[:0] // keep the grown buffer for the next record
	if len(payload) > maxRecord {
		return fmt.Errorf("match inputs: record of %d bytes, at most %d", len(payload), maxRecord)
	}
	var head [1 + binary.MaxVarintLen64]byte
	head[0] = kind
	n := binary.PutUvarint(head[1:], uint64(len(payload)))
	iw.w.Write(head[:1+n])
	_, err := iw.w.Write(payload)
	return err
}

// WriteInputs writes a whole inputs stream for Compile(indicators, opt).
func WriteInputs(w io.Writer, indicators []*intel.Object, opt Options) error {
	iw, err := NewInputWriter(w, opt)
	if err != nil {
		return err
	}
	if err := iw.Grow(len(indicators)); err != nil {
		return err
	}
	for _, o := range indicators {
		if err := iw.Add(o); err != nil {
			return err
		}
	}
	return iw.Close()
}

func appendString(p []byte, s string) []byte {
	return append(binary.AppendUvarint(p, uint64(len(s))), s...)
}

func appendStrings(p []byte, ss []string) []byte {
	p = binary.AppendUvarint(p, uint64(len(ss)))
	for _, s := range ss {
		p = appendString(p, s)
	}
	return p
}

func appendTime(p []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(p, 0)
	}
	p = append(p, 1)
	p = binary.AppendVarint(p, t.Unix())
	return binary.AppendUvarint(p, uint64(t.Nanosecond()))
}

func appendList(p []byte, l *intel.Warninglist) []byte {
	p = appendString(p, l.Name)
	p = appendString(p, l.MatchType)
	p = appendString(p, l.Category)
	p = appendString(p, l.Description)
	p = binary.AppendVarint(p, int64(l.Version))
	p = appendStrings(p, l.Attributes)
	return appendStrings(p, l.Entries)
}

func appendObject(p []byte, o *intel.Object) []byte {
	p = appendString(p, o.ID)
	p = appendString(p, o.Type)
	var flags byte
	if o.Revoked {
		flags |= indRevoked
	}
	spec := o.Indicator
	if spec != nil {
		flags |= indSpec
		if spec.HostOnly {
			flags |= indHostOnly
		}
		if spec.Context {
			flags |= indContext
		}
	}
	p = append(p, flags)
	p = appendTime(p, o.Modified)
	if spec == nil {
		return p
	}
	p = appendString(p, spec.PatternType)
	p = appendString(p, spec.Pattern)
	p = appendTime(p, spec.ValidFrom)
	p = appendTime(p, spec.ValidUntil)
	p = appendStrings(p, spec.Warninglists)
	p = binary.AppendUvarint(p, uint64(len(spec.Observables)))
	for _, ob := range spec.Observables {
		p = appendString(p, string(ob.Type))
		p = appendString(p, ob.Value)
		p = binary.AppendVarint(p, int64(ob.Port))
		p = appendString(p, ob.Issuer)
	}
	return p
}

// InputError is a malformed inputs stream: what is wrong and at which
// byte offset of the stream.
type InputError struct {
	Offset int64
	Msg    string
}

func (e *InputError) Error() string {
	return fmt.Sprintf("match inputs: offset %d: %s", e.Offset, e.Msg)
}

// InputReader reads an inputs stream: NewInputReader reads the options
// and warninglists, Next every indicator.
type InputReader struct {
	r        *bufio.Reader
	off      int64 // offset of the next unread byte
	patterns bool
	hint     int
	lists    []*intel.Warninglist
	ind      uint64
	buf      []byte
	// a record NewInputReader read ahead (the first after the lists)
	pendKind byte
	pending  *decoder
	done     bool
}

// NewInputReader checks the stream's header and reads its options and
// warninglists.
func NewInputReader(r io.Reader) (*InputReader, error) {
	ir := &InputReader{r: bufio.NewReaderSize(r, 256<<10)}
	var magic [len(inputsMagic)]byte
	n, err := io.ReadFull(ir.r, magic[:])
	ir.off += int64(n)
	if err != nil || string(magic[:]) != inputsMagic {
		return nil, &InputError{0, "not a whodunit matcher inputs stream"}
	}
	v, err := ir.uvarint()
	if err != nil {
		return nil, err
	}
	if v != inputsVersion {
		return nil, &InputError{int64(len(inputsMagic)), fmt.Sprintf("format version %d, this program reads %d", v, inputsVersion)}
	}
	kind, d, err := ir.next()
	if err != nil {
		return nil, err
	}
	if kind != recOptions {
		return nil, &InputError{d.rec, fmt.Sprintf("record %q where the options record must come first", kind)}
	}
	flags := d.uvarint()
	if err := d.finish(); err != nil {
		return nil, err
	}
	if flags&^optPatterns != 0 {
		return nil, &InputError{d.base, fmt.Sprintf("unknown option flags %#x", flags)}
	}
	ir.patterns = flags&optPatterns != 0
	for {
		kind, d, err := ir.next()
		if err != nil {
			return nil, err
		}
		switch kind {
		case recSizeHint:
			n := d.uvarint()
			if err := d.finish(); err != nil {
				return nil, err
			}
			ir.hint = int(min(n, 1<<31))
		case recList:
			l := d.list()
			if err := d.finish(); err != nil {
				return nil, err
			}
			ir.lists = append(ir.lists, l)
		default:
			ir.pendKind, ir.pending = kind, d
			return ir, nil
		}
	}
}

// Warninglists are the stream's warninglists, in the order written.
func (ir *InputReader) Warninglists() []*intel.Warninglist { return ir.lists }

// Patterns reports whether the snapshot compiles STIX patterns.
func (ir *InputReader) Patterns() bool { return ir.patterns }

// SizeHint is the number of indicators the writer announced, 0 if none.
func (ir *InputReader) SizeHint() int { return ir.hint }

// Options are the Options to build the stream's snapshot with. pc
// compiles the STIX patterns when the stream says they are compiled (it
// is ignored otherwise); it must then not be nil.
func (ir *InputReader) Options(pc PatternCompiler) (Options, error) {
	opt := Options{Warninglists: ir.lists}
	if ir.patterns {
		if pc == nil {
			return Options{}, errors.New("match inputs: the snapshot compiles STIX patterns; a PatternCompiler is needed")
		}
		opt.Patterns = pc
	}
	return opt, nil
}

// Next returns the next object, or io.EOF after the end record (whose
// counts it checks).
func (ir *InputReader) Next() (*intel.Object, error) {
	if ir.done {
		return nil, io.EOF
	}
	var kind byte
	var d *decoder
	if ir.pending != nil {
		kind, d = ir.pendKind, ir.pending
		ir.pending = nil
	} else {
		var err error
		if kind, d, err = ir.next(); err != nil {
			return nil, err
		}
	}
	switch kind {
	case recIndicator:
		o := d.object()
		if err := d.finish(); err != nil {
			return nil, err
		}
		ir.ind++
		return o, nil
	case recEnd:
		lists, inds := d.uvarint(), d.uvarint()
		if err := d.finish(); err != nil {
			return nil, err
		}
		if lists != uint64(len(ir.lists)) || inds != ir.ind {
			return nil, &InputError{d.base, fmt.Sprintf("end record counts %d warninglists and %d indicators, the stream held %d and %d", lists, inds, len(ir.lists), ir.ind)}
		}
		if _, err := ir.r.ReadByte(); err != io.EOF {
			return nil, &InputError{ir.off, "data after the end record"}
		}
		ir.done = true
		return nil, io.EOF
	default:
		return nil, &InputError{d.rec, fmt.Sprintf("unexpected record %q among the indicators", kind)}
	}
}

// next reads one record header and payload.
func (ir *InputReader) next() (byte, *decoder, error) {
	start := ir.off
	kind, err := ir.r.ReadByte()
	if err == io.EOF {
		return 0, nil, &InputError{start, "stream ends without its end record (truncated?)"}
	} else if err != nil {
		return 0, nil, &InputError{start, err.Error()}
	}
	ir.off++
	n, err := ir.uvarint()
	if err != nil {
		return 0, nil, err
	}
	if n > maxRecord {
		return 0, nil, &InputError{start, fmt.Sprintf("record of %d bytes, at most %d", n, maxRecord)}
	}
	base := ir.off
	ir.buf, err = readN(ir.r, ir.buf[:0], int(n))
	ir.off += int64(len(ir.buf))
	if err != nil {
		return 0, nil, &InputError{ir.off, fmt.Sprintf("record %q at offset %d: truncated after %d of %d bytes", kind, start, len(ir.buf), n)}
	}
	return kind, &decoder{b: ir.buf, base: base, rec: start}, nil
}

// readN appends n bytes from r to dst. It grows dst as data arrives, so a
// hostile length does not allocate beyond what the stream holds.
func readN(r io.Reader, dst []byte, n int) ([]byte, error) {
	const step = 1 << 20
	for len(dst) < n {
		k := min(n-len(dst), step)
		if cap(dst)-len(dst) < k {
			dst = append(dst, make([]byte, k)...)[:len(dst)]
		}
		m, err := io.ReadFull(r, dst[len(dst):len(dst)+k])
		dst = dst[:len(dst)+m]
		if err != nil {
			return dst, err
		}
	}
	return dst, nil
}

func (ir *InputReader) uvarint() (uint64, error) {
	start := ir.off
	var x uint64
	for i := 0; i < binary.MaxVarintLen64; i++ {
		c, err := ir.r.ReadByte()
		if err != nil {
			return 0, &InputError{start, "stream ends inside a number"}
		}
		ir.off++
		if i == binary.MaxVarintLen64-1 && c > 1 {
			break
		}
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return x, nil
		}
	}
	return 0, &InputError{start, "number overflows 64 bits"}
}

// BuildFromInputs builds the snapshot an inputs stream describes; pc
// compiles its STIX patterns, if it has any (see InputReader.Options).
func BuildFromInputs(r io.Reader, pc PatternCompiler) (*Snapshot, error) {
	ir, err := NewInputReader(r)
	if err != nil {
		return nil, err
	}
	opt, err := ir.Options(pc)
	if err != nil {
		return nil, err
	}
	b := NewBuilder(opt)
	b.Grow(ir.SizeHint())
	for {
		o, err := ir.Next()
		if err == io.EOF {
			return b.Build()
		}
		if err != nil {
			return nil, err
		}
		b.Add(o)
	}
}

// decoder reads the fields of one record payload; the first error sticks
// and names the offset of the field in the stream.
type decoder struct {
	b    []byte
	i    int
	base int64 // stream offset of b[0]
	rec  int64 // stream offset of the record's kind byte
	err  error
}

func (d *decoder) fail(msg string) {
	if d.err == nil {
		d.err = &InputError{d.base + int64(d.i), msg}
	}
}

// finish reports the first error, or bytes left over in the record.
func (d *decoder) finish() error {
	if d.err == nil && d.i != len(d.b) {
		d.fail(fmt.Sprintf("%d unexpected bytes at the end of a record", len(d.b)-d.i))
	}
	return d.err
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Uvarint(d.b[d.i:])
	if n <= 0 {
		d.fail("bad or truncated number")
		return 0
	}
	d.i += n
	return x
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Varint(d.b[d.i:])
	if n <= 0 {
		d.fail("bad or truncated number")
		return 0
	}
	d.i += n
	return x
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.i >= len(d.b) {
		d.fail("record ends early")
		return 0
	}
	d.i++
	return d.b[d.i-1]
}

func (d *decoder) str() string {
	at := d.i
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)-d.i) {
		d.i = at
		d.fail(fmt.Sprintf("string of %d bytes runs past the end of its record", n))
		return ""
	}
	s := string(d.b[d.i : d.i+int(n)])
	d.i += int(n)
	return s
}

// count reads a number of items that each take at least one byte.
func (d *decoder) count() int {
	at := d.i
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)-d.i) {
		d.i = at
		d.fail(fmt.Sprintf("count %d is more than the record can hold", n))
		return 0
	}
	return int(n)
}

func (d *decoder) strs() []string {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for k := 0; k < n && d.err == nil; k++ {
		out = append(out, d.str())
	}
	return out
}

func (d *decoder) time() time.Time {
	switch d.byte() {
	case 0:
		return time.Time{}
	case 1:
		sec, at := d.varint(), d.i
		nsec := d.uvarint()
		if nsec >= 1e9 {
			d.i = at
			d.fail(fmt.Sprintf("nanoseconds %d out of range", nsec))
			return time.Time{}
		}
		return time.Unix(sec, int64(nsec)).UTC()
	default:
		d.i--
		d.fail("bad time marker")
		return time.Time{}
	}
}

func (d *decoder) list() *intel.Warninglist {
	l := &intel.Warninglist{Name: d.str(), MatchType: d.str(), Category: d.str(), Description: d.str()}
	at := d.i
	v := d.varint()
	if v < math.MinInt32 || v > math.MaxInt32 {
		d.i = at
		d.fail(fmt.Sprintf("list version %d out of range", v))
	}
	l.Version = int(v)
	l.Attributes = d.strs()
	l.Entries = d.strs()
	return l
}

// leanObject holds a decoded indicator in one allocation: the object, its
// spec and room for the one observable most indicators have.
type leanObject struct {
	o    intel.Object
	spec intel.IndicatorSpec
	obs  [1]intel.Observable
}

// known interns the few strings most records repeat (object, value and
// pattern types), so decoding them allocates nothing.
func (d *decoder) known() string {
	at := d.i
	n := d.uvarint()
	if d.err != nil || n == 0 || n > 32 || n > uint64(len(d.b)-d.i) {
		d.i = at
		return d.str()
	}
	b := d.b[d.i : d.i+int(n)]
	for _, t := range intel.ValueTypes {
		if string(t) == string(b) {
			d.i += int(n)
			return string(t)
		}
	}
	for _, k := range [...]string{intel.TypeIndicator, "stix", "zeek-intel", "misp", "openioc", "plain"} {
		if k == string(b) {
			d.i += int(n)
			return k
		}
	}
	d.i = at
	return d.str()
}

func (d *decoder) object() *intel.Object {
	lean := &leanObject{}
	o := &lean.o
	o.ID, o.Type, o.Confidence = d.str(), d.known(), -1
	at := d.i
	flags := d.byte()
	if flags&^(indRevoked|indSpec|indHostOnly|indContext) != 0 {
		d.i = at
		d.fail(fmt.Sprintf("unknown indicator flags %#x", flags))
	}
	o.Revoked = flags&indRevoked != 0
	o.Modified = d.time()
	if flags&indSpec == 0 {
		return o
	}
	spec := &lean.spec
	spec.HostOnly, spec.Context = flags&indHostOnly != 0, flags&indContext != 0
	o.Indicator = spec
	spec.PatternType, spec.Pattern = d.known(), d.str()
	spec.ValidFrom, spec.ValidUntil = d.time(), d.time()
	spec.Warninglists = d.strs()
	n := d.count()
	switch {
	case n == 1:
		spec.Observables = lean.obs[:0]
	case n > 1:
		spec.Observables = make([]intel.Observable, 0, n)
	}
	for k := 0; k < n && d.err == nil; k++ {
		ob := intel.Observable{Type: intel.ValueType(d.known()), Value: d.str()}
		at := d.i
		port := d.varint()
		if port < math.MinInt32 || port > math.MaxInt32 {
			d.i = at
			d.fail(fmt.Sprintf("port %d out of range", port))
		}
		ob.Port = int(port)
		ob.Issuer = d.str()
		spec.Observables = append(spec.Observables, ob)
	}
	return o
}
