package queue

import (
	"encoding/binary"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// A result's sightings, after its events: each a byte of flags, its
// strings and addresses through the section's numbering, its time, kind,
// position and ports.
const (
	sightSuppressed = 1 << iota
	sightRetrospective
	sightNoTime
)

// minSightingBytes is the smallest encoded sighting.
const minSightingBytes = 16

func appendSighting(b []byte, d *dict, s *match.Sighting) []byte {
	var flags byte
	if s.Suppressed {
		flags |= sightSuppressed
	}
	if s.Retrospective {
		flags |= sightRetrospective
	}
	if s.Time.IsZero() {
		flags |= sightNoTime
	}
	b = append(b, flags)
	for _, v := range [...]string{s.IndicatorID, s.Snapshot, string(s.Type), s.Indicator, s.Field, s.Value, s.Direction,
		s.Warninglist, s.Source, s.File, s.UID} {
		b = d.str(b, v)
	}
	if !s.Time.IsZero() {
		b = binary.AppendVarint(b, s.Time.Unix())
		b = binary.AppendUvarint(b, uint64(s.Time.Nanosecond()))
	}
	b = binary.AppendUvarint(b, uint64(s.Kind))
	b = binary.AppendVarint(b, s.Line)
	b = binary.AppendVarint(b, s.Offset)
	b = d.addr(b, s.SrcIP)
	b = d.addr(b, s.DstIP)
	b = binary.AppendUvarint(b, uint64(s.SrcPort))
	return binary.AppendUvarint(b, uint64(s.DstPort))
}

func (d *decoder) sighting(s *match.Sighting, t *table) {
	if d.i >= len(d.b) {
		d.fail("sighting expected")
		return
	}
	flags := d.b[d.i]
	d.i++
	if flags&^(sightSuppressed|sightRetrospective|sightNoTime) != 0 {
		d.fail("unknown sighting flags")
		return
	}
	s.Suppressed, s.Retrospective = flags&sightSuppressed != 0, flags&sightRetrospective != 0
	s.IndicatorID, s.Snapshot, s.Type, s.Indicator = d.dstr(t), d.dstr(t), intel.ValueType(d.dstr(t)), d.dstr(t)
	s.Field, s.Value, s.Direction, s.Warninglist = d.dstr(t), d.dstr(t), d.dstr(t), d.dstr(t)
	s.Source, s.File, s.UID = d.dstr(t), d.dstr(t), d.dstr(t)
	if flags&sightNoTime == 0 {
		sec, nsec := d.varint(), d.uvarint()
		if nsec >= 1e9 {
			d.fail("nanoseconds out of range")
		}
		s.Time = time.Unix(sec, int64(nsec)).UTC()
	}
	kind := d.uvarint()
	if kind > 255 {
		d.fail("kind out of range")
	}
	s.Kind = telemetry.Kind(kind)
	s.Line, s.Offset = d.varint(), d.varint()
	s.SrcIP, s.DstIP = d.daddr(t), d.daddr(t)
	s.SrcPort, s.DstPort = d.port(), d.port()
}
