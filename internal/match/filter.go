package match

import (
	"hash/maphash"
	"math/bits"
	"net/netip"
)

// filter is a blocked Bloom filter in front of every exact-match table:
// three bits of one 64-bit word per key, about 16 bits per key, so that the
// common no-hit lookup costs one access to a small, cache-resident array
// instead of a probe into a large hash table. False positives fall through
// to the table; there are no false negatives.
type filter struct {
	words []uint64
	shift uint
}

func newFilter(keys int) filter {
	n := keys / 8 // 8 bits per key: small enough to stay in cache
	if keys <= 1<<16 {
		n = keys / 4 // small tables can afford fewer false positives
	}
	if n < 8 {
		n = 8
	}
	size := 1 << bits.Len(uint(n-1))
	return filter{words: make([]uint64, size), shift: uint(64 - bits.TrailingZeros(uint(size)))}
}

func filterMask(h uint64) uint64 {
	return 1<<(h&63) | 1<<((h>>6)&63) | 1<<((h>>12)&63)
}

func (f *filter) add(h uint64) { f.words[h>>f.shift] |= filterMask(h) }

func (f *filter) has(h uint64) bool {
	m := filterMask(h)
	return f.words[h>>f.shift]&m == m
}

// mix64 is a strong 64-bit finaliser (splitmix64).
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// salts keep the key spaces of the tables apart in the shared filter.
const (
	saltIP4    = 0x1f3a5c7e9b2d4f61
	saltIP6    = 0x2e4b6d8fa1c3e507
	saltDomain = 0x3c5e7a9b1d2f4a68
)

func ip4Hash(k uint32) uint64 { return mix64(uint64(k) ^ saltIP4) }

func ip6Hash(a [16]byte) uint64 {
	var hi, lo uint64
	for i := 0; i < 8; i++ {
		hi = hi<<8 | uint64(a[i])
		lo = lo<<8 | uint64(a[i+8])
	}
	return mix64(hi ^ mix64(lo^saltIP6))
}

func domainFilterHash(slotHash uint64) uint64 { return mix64(slotHash ^ saltDomain) }

func strHash(seed maphash.Seed, cls int, s string) uint64 {
	return mix64(maphash.String(seed, s) + uint64(cls)*0x9e3779b97f4a7c15)
}

func bytesHash(seed maphash.Seed, cls int, b []byte) uint64 {
	return mix64(maphash.Bytes(seed, b) + uint64(cls)*0x9e3779b97f4a7c15)
}

// cidr4Bits is a bitmap over IPv4 /20 blocks: set where some CIDR indicator
// overlaps the block, so most addresses skip the prefix-table lookup.
const cidr4Shift = 12 // 32 - 20

func setCIDR4(bm []uint64, p netip.Prefix) {
	a := p.Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	first := v >> cidr4Shift
	n := uint32(1)
	if p.Bits() < 32-cidr4Shift {
		n = 1 << (32 - cidr4Shift - p.Bits())
	}
	for i := first; i < first+n; i++ {
		bm[i>>6] |= 1 << (i & 63)
	}
}
