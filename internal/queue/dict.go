package queue

import (
	"encoding/binary"
	"net/netip"
	"strings"
)

// A section of a result message (its events, its sightings) numbers the
// strings and addresses it writes: a value met again is written as its
// number, so the repeats of a log — queries, hosts, protocols, files,
// indicator ids, a beacon's two addresses — cost a byte or two instead
// of their text. Each side numbers the values in the order they first
// appear, up to maxDict of each; past that, values are written whole.
const maxDict = 1 << 16

// dict is the writing side's numbering.
type dict struct {
	strs  map[string]uint64
	names []string // the numbered strings, owned: names[n-1] is number n
	addrs map[netip.Addr]uint64
	// per place in a record, the value written there last and its
	// number: a log repeats a protocol, a query type, a pair of
	// addresses from one record to the next, and comparing is cheaper
	// than hashing
	lastStr  [8]numbered[string]
	lastAddr [2]numbered[netip.Addr]
}

type numbered[T comparable] struct {
	v T
	n uint64 // 0: none yet
}

// strAt is str for the value at place i of a record.
func (d *dict) strAt(b []byte, i int, s string) []byte {
	if l := &d.lastStr[i]; l.n != 0 && l.v == s {
		return binary.AppendUvarint(b, l.n)
	}
	b, n := d.numberStr(b, s)
	if n != 0 {
		// the owned copy: s may share a reader's buffer, rewritten by the
		// next record
		d.lastStr[i] = numbered[string]{v: d.names[n-1], n: n}
	}
	return b
}

// addrAt is addr for the address at place i of a record.
func (d *dict) addrAt(b []byte, i int, a netip.Addr) []byte {
	if l := &d.lastAddr[i]; l.n != 0 && l.v == a {
		return binary.AppendUvarint(b, l.n)
	}
	b, n := d.numberAddr(b, a)
	if n != 0 {
		d.lastAddr[i] = numbered[netip.Addr]{v: a, n: n}
	}
	return b
}

func newDict() *dict { return &dict{strs: map[string]uint64{}, addrs: map[netip.Addr]uint64{}} }

// str appends s: its number, or 0 and its text when new. The empty
// string, the most common, is written as an empty text and not numbered.
func (d *dict) str(b []byte, s string) []byte {
	b, _ = d.numberStr(b, s)
	return b
}

// numberStr is str, also giving s's number (0: none).
func (d *dict) numberStr(b []byte, s string) ([]byte, uint64) {
	if s == "" {
		return append(b, 0, 0), 0
	}
	if n, ok := d.strs[s]; ok {
		return binary.AppendUvarint(b, n), n
	}
	var n uint64
	if len(d.strs) < maxDict {
		// s may share a reader's buffer
		n = uint64(len(d.strs)) + 1
		owned := strings.Clone(s)
		d.strs[owned] = n
		d.names = append(d.names, owned)
	}
	return appendString(append(b, 0), s), n
}

// addr appends a: its number, or 0 and its bytes when new.
func (d *dict) addr(b []byte, a netip.Addr) []byte {
	b, _ = d.numberAddr(b, a)
	return b
}

// numberAddr is addr, also giving a's number (0: none).
func (d *dict) numberAddr(b []byte, a netip.Addr) ([]byte, uint64) {
	if n, ok := d.addrs[a]; ok {
		return binary.AppendUvarint(b, n), n
	}
	var n uint64
	if len(d.addrs) < maxDict {
		n = uint64(len(d.addrs)) + 1
		d.addrs[a] = n
	}
	return appendAddr(append(b, 0), a), n
}

// table is the reading side's numbering. A table already filled by an
// earlier pass over the same section is read again without allocating:
// the n-th new value is the one it holds.
type table struct {
	strs       []string
	addrs      []netip.Addr
	nstr, nadr int // values met so far in this pass
}

// rewind starts another pass over the same section.
func (t *table) rewind() { t.nstr, t.nadr = 0, 0 }

func (d *decoder) dstr(t *table) string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n != 0 {
		if n > uint64(t.nstr) {
			d.fail("string number beyond those met")
			return ""
		}
		return t.strs[n-1]
	}
	raw := d.bytes()
	if d.err != nil || len(raw) == 0 {
		return ""
	}
	if t.nstr < len(t.strs) {
		t.nstr++
		return t.strs[t.nstr-1]
	}
	s := string(raw)
	if len(t.strs) < maxDict {
		t.strs = append(t.strs, s)
		t.nstr++
	}
	return s
}

func (d *decoder) daddr(t *table) netip.Addr {
	n := d.uvarint()
	if d.err != nil {
		return netip.Addr{}
	}
	if n != 0 {
		if n > uint64(t.nadr) {
			d.fail("address number beyond those met")
			return netip.Addr{}
		}
		return t.addrs[n-1]
	}
	a := d.addr()
	if d.err != nil {
		return netip.Addr{}
	}
	if t.nadr < len(t.addrs) {
		t.nadr++
		return t.addrs[t.nadr-1]
	}
	if len(t.addrs) < maxDict {
		t.addrs = append(t.addrs, a)
		t.nadr++
	}
	return a
}
