package obsindex

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// DefaultMaxEntries bounds the values one Collector holds before it
// spills them (about 200 bytes each).
const DefaultMaxEntries = 1 << 20

// Collector gathers the observations of one stream of events. It is not
// safe for concurrent use: give every worker its own and merge them (the
// store's PutObservations merges, as MergeAll does).
type Collector struct {
	// MaxEntries bounds the distinct raw values held (0 = DefaultMaxEntries);
	// when reached, the collector hands what it holds to Spill and starts
	// afresh. Without Spill it keeps growing.
	MaxEntries int
	Spill      func([]Observation) error

	strs map[strKey]*Observation
	ips  map[ipKey]*Observation
	err  error
	// per event
	ev     *telemetry.Event
	source string
}

type strKey struct {
	kind  telemetry.Kind
	f     field
	value string // raw, as the reader gave it
}

// ipKey holds the address as bytes: hashing a netip.Addr hashes its zone
// handle too, which a profile showed to be most of the cost.
type ipKey struct {
	kind telemetry.Kind
	f    field
	v4   bool
	a    [16]byte
}

// NewCollector returns an empty collector.
func NewCollector() *Collector {
	return &Collector{strs: map[strKey]*Observation{}, ips: map[ipKey]*Observation{}}
}

// Observe indexes the values of ev, citing ev.File as its source (for
// callers that name no logical source, such as a watcher of one file).
func (c *Collector) Observe(ev *telemetry.Event) { c.ObserveFrom(ev, ev.File) }

// ObserveFrom indexes the values of ev read from the logical source
// source (match.Sighting.Source). ev and its strings need not outlive the
// call.
func (c *Collector) ObserveFrom(ev *telemetry.Event, source string) {
	if c.strs == nil {
		c.strs, c.ips = map[strKey]*Observation{}, map[ipKey]*Observation{}
	}
	c.ev, c.source = ev, source
	visit(ev, c)
	c.ev = nil
	if limit := cmpOr(c.MaxEntries, DefaultMaxEntries); c.Spill != nil && len(c.strs)+len(c.ips) >= limit && c.err == nil {
		c.err = c.Spill(c.Flush())
	}
}

func cmpOr(a, b int) int {
	if a > 0 {
		return a
	}
	return b
}

// Err is the first error Spill returned.
func (c *Collector) Err() error { return c.err }

// Len is the number of distinct raw values held.
func (c *Collector) Len() int { return len(c.strs) + len(c.ips) }

func (c *Collector) kind() telemetry.Kind {
	if int(c.ev.Kind) >= maxKinds {
		return telemetry.KindOther
	}
	return c.ev.Kind
}

func (c *Collector) ip(f field, a netip.Addr) {
	a = a.Unmap()
	k := ipKey{kind: c.kind(), f: f, v4: a.Is4(), a: a.As16()}
	o := c.ips[k]
	if o == nil {
		a = a.WithZone("")
		o = &Observation{Type: ipType(a), Value: a.String(), Field: fieldNames[k.kind][f]}
		c.ips[k] = o
	}
	c.add(o, f)
}

func (c *Collector) str(f field, raw string) {
	k := strKey{c.kind(), f, raw}
	o := c.strs[k]
	if o == nil {
		// raw may share the reader's buffer, and so may what Normalize
		// returns of it: keep a copy of both
		k.value = strings.Clone(raw)
		t, v, ok := normalize(f, k.value)
		if !ok {
			c.strs[k] = invalid // not normalised again
			return
		}
		o = &Observation{Type: t, Value: v, Field: fieldNames[k.kind][f]}
		c.strs[k] = o
	}
	if o != invalid {
		c.add(o, f)
	}
}

// invalid marks a raw value that is no valid value of its field.
var invalid = &Observation{}

// url indexes the request's URL as the matcher builds it.
func (c *Collector) url(host, uri string) {
	raw := uri
	if !strings.Contains(uri, "://") {
		raw = "http://" + host + uri
	}
	c.str(fURL, raw)
}

// add counts one sighting of o by the current event.
func (c *Collector) add(o *Observation, f field) {
	ev := c.ev
	o.Count++
	if t := ev.Time; !t.IsZero() {
		if o.First.IsZero() || t.Before(o.First) {
			o.First = t
		}
		if t.After(o.Last) {
			o.Last = t
		}
	}
	host := ev.SrcIP
	if f == fSrcIP {
		host = ev.DstIP
	}
	if host.IsValid() {
		o.Hosts = insertHost(o.Hosts, host.Unmap())
	}
	o.Records = c.insertRecord(o.Records)
}

// insertHost adds a to the sorted bounded set hs.
func insertHost(hs []netip.Addr, a netip.Addr) []netip.Addr {
	i, found := slices.BinarySearchFunc(hs, a, netip.Addr.Compare)
	if found || i >= MaxHosts {
		return hs
	}
	if len(hs) == MaxHosts {
		hs = hs[:MaxHosts-1]
	}
	return slices.Insert(hs, i, a)
}

// insertRecord keeps the earliest MaxRecords-1 records and the latest,
// building the current event's Record only when it is kept.
func (c *Collector) insertRecord(rs []Record) []Record {
	ev := c.ev
	if n := len(rs); n == MaxRecords {
		// the common cases, decided by time alone: a later record (logs
		// mostly go forward) replaces the latest, one between the kept
		// earliest and the latest is dropped
		if ev.Time.After(rs[n-1].Time) {
			rs[n-1] = c.record()
			return rs
		}
		if ev.Time.After(rs[n-2].Time) && ev.Time.Before(rs[n-1].Time) {
			return rs
		}
	}
	probe := Record{Source: c.source, File: ev.File, Line: ev.Line, Offset: ev.Offset, Time: ev.Time}
	i, found := slices.BinarySearchFunc(rs, probe, compareRecords)
	if found {
		// one event naming the value twice (a DNS answer repeated)
		return rs
	}
	n := len(rs)
	switch {
	case n < MaxRecords:
	case i == n:
		rs[n-1] = c.record()
		return rs
	case i < MaxRecords-1:
		rs = slices.Delete(rs, MaxRecords-2, MaxRecords-1)
	default:
		return rs
	}
	return slices.Insert(rs, i, c.record())
}

func (c *Collector) record() Record {
	ev := c.ev
	return Record{Source: c.source, File: ev.File, Line: ev.Line, Offset: ev.Offset, Time: ev.Time,
		SrcIP: ev.SrcIP.Unmap(), DstIP: ev.DstIP.Unmap(), SrcPort: ev.SrcPort, DstPort: ev.DstPort}
}

// Flush returns what the collector holds, merged by key and sorted, and
// empties it.
func (c *Collector) Flush() []Observation {
	out := make([]Observation, 0, c.Len())
	for _, o := range c.strs {
		if o != invalid {
			out = append(out, *o)
		}
	}
	for _, o := range c.ips {
		out = append(out, *o)
	}
	c.strs, c.ips = map[strKey]*Observation{}, map[ipKey]*Observation{}
	return MergeAll(out)
}
