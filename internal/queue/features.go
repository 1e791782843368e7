package queue

import (
	"encoding/binary"
	"time"

	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// features is a result's events for the behaviour analytics, encoded as
// the worker reads them (no copy of an event is held) and decoded one at
// a time into the same Event at the coordinator. Each event holds only
// the fields behavior.Analyzer reads: kind, time, position, addresses,
// ports, protocol, duration, sizes, DNS query, type, code and answers,
// HTTP host, TLS SNI. Times, lines and offsets are written as the change
// from the event before.
type features struct {
	n   int
	b   []byte
	enc *dict  // writing
	tab *table // read: filled by DecodeResult's check
	// the event before, while writing
	sec, line, off int64
}

// minFeatureBytes is the smallest encoded event: a count of events
// beyond the bytes left over it is a lie.
const minFeatureBytes = 20

// AddFeatures appends the analysed fields of ev (see Analysed).
func (r *Result) AddFeatures(ev *telemetry.Event) {
	f := &r.feat
	if f.enc == nil {
		f.enc = newDict()
	}
	b := append(f.b, byte(ev.Kind))
	sec := ev.Time.Unix()
	b = binary.AppendVarint(b, sec-f.sec)
	b = binary.AppendUvarint(b, uint64(ev.Time.Nanosecond()))
	b = binary.AppendVarint(b, ev.Line-f.line)
	b = binary.AppendVarint(b, ev.Offset-f.off)
	f.sec, f.line, f.off = sec, ev.Line, ev.Offset
	b = f.enc.addrAt(b, 0, ev.SrcIP)
	b = f.enc.addrAt(b, 1, ev.DstIP)
	b = binary.AppendUvarint(b, uint64(ev.SrcPort))
	b = binary.AppendUvarint(b, uint64(ev.DstPort))
	b = binary.AppendVarint(b, int64(ev.Duration))
	for _, v := range [...]int64{ev.SrcBytes, ev.DstBytes, ev.SrcPackets, ev.DstPackets} {
		b = binary.AppendVarint(b, v)
	}
	for i, s := range [...]string{ev.Proto, ev.Query, ev.QType, ev.RCode, ev.Host, ev.SNI} {
		b = f.enc.strAt(b, i, s)
	}
	b = binary.AppendUvarint(b, uint64(len(ev.Answers)))
	for _, a := range ev.Answers {
		b = f.enc.str(b, a)
	}
	f.b = b
	f.n++
}

// FeatureCount is the number of events the result holds for the analytics.
func (r *Result) FeatureCount() int { return r.feat.n }

// EachFeature calls fn with every event in turn, decoded into one Event
// that fn must not keep. A result DecodeResult accepted decodes without
// error.
func (r *Result) EachFeature(fn func(*telemetry.Event)) error {
	f := &r.feat
	t := f.tab
	if t == nil {
		t = &table{}
	}
	t.rewind()
	d := &decoder{b: f.b}
	var ev telemetry.Event
	var prev event
	for i := 0; i < f.n; i++ {
		d.features(&ev, &prev, t)
		if d.err != nil {
			return d.err
		}
		fn(&ev)
	}
	if d.i != len(f.b) {
		return badf("result: %d bytes after the last event", len(f.b)-d.i)
	}
	return nil
}

// event is what an event's encoding is relative to, the one before, and
// the answers' slice the decoded events share.
type event struct {
	sec, line, off int64
	answers        []string
}

// features decodes one event into ev, reusing its answers' slice.
func (d *decoder) features(ev *telemetry.Event, prev *event, t *table) {
	if d.i >= len(d.b) {
		d.fail("event expected")
		return
	}
	answers := prev.answers[:0]
	*ev = telemetry.Event{Kind: telemetry.Kind(d.b[d.i])}
	d.i++
	prev.sec += d.varint()
	nsec := d.uvarint()
	if nsec >= 1e9 {
		d.fail("nanoseconds out of range")
	}
	ev.Time = time.Unix(prev.sec, int64(nsec)).UTC()
	prev.line += d.varint()
	prev.off += d.varint()
	ev.Line, ev.Offset = prev.line, prev.off
	ev.SrcIP, ev.DstIP = d.daddr(t), d.daddr(t)
	ev.SrcPort, ev.DstPort = d.port(), d.port()
	ev.Duration = time.Duration(d.varint())
	ev.SrcBytes, ev.DstBytes, ev.SrcPackets, ev.DstPackets = d.varint(), d.varint(), d.varint(), d.varint()
	ev.Proto, ev.Query, ev.QType, ev.RCode, ev.Host, ev.SNI = d.dstr(t), d.dstr(t), d.dstr(t), d.dstr(t), d.dstr(t), d.dstr(t)
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)-d.i) {
		d.fail("more answers than bytes")
		return
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		answers = append(answers, d.dstr(t))
	}
	if prev.answers = answers; len(answers) > 0 {
		ev.Answers = answers
	}
}
