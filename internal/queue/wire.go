package queue

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/scan"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// Job is one piece of a scan for a worker. It travels as JSON.
type Job struct {
	Scan     string     `json:"scan"`     // scan id (hex)
	Index    int        `json:"index"`    // piece number within the scan
	Snapshot string     `json:"snapshot"` // matcher version: the snapshot bucket's object name
	Piece    scan.Piece `json:"piece"`
	// Object names the piece's bytes in the chunk bucket; empty means
	// the worker reads Piece.Path itself (shared storage).
	Object string `json:"object,omitempty"`
}

// maxJobBytes bounds a job message: a Zeek header block is at most 64 KiB.
const maxJobBytes = 256 << 10

// ErrBadMessage is wrapped by every decoding error.
var ErrBadMessage = errors.New("queue: bad message")

func badf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadMessage, fmt.Sprintf(format, args...))
}

// DecodeJob parses and checks a job message.
func DecodeJob(data []byte) (Job, error) {
	var j Job
	if len(data) > maxJobBytes {
		return j, badf("job of %d bytes, at most %d", len(data), maxJobBytes)
	}
	if err := json.Unmarshal(data, &j); err != nil {
		return j, badf("job: %v", err)
	}
	p := &j.Piece
	switch {
	case !validID(j.Scan):
		return j, badf("job: scan id %q", j.Scan)
	case j.Index < 0 || p.File < 0:
		return j, badf("job %d: negative index", j.Index)
	case j.Snapshot == "" || len(j.Snapshot) > 128:
		return j, badf("job %d: snapshot version %q", j.Index, j.Snapshot)
	case p.Path == "" || p.Format == "":
		return j, badf("job %d: no path or format", j.Index)
	case p.StartLine < 0 || p.StartOffset < 0 || p.Length < 0 || p.HeaderLines < 0:
		return j, badf("job %d: negative position", j.Index)
	case j.Object == "" && !p.Whole && p.Compressed:
		return j, badf("job %d: a chunk of a compressed file must come through the object store", j.Index)
	}
	return j, nil
}

func validID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Result is what a worker found in one piece: the counts, the sightings
// and, for the coordinator's behaviour analytics, the features of every
// event the analytics read.
type Result struct {
	Scan      string           `json:"scan"`
	Index     int              `json:"index"`
	File      int              `json:"file"`
	Path      string           `json:"path"` // the file as the coordinator opened it
	Worker    string           `json:"worker"`
	Counts    scan.PieceResult `json:"counts"`
	Sightings []match.Sighting `json:"sightings,omitempty"`
	// Features holds the events for the analytics (Kind, Time, position,
	// addresses, ports, protocol, sizes, DNS, HTTP host, TLS SNI): only
	// the fields behavior.Analyzer reads. Not in the JSON head.
	Features []telemetry.Event `json:"-"`
}

// Result messages: magic, uv head length, JSON head, uv event count,
// events (see appendFeatures).
const resultMagic = "WDQR1"

// EncodeResult appends r's message to dst.
func EncodeResult(dst []byte, r *Result) ([]byte, error) {
	head, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding result %d: %w", r.Index, err)
	}
	dst = append(dst, resultMagic...)
	dst = binary.AppendUvarint(dst, uint64(len(head)))
	dst = append(dst, head...)
	dst = binary.AppendUvarint(dst, uint64(len(r.Features)))
	for i := range r.Features {
		dst = appendFeatures(dst, &r.Features[i])
	}
	return dst, nil
}

// DecodeResult parses a result message; errors name the byte offset.
func DecodeResult(data []byte) (*Result, error) {
	if len(data) < len(resultMagic) || string(data[:len(resultMagic)]) != resultMagic {
		return nil, badf("result: not a result message")
	}
	d := &decoder{b: data, i: len(resultMagic)}
	n := d.uvarint()
	if d.err == nil && n > uint64(len(data)-d.i) {
		d.fail("head longer than the message")
	}
	if d.err != nil {
		return nil, d.err
	}
	r := &Result{}
	if err := json.Unmarshal(data[d.i:d.i+int(n)], r); err != nil {
		return nil, badf("result head at offset %d: %v", d.i, err)
	}
	d.i += int(n)
	if !validID(r.Scan) || r.Index < 0 || r.File < 0 {
		return nil, badf("result: scan %q piece %d file %d", r.Scan, r.Index, r.File)
	}
	count := d.uvarint()
	// every event takes at least minFeatureBytes: a count beyond that is a lie
	if d.err == nil && count > uint64(len(data)-d.i)/minFeatureBytes {
		d.fail(fmt.Sprintf("%d events cannot fit", count))
	}
	if d.err != nil {
		return nil, d.err
	}
	r.Features = make([]telemetry.Event, count)
	for i := range r.Features {
		d.features(&r.Features[i])
		if d.err != nil {
			return nil, d.err
		}
	}
	if d.i != len(data) {
		return nil, badf("result: %d bytes after the last event", len(data)-d.i)
	}
	return r, nil
}

