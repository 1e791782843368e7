package obsindex

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// SourceTable maps the sources and files cited records name to the small
// ids their stored form uses (AppendRecords/DecodeRecords), remembering
// which ids are new, so a store writes only those. Both stores keep it
// in memory while they hold their observations lock.
type SourceTable struct {
	ids   map[SourceKey]uint64
	names map[uint64]SourceKey
	fresh []SourceKey
	next  uint64
}

// NewSourceTable is an empty table; Load adds the stored rows.
func NewSourceTable() *SourceTable {
	return &SourceTable{ids: map[SourceKey]uint64{}, names: map[uint64]SourceKey{}, next: 1}
}

// Load adds a stored row.
func (t *SourceTable) Load(id uint64, k SourceKey) {
	t.ids[k], t.names[id] = id, k
	t.next = max(t.next, id+1)
}

// ID is k's id, a new one when k is not known yet.
func (t *SourceTable) ID(k SourceKey) uint64 {
	if id, ok := t.ids[k]; ok {
		return id
	}
	id := t.next
	t.next++
	t.ids[k], t.names[id] = id, k
	t.fresh = append(t.fresh, k)
	return id
}

// Name is the source and file of id.
func (t *SourceTable) Name(id uint64) (SourceKey, bool) {
	k, ok := t.names[id]
	return k, ok
}

// TakeFresh calls put for every key new since the last call, with its id;
// on error the keys stay fresh.
func (t *SourceTable) TakeFresh(put func(id uint64, k SourceKey) error) error {
	for _, k := range t.fresh {
		if err := put(t.ids[k], k); err != nil {
			return err
		}
	}
	t.fresh = t.fresh[:0]
	return nil
}

// HostsText is the stored form of a host set: addresses separated by spaces.
func HostsText(hs []netip.Addr) string {
	parts := make([]string, len(hs))
	for i, a := range hs {
		parts[i] = a.String()
	}
	return strings.Join(parts, " ")
}

// ParseHosts reads HostsText.
func ParseHosts(s string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, p := range strings.Fields(s) {
		a, err := netip.ParseAddr(p)
		if err != nil {
			return nil, fmt.Errorf("stored host %q: %w", p, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// UnixNano is the stored form of a time: nanoseconds, 0 for none.
func UnixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// FromUnixNano reads UnixNano.
func FromUnixNano(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
