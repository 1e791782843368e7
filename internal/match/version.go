package match

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// versionTag starts the version hash; it changes when the definition does
// (v1 hashed the indicator digests alone).
const versionTag = "whodunit-match-v2\x00"

// version hashes the version prefix (options, warninglists) and the live
// indicator digests in byte order.
func (b *Builder) version() string {
	// The digests in byte order: as two big-endian words they sort by
	// the first, and by the second where the first ties.
	live := make([]digestKey, 0, len(b.digests))
	for i, d := range b.digests {
		if !b.s.inds[i].dead {
			live = append(live, digestKey{binary.BigEndian.Uint64(d[:8]), binary.BigEndian.Uint64(d[8:])})
		}
	}
	radixSort[digestKey, byHi](live)
	for i := 0; i < len(live); {
		j := i + 1
		for j < len(live) && live[j].hi == live[i].hi {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(live[i:j], func(x, y digestKey) int { return cmp.Compare(x.lo, y.lo) })
		}
		i = j
	}
	h := sha256.New()
	h.Write(b.versionPrefix())
	buf := make([]byte, 0, 16*256)
	for _, k := range live {
		buf = binary.BigEndian.AppendUint64(buf, k.hi)
		buf = binary.BigEndian.AppendUint64(buf, k.lo)
		if len(buf) == cap(buf) {
			h.Write(buf)
			buf = buf[:0]
		}
	}
	h.Write(buf)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// versionPrefix is what the version hashes before the indicators: the
// tag, the options that change answers, the count and sorted content
// hashes of the warninglists, and the nonce of an opaque Suppressor. The
// hash table seed is deliberately absent: it changes how fast a lookup
// is, never its answer.
func (b *Builder) versionPrefix() []byte {
	p := []byte(versionTag)
	p = append(p, "patterns="...)
	if b.opt.Patterns != nil {
		p = append(p, '1')
	} else {
		p = append(p, '0')
	}
	p = append(p, 0)
	p = append(p, "warninglists="...)
	p = binary.BigEndian.AppendUint64(p, uint64(len(b.listDigests)))
	for _, d := range b.listDigests {
		p = append(p, d[:]...)
	}
	if b.nonce != nil {
		p = append(p, "opaque-suppressor="...)
		p = append(p, b.nonce...)
	}
	return p
}

// digestKey is an indicator digest as two big-endian words.
type digestKey struct{ hi, lo uint64 }

// newer reports whether version a (modified, digest) of an id wins over b.
func newer(modA int64, digA [16]byte, modB int64, digB [16]byte) bool {
	if modA != modB {
		return modA > modB
	}
	return bytes.Compare(digA[:], digB[:]) < 0
}

// appendListNames adds an indicator's own warninglist names to its digest,
// sorted: only the first name in sort order is ever reported.
func appendListNames(dig []byte, names []string) []byte {
	if len(names) == 0 {
		return dig
	}
	if len(names) > 1 && !slices.IsSorted(names) {
		names = slices.Sorted(slices.Values(names))
	}
	dig = append(dig, "lists\x00"...)
	for _, n := range names {
		dig = append(append(dig, n...), 0)
	}
	return dig
}

// listDigest is the content hash of one warninglist: everything the
// compiled set reads (name, match type, category, attributes, entries),
// attributes and entries sorted, each string length-prefixed. The
// description and the list's own version number change no answer.
func listDigest(w *intel.Warninglist) [32]byte {
	h := sha256.New()
	var buf []byte
	str := func(s string) {
		buf = binary.AppendUvarint(buf[:0], uint64(len(s)))
		h.Write(buf)
		h.Write([]byte(s))
	}
	strs := func(ss []string) {
		if !slices.IsSorted(ss) {
			ss = slices.Sorted(slices.Values(ss))
		}
		buf = binary.AppendUvarint(buf[:0], uint64(len(ss)))
		h.Write(buf)
		for _, s := range ss {
			str(s)
		}
	}
	str(w.Name)
	str(w.MatchType)
	str(w.Category)
	strs(w.Attributes)
	strs(w.Entries)
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// canonicalLists orders the lists by name and then content, and returns
// their digests in that order: the compiled set reports list names in its
// lists' order, so the order must not depend on the caller's.
func canonicalLists(in []*intel.Warninglist) ([]*intel.Warninglist, [][32]byte) {
	type item struct {
		w *intel.Warninglist
		d [32]byte
	}
	items := make([]item, 0, len(in))
	for _, w := range in {
		if w != nil {
			items = append(items, item{w, listDigest(w)})
		}
	}
	slices.SortFunc(items, func(x, y item) int {
		if c := strings.Compare(x.w.Name, y.w.Name); c != 0 {
			return c
		}
		return bytes.Compare(x.d[:], y.d[:])
	})
	lists := make([]*intel.Warninglist, len(items))
	digests := make([][32]byte, len(items))
	for i, it := range items {
		lists[i], digests[i] = it.w, it.d
	}
	return lists, digests
}

// randomNonce stands for an opaque Suppressor in the version: its lists
// cannot be hashed, so the snapshot must not share a version with any
// other build.
func randomNonce() []byte {
	n := make([]byte, 16)
	rand.Read(n)
	return n
}