// minFeatureBytes is the smallest encoded event.
const minFeatureBytes = 18

// Analysed reports whether the analytics read ev (the others only count).
func Analysed(ev *telemetry.Event) bool {
	switch ev.Kind {
	case telemetry.KindConn, telemetry.KindHTTP, telemetry.KindTLS, telemetry.KindDNS:
		return !ev.Time.IsZero()
	}
	return false
}

func appendFeatures(b []byte, ev *telemetry.Event) []byte {
	b = append(b, byte(ev.Kind))
	b = binary.AppendVarint(b, ev.Time.Unix())
	b = binary.AppendUvarint(b, uint64(ev.Time.Nanosecond()))
	b = binary.AppendVarint(b, ev.Line)
	b = binary.AppendVarint(b, ev.Offset)
	b = appendAddr(b, ev.SrcIP)
	b = appendAddr(b, ev.DstIP)
	b = binary.AppendUvarint(b, uint64(ev.SrcPort))
	b = binary.AppendUvarint(b, uint64(ev.DstPort))
	b = binary.AppendVarint(b, int64(ev.Duration))
	for _, v := range [...]int64{ev.SrcBytes, ev.DstBytes, ev.SrcPackets, ev.DstPackets} {
		b = binary.AppendVarint(b, v)
	}
	for _, s := range [...]string{ev.Proto, ev.Query, ev.QType, ev.RCode, ev.Host, ev.SNI} {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(ev.Answers)))
	for _, a := range ev.Answers {
		b = appendString(b, a)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendAddr(b []byte, a netip.Addr) []byte {
	raw, _ := a.MarshalBinary() // never fails
	b = binary.AppendUvarint(b, uint64(len(raw)))
	return append(b, raw...)
}

// decoder reads one message; the first error sticks and names the offset.
type decoder struct {
	b   []byte
	i   int
	err error
}

func (d *decoder) fail(msg string) {
	if d.err == nil {
		d.err = badf("offset %d: %s", d.i, msg)
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.i:])
	if n <= 0 {
		d.fail("bad number")
		return 0
	}
	d.i += n
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.i:])
	if n <= 0 {
		d.fail("bad number")
		return 0
	}
	d.i += n
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)-d.i) {
		d.fail("field longer than the message")
		return nil
	}
	v := d.b[d.i : d.i+int(n)]
	d.i += int(n)
	return v
}

func (d *decoder) str() string { return string(d.bytes()) }

func (d *decoder) features(ev *telemetry.Event) {
	if d.i >= len(d.b) {
		d.fail("event expected")
		return
	}
	ev.Kind = telemetry.Kind(d.b[d.i])
	d.i++
	sec, nsec := d.varint(), d.uvarint()
	if nsec >= 1e9 {
		d.fail("nanoseconds out of range")
	}
	ev.Time = time.Unix(sec, int64(nsec)).UTC()
	ev.Line, ev.Offset = d.varint(), d.varint()
	ev.SrcIP, ev.DstIP = d.addr(), d.addr()
	ev.SrcPort, ev.DstPort = d.port(), d.port()
	ev.Duration = time.Duration(d.varint())
	ev.SrcBytes, ev.DstBytes, ev.SrcPackets, ev.DstPackets = d.varint(), d.varint(), d.varint(), d.varint()
	ev.Proto, ev.Query, ev.QType, ev.RCode, ev.Host, ev.SNI = d.str(), d.str(), d.str(), d.str(), d.str(), d.str()
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)-d.i) {
		d.fail("more answers than bytes")
		return
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		ev.Answers = append(ev.Answers, d.str())
	}
}

func (d *decoder) addr() netip.Addr {
	raw := d.bytes()
	var a netip.Addr
	if d.err == nil {
		if err := a.UnmarshalBinary(raw); err != nil {
			d.fail("bad address")
		}
	}
	return a
}

func (d *decoder) port() uint16 {
	v := d.uvarint()
	if v > 65535 {
		d.fail("port out of range")
	}
	return uint16(v)
}
