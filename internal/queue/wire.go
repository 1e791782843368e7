package queue

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"

	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/obsindex"
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
	// Encoding is how the object is compressed: encodingS2, or "" for
	// not at all.
	Encoding string `json:"encoding,omitempty"`
	// Observe asks for the piece's observable index in the result.
	Observe bool `json:"observe,omitempty"`
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
	case j.Encoding != "" && (j.Encoding != encodingS2 || j.Object == ""):
		return j, badf("job %d: encoding %q", j.Index, j.Encoding)
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
// event the analytics read (AddFeatures, EachFeature).
type Result struct {
	Scan      string           `json:"scan"`
	Index     int              `json:"index"`
	File      int              `json:"file"`
	Path      string           `json:"path"` // the file as the coordinator opened it
	Worker    string           `json:"worker"`
	Counts    scan.PieceResult `json:"counts"`
	Sightings []match.Sighting `json:"-"`
	// Observations is the piece's observable index (sorted, as
	// obsindex's Flush returns it) when the job asked for it.
	Observations []obsindex.Observation `json:"-"`
	feat         features
}

// Result messages: magic, uv head length, JSON head, uv event count, uv
// length of the events' bytes, the events (see AddFeatures), uv sighting
// count, the sightings (see appendSighting), the observations (see
// appendObservations). The head is JSON: it is
// small, and its counts and errors are read as they are written.
const resultMagic = "WDQR2"

// EncodeResult appends r's message to dst.
func EncodeResult(dst []byte, r *Result) ([]byte, error) {
	head, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding result %d: %w", r.Index, err)
	}
	dst = append(dst, resultMagic...)
	dst = binary.AppendUvarint(dst, uint64(len(head)))
	dst = append(dst, head...)
	dst = binary.AppendUvarint(dst, uint64(r.feat.n))
	dst = binary.AppendUvarint(dst, uint64(len(r.feat.b)))
	dst = append(dst, r.feat.b...)
	dst = binary.AppendUvarint(dst, uint64(len(r.Sightings)))
	d := newDict()
	for i := range r.Sightings {
		dst = appendSighting(dst, d, &r.Sightings[i])
	}
	return appendObservations(dst, r.Observations), nil
}

// DecodeResult parses and checks a whole result message; errors name
// the byte offset. Its events are decoded again, one at a time, by
// EachFeature.
func DecodeResult(data []byte) (*Result, error) {
	if len(data) < len(resultMagic) || string(data[:len(resultMagic)]) != resultMagic {
		return nil, badf("result: not a result message")
	}
	d := &decoder{b: data, i: len(resultMagic)}
	head := d.bytes()
	if d.err != nil {
		return nil, d.err
	}
	r := &Result{}
	if err := json.Unmarshal(head, r); err != nil {
		return nil, badf("result head at offset %d: %v", d.i-len(head), err)
	}
	if !validID(r.Scan) || r.Index < 0 || r.File < 0 {
		return nil, badf("result: scan %q piece %d file %d", r.Scan, r.Index, r.File)
	}
	if err := d.featureBlock(r); err != nil {
		return nil, err
	}
	if err := d.sightings(r); err != nil {
		return nil, err
	}
	if err := d.observations(r); err != nil {
		return nil, err
	}
	if d.i != len(data) {
		return nil, badf("result: %d bytes after the last observation", len(data)-d.i)
	}
	return r, nil
}

// featureBlock reads the events' section and checks every event in it,
// numbering its strings and addresses for EachFeature.
func (d *decoder) featureBlock(r *Result) error {
	count := d.uvarint()
	block := d.bytes()
	// every event takes at least minFeatureBytes: a count beyond that is a lie
	if d.err == nil && count > uint64(len(block))/minFeatureBytes {
		d.fail(fmt.Sprintf("%d events cannot fit in %d bytes", count, len(block)))
	}
	if d.err != nil {
		return d.err
	}
	r.feat = features{n: int(count), b: block, tab: &table{}}
	// read where it lies in the message, so that errors name its offsets
	check := &decoder{b: d.b[:d.i], i: d.i - len(block)}
	var ev telemetry.Event
	var prev event
	for i := 0; i < r.feat.n && check.err == nil; i++ {
		check.features(&ev, &prev, r.feat.tab)
	}
	if check.err == nil && check.i != d.i {
		check.fail("bytes after the last event")
	}
	return check.err
}

func (d *decoder) sightings(r *Result) error {
	count := d.uvarint()
	if d.err == nil && count > uint64(len(d.b)-d.i)/minSightingBytes {
		d.fail(fmt.Sprintf("%d sightings cannot fit", count))
	}
	if d.err != nil {
		return d.err
	}
	r.Sightings = make([]match.Sighting, count)
	t := &table{}
	for i := range r.Sightings {
		if d.sighting(&r.Sightings[i], t); d.err != nil {
			return d.err
		}
	}
	return nil
}

// Analysed reports whether the analytics read ev (the others only count).
func Analysed(ev *telemetry.Event) bool {
	switch ev.Kind {
	case telemetry.KindConn, telemetry.KindHTTP, telemetry.KindTLS, telemetry.KindDNS:
		return !ev.Time.IsZero()
	}
	return false
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
