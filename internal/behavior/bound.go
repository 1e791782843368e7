package behavior

import (
	"math"
	"net/netip"
	"slices"
)

// Everything the analyzer samples or bounds is chosen by the data, never by
// the order events arrive in: the scan reads files and chunks in parallel,
// so the same input arrives in a different order on every run. Choices by
// hash use a fixed hash (FNV-1a with a final mix), the same on every run
// and machine; a random seed would make the choice differ between runs.

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// mix64 spreads the bits of x (the splitmix64 finaliser), so that the
// smallest hashes are a uniform sample even for short, similar keys.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

func fnvAddr(h uint64, a netip.Addr) uint64 {
	b := a.As16()
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	h ^= uint64(a.BitLen()) // tells the invalid address from ::
	return h * fnvPrime
}

// hashString is the fixed hash of a name.
func hashString(s string) uint64 { return mix64(fnvString(fnvOffset, s)) }

// hashAddr is the fixed hash of an address.
func hashAddr(a netip.Addr) uint64 { return mix64(fnvAddr(fnvOffset, a)) }

func hashPair(k [2]netip.Addr) uint64 { return mix64(fnvAddr(fnvAddr(fnvOffset, k[0]), k[1])) }

func hashSeriesKey(k seriesKey) uint64 {
	h := fnvAddr(fnvAddr(fnvOffset, k.src), k.dst)
	h = fnvString(h^uint64(k.layer), k.name)
	return mix64(h)
}

func hashDomainKey(k domainKey) uint64 { return mix64(fnvString(fnvAddr(fnvOffset, k.src), k.domain)) }

// hashBound keeps a table to the limit keys of smallest hash. A key whose
// hash is above max can never be among them (at least limit keys with
// smaller hashes were seen), so it is refused; trimming removes such keys.
// The kept keys are thus the limit smallest of all keys ever offered, each
// with every update it received, whatever the order of arrival and however
// the tables were sharded and merged.
type hashBound struct {
	limit int
	max   uint64
}

func newHashBound(limit int) hashBound { return hashBound{limit: limit, max: math.MaxUint64} }

func (b *hashBound) admits(h uint64) bool { return h <= b.max }

// over reports whether a table of n keys should be trimmed now: some slack
// above the limit, so that trimming is amortised.
func (b *hashBound) over(n int) bool { return n > b.limit+b.limit/4 }

// tighten takes over another bound's threshold (Merge).
func (b *hashBound) tighten(o hashBound) { b.max = min(b.max, o.max) }

// trimByHash removes all but the b.limit keys of m with the smallest hash
// and lowers b.max accordingly. It returns how many keys it removed.
func trimByHash[K comparable, V any](m map[K]V, hash func(K) uint64, b *hashBound) int {
	if len(m) <= max(b.limit, 0) {
		return 0
	}
	n := 0
	if b.limit <= 0 {
		b.max = 0
		n = len(m)
		clear(m)
		return n
	}
	hs := make([]uint64, 0, len(m))
	for k := range m {
		hs = append(hs, hash(k))
	}
	slices.Sort(hs)
	b.max = min(b.max, hs[b.limit-1])
	for k := range m {
		if hash(k) > b.max {
			delete(m, k)
			n++
		}
	}
	return n
}
