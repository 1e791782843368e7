package obsindex

import (
	"net/netip"
	"slices"
	"strings"
	"unsafe"

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

	strs map[strKey]*strSlot
	ips  map[ipKey]*entry
	// lastIP and lastStr are, per field, what the previous sighting
	// named: a log repeats a value from one record to the next, and
	// comparing it is cheaper than hashing it
	lastIP  [numFields]*entry
	lastStr [numFields]*strSlot
	urlBuf  []byte
	err     error
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

// entry is one observation being gathered.
type entry struct {
	obs Observation
	ip  ipKey // of an address's entry
	// lastHost is the host added last: a value is mostly seen from one
	// host many times in a row, and adding it again changes nothing
	lastHost netip.Addr
}

// strSlot is what a raw string value stands for, decided (and
// normalised) once: an entry of its own, an alias of another entry (a
// host-like value naming an address, or a name with a port), or nothing
// (e == nil: no valid value of its field).
type strSlot struct {
	key   strKey // its value a copy of the reader's
	e     *entry
	alias bool // e is held, and flushed, under another key
}

// NewCollector returns an empty collector.
func NewCollector() *Collector {
	c := &Collector{}
	c.reset()
	return c
}

func (c *Collector) reset() {
	c.strs, c.ips = map[strKey]*strSlot{}, map[ipKey]*entry{}
	c.lastIP, c.lastStr = [numFields]*entry{}, [numFields]*strSlot{}
}

// Observe indexes the values of ev, citing ev.File as its source (for
// callers that name no logical source, such as a watcher of one file).
func (c *Collector) Observe(ev *telemetry.Event) { c.ObserveFrom(ev, ev.File) }

// ObserveFrom indexes the values of ev read from the logical source
// source (match.Sighting.Source). ev and its strings need not outlive the
// call.
func (c *Collector) ObserveFrom(ev *telemetry.Event, source string) {
	if c.strs == nil {
		c.reset()
	}
	c.ev, c.source = ev, source
	visit(ev, c)
	c.ev = nil
	if limit := cmpOr(c.MaxEntries, DefaultMaxEntries); c.Spill != nil && c.Len() >= limit && c.err == nil {
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

func (c *Collector) ip(f field, a netip.Addr) { c.add(c.ipEntry(f, a), f) }

// ipEntry is the entry of address a in field f, made when new.
func (c *Collector) ipEntry(f field, a netip.Addr) *entry {
	a = a.Unmap()
	k := ipKey{kind: c.kind(), f: f, v4: a.Is4(), a: a.As16()}
	if e := c.lastIP[f]; e != nil && e.ip == k {
		return e
	}
	e := c.ips[k]
	if e == nil {
		a = a.WithZone("")
		e = &entry{ip: k, obs: Observation{Type: ipType(a), Value: a.String(), Field: fieldNames[k.kind][f]}}
		c.ips[k] = e
	}
	c.lastIP[f] = e
	return e
}

func (c *Collector) str(f field, raw string) { c.sight(f, raw, false) }

func (c *Collector) host(f field, raw string) { c.sight(f, raw, true) }

// sight counts the raw value of field f; hostLike values are read by
// splitHost first.
func (c *Collector) sight(f field, raw string, hostLike bool) {
	if s := c.slot(f, raw, hostLike); s.e != nil {
		c.add(s.e, f)
	}
}

// slot is what raw stands for in field f, decided when new.
func (c *Collector) slot(f field, raw string, hostLike bool) *strSlot {
	kind := c.kind()
	if s := c.lastStr[f]; s != nil && s.key.kind == kind && s.key.value == raw {
		return s
	}
	s := c.strs[strKey{kind, f, raw}]
	if s == nil {
		// raw may share the reader's buffer, and so may what Normalize
		// returns of it: keep a copy of both
		s = &strSlot{key: strKey{kind, f, strings.Clone(raw)}}
		c.decide(s, hostLike)
		c.strs[s.key] = s
	}
	c.lastStr[f] = s
	return s
}

// decide sets what the new slot s stands for.
func (c *Collector) decide(s *strSlot, hostLike bool) {
	f, name := s.key.f, s.key.value
	if hostLike {
		var a netip.Addr
		if a, name = splitHost(name); a.IsValid() {
			s.e, s.alias = c.ipEntry(f, a), true
			return
		}
		if name != s.key.value {
			if name != "" {
				s.e, s.alias = c.slot(f, name, true).e, true
			}
			return
		}
	}
	if t, v, ok := normalize(f, name); ok {
		s.e = &entry{obs: Observation{Type: t, Value: v, Field: fieldNames[s.key.kind][f]}}
	}
}

// url indexes the request's URL as the matcher builds it.
func (c *Collector) url(host, uri string) {
	if strings.Contains(uri, "://") {
		c.str(fURL, uri)
		return
	}
	// built in a buffer of the collector's, not a new string per event:
	// str keeps only a copy of a value it had not seen
	c.urlBuf = append(append(append(c.urlBuf[:0], "http://"...), host...), uri...)
	c.str(fURL, unsafe.String(unsafe.SliceData(c.urlBuf), len(c.urlBuf)))
}

// add counts one sighting of e by the current event.
func (c *Collector) add(e *entry, f field) {
	ev, o := c.ev, &e.obs
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
		if host = host.Unmap(); host != e.lastHost {
			o.Hosts = insertHost(o.Hosts, host)
			e.lastHost = host
		}
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
	held := make([]*Observation, 0, c.Len())
	for _, s := range c.strs {
		if s.e != nil && !s.alias {
			held = append(held, &s.e.obs)
		}
	}
	for _, e := range c.ips {
		held = append(held, &e.obs)
	}
	c.reset()
	// sorting pointers moves a word, not an observation, per swap
	slices.SortFunc(held, compareObservations)
	out := make([]Observation, 0, len(held))
	for _, o := range held {
		// raw values apart ("Example.com", "example.com") can make one key
		if n := len(out); n > 0 && out[n-1].Key() == o.Key() {
			out[n-1].Merge(o)
			continue
		}
		out = append(out, *o)
	}
	return out
}
