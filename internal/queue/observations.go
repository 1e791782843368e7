package queue

import (
	"encoding/binary"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/obsindex"
)

// A result's observable index, after its sightings: the sources and
// files its records name, then each observation — its key through the
// section's numbering, first and last seen (unix ns, 0 for none), count,
// hosts, and its records in the store's own form (obsindex.AppendRecords)
// naming a source by its place in that list. Times keep the store's
// precision, so what the coordinator stores is what a local scan stores.

// minObservationBytes is the smallest encoded observation.
const minObservationBytes = 8

func appendObservations(dst []byte, list []obsindex.Observation) []byte {
	sources := obsindex.NewSourceTable() // ids 1, 2, … in the order first met
	d := newDict()
	var body, records []byte
	for i := range list {
		o := &list[i]
		body = d.str(body, string(o.Type))
		body = d.str(body, o.Value)
		body = d.str(body, o.Field)
		body = binary.AppendVarint(body, obsindex.UnixNano(o.First))
		body = binary.AppendVarint(body, obsindex.UnixNano(o.Last))
		body = binary.AppendVarint(body, o.Count)
		body = binary.AppendUvarint(body, uint64(len(o.Hosts)))
		for _, h := range o.Hosts {
			body = d.addr(body, h)
		}
		records = obsindex.AppendRecords(records[:0], o.Records, sources.ID)
		body = binary.AppendUvarint(body, uint64(len(records)))
		body = append(body, records...)
	}
	var names []obsindex.SourceKey
	_ = sources.TakeFresh(func(_ uint64, k obsindex.SourceKey) error { names = append(names, k); return nil })
	dst = binary.AppendUvarint(dst, uint64(len(names)))
	for _, k := range names {
		dst = appendString(appendString(dst, k.Source), k.File)
	}
	dst = binary.AppendUvarint(dst, uint64(len(list)))
	return append(dst, body...)
}

func (d *decoder) observations(r *Result) error {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)-d.i)/2 {
		d.fail("more sources than bytes")
	}
	sources := obsindex.NewSourceTable()
	for id := uint64(1); id <= n && d.err == nil; id++ {
		src := string(d.bytes())
		sources.Load(id, obsindex.SourceKey{Source: src, File: string(d.bytes())})
	}
	count := d.uvarint()
	if d.err == nil && count > uint64(len(d.b)-d.i)/minObservationBytes {
		d.fail("more observations than bytes")
	}
	if d.err != nil {
		return d.err
	}
	t := &table{}
	r.Observations = make([]obsindex.Observation, count)
	for i := range r.Observations {
		if d.observation(&r.Observations[i], t, sources.Name); d.err != nil {
			return d.err
		}
	}
	return nil
}

func (d *decoder) observation(o *obsindex.Observation, t *table, name func(uint64) (obsindex.SourceKey, bool)) {
	o.Type, o.Value, o.Field = intel.ValueType(d.dstr(t)), d.dstr(t), d.dstr(t)
	o.First, o.Last = obsindex.FromUnixNano(d.varint()), obsindex.FromUnixNano(d.varint())
	o.Count = d.varint()
	hosts := d.uvarint()
	if d.err == nil && hosts > obsindex.MaxHosts {
		d.fail("more hosts than an observation keeps")
	}
	for i := uint64(0); i < hosts && d.err == nil; i++ {
		o.Hosts = append(o.Hosts, d.daddr(t))
	}
	raw := d.bytes()
	if d.err != nil {
		return
	}
	var err error
	if o.Records, err = obsindex.DecodeRecords(raw, name); err != nil {
		d.i -= len(raw)
		d.fail(err.Error())
	}
}
