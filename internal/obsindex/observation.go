// Package obsindex keeps the observable index: every distinct value a scan
// or the watcher saw (domains, addresses, URLs and hosts, hashes,
// certificate fingerprints and serials, JA3, e-mail addresses) with where
// and when, so that intelligence arriving later can be matched against the
// past without reading the logs again (a retro-hunt).
//
// An Observation is keyed by (type, value, field): the value is normalised
// as intel.Normalize does, and the field is the matcher's field name
// ("dns.query", "tls.sni"), so that Probe turns it back into an event the
// matcher answers exactly as it answered the original record. Every merge
// is commutative and associative (min, max, sum, smallest-n sets), so the
// index does not depend on how the input was split between workers.
package obsindex

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// MaxHosts bounds the hosts an observation keeps; MaxRecords the records.
const (
	MaxHosts   = 8
	MaxRecords = 4
)

// Key names one observation.
type Key struct {
	Type  intel.ValueType
	Value string
	Field string
}

// Observation is what the index knows of one value seen in one field.
type Observation struct {
	Type  intel.ValueType `json:"type"`
	Value string          `json:"value"`
	Field string          `json:"field"`
	First time.Time       `json:"first"` // zero when no record had a time
	Last  time.Time       `json:"last"`
	Count int64           `json:"count"`
	// Hosts are the smallest MaxHosts addresses of the other side of the
	// records (the originator, or the responder for a src_ip value).
	Hosts []netip.Addr `json:"hosts"`
	// Records cite the earliest MaxRecords-1 records and the latest one.
	Records []Record `json:"records"`
}

// Key is the observation's key.
func (o *Observation) Key() Key { return Key{o.Type, o.Value, o.Field} }

// Record cites one original record: enough to make the sighting a scan
// would have made of it (same match.Sighting.Key).
type Record struct {
	Source  string     `json:"source"` // logical source, as Sighting.Source
	File    string     `json:"file"`
	Line    int64      `json:"line"`
	Offset  int64      `json:"offset"`
	Time    time.Time  `json:"time"`
	UID     string     `json:"uid,omitempty"`
	SrcIP   netip.Addr `json:"src_ip"`
	DstIP   netip.Addr `json:"dst_ip"`
	SrcPort uint16     `json:"src_port,omitempty"`
	DstPort uint16     `json:"dst_port,omitempty"`
}

// compareRecords orders records by time, then position.
func compareRecords(a, b Record) int {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c
	}
	return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Offset, b.Offset),
		cmp.Compare(a.File, b.File), cmp.Compare(a.UID, b.UID))
}

// CompareKeys orders keys by type, value, field.
func CompareKeys(a, b Key) int {
	return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Value, b.Value), cmp.Compare(a.Field, b.Field))
}

// compareObservations orders by key, as CompareKeys; pointers spare
// copying two observations per comparison.
func compareObservations(a, b *Observation) int {
	return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Value, b.Value), cmp.Compare(a.Field, b.Field))
}

func compareObservationValues(a, b Observation) int { return compareObservations(&a, &b) }

// Merge adds b (an observation with the same key) into o.
func (o *Observation) Merge(b *Observation) {
	if o.First.IsZero() || !b.First.IsZero() && b.First.Before(o.First) {
		o.First = b.First
	}
	if b.Last.After(o.Last) {
		o.Last = b.Last
	}
	o.Count += b.Count
	o.Hosts = mergeHosts(o.Hosts, b.Hosts)
	o.Records = mergeRecords(o.Records, b.Records)
}

// mergeHosts is the smallest MaxHosts of the union, sorted.
func mergeHosts(a, b []netip.Addr) []netip.Addr {
	all := append(slices.Clip(a), b...)
	slices.SortFunc(all, netip.Addr.Compare)
	all = slices.Compact(all)
	return slices.Clip(all[:min(len(all), MaxHosts)])
}

// mergeRecords keeps the earliest MaxRecords-1 records of the union and
// the latest one, in order.
func mergeRecords(a, b []Record) []Record {
	all := append(slices.Clip(a), b...)
	slices.SortFunc(all, compareRecords)
	all = slices.CompactFunc(all, func(x, y Record) bool { return compareRecords(x, y) == 0 })
	if len(all) <= MaxRecords {
		return slices.Clip(all)
	}
	out := append(all[:MaxRecords-1:MaxRecords-1], all[len(all)-1])
	return out
}

// MergeAll merges observations with equal keys and returns them sorted by
// key; the input order does not matter.
func MergeAll(list []Observation) []Observation {
	// the merge is commutative, so no stable sort is needed; and what a
	// Flush returns is sorted already
	if !slices.IsSortedFunc(list, compareObservationValues) {
		slices.SortFunc(list, compareObservationValues)
	}
	out := list[:0]
	for i := range list {
		if n := len(out); n > 0 && out[n-1].Key() == list[i].Key() {
			out[n-1].Merge(&list[i])
			continue
		}
		out = append(out, list[i])
	}
	return out
}

// MergeSorted merges lists that are each sorted by key with no key twice
// (as Flush and MergeAll return them) into one such list, in time linear
// in their length for a few lists.
func MergeSorted(lists ...[]Observation) []Observation {
	for len(lists) > 1 {
		var next [][]Observation
		for i := 0; i < len(lists); i += 2 {
			if i+1 == len(lists) {
				next = append(next, lists[i])
				continue
			}
			next = append(next, mergeTwo(lists[i], lists[i+1]))
		}
		lists = next
	}
	if len(lists) == 0 {
		return nil
	}
	return lists[0]
}

// mergeTwo merges two sorted lists into a new one.
func mergeTwo(a, b []Observation) []Observation {
	out := make([]Observation, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		switch c := compareObservations(&a[0], &b[0]); {
		case c < 0:
			out, a = append(out, a[0]), a[1:]
		case c > 0:
			out, b = append(out, b[0]), b[1:]
		default:
			o := a[0]
			o.Merge(&b[0])
			out, a, b = append(out, o), a[1:], b[1:]
		}
	}
	return append(append(out, a...), b...)
}
