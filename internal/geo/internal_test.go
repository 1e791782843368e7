package geo

import (
	"net/netip"
	"testing"

	"github.com/whodunit-project/whodunit/internal/geo/geobin"
)

type nothing struct{}

func (nothing) Lookup(netip.Addr) (Info, bool) { return Info{}, false }

// The cache stays bounded however many distinct addresses pass through it.
func TestCachedBounded(t *testing.T) {
	const size = 64 * 100
	c := newCached(nothing{}, size)
	n := 3 * size
	for i := 0; i < n; i++ {
		c.Lookup(netip.AddrFrom4([4]byte{1, byte(i >> 16), byte(i >> 8), byte(i)}))
	}
	total := 0
	for i := range c.shards {
		if l := len(c.shards[i].m); l > c.shardLimit {
			t.Errorf("shard %d holds %d entries, limit %d", i, l, c.shardLimit)
		}
		total += len(c.shards[i].m)
	}
	if total > size || total == 0 {
		t.Errorf("cache holds %d entries, limit %d", total, size)
	}
	if c.shardLimit != 100 || Cached(nothing{}).(*cached).shardLimit != DefaultCacheSize/cacheShards {
		t.Errorf("shard limits %d, %d", c.shardLimit, Cached(nothing{}).(*cached).shardLimit)
	}
}

// Every special-purpose range is found at its first and last address, so
// the fast paths in Reserved never skip one.
func TestReservedTablesReachable(t *testing.T) {
	for _, r := range append(append([]reservedRange{}, reserved4...), reserved6...) {
		first := r.prefix.Masked().Addr()
		last := lastInPrefix(r.prefix)
		for _, a := range []netip.Addr{first, last} {
			if note, ok := Reserved(a); !ok {
				t.Errorf("Reserved(%s) in %s = %q, %v", a, r.prefix, note, ok)
			}
		}
	}
}

func lastInPrefix(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// The /16 index answers exactly as the plain binary search does.
func TestIndex4MatchesFind(t *testing.T) {
	r := &geobin.Ranges4{
		Starts: []uint32{0x00000005, 0x0000ffff, 0x00010000, 0x00010001, 0x0a000000, 0x0a000100, 0xfffffffe, 0xffffffff},
		Values: []uint32{1, 2, 3, 4, 5, 0, 6, 7},
	}
	ix := newIndex4(r)
	probe := []uint32{0, 4, 5, 6, 0xfffe, 0xffff, 0x10000, 0x10001, 0x10002, 0x9ffffff, 0xa000000, 0xa0000ff, 0xa000100, 0xfffffffd, 0xfffffffe, 0xffffffff}
	for _, x := range probe {
		if got, want := ix.find(x), r.Find(x); got != want {
			t.Errorf("find(%#x) = %d, Find = %d", x, got, want)
		}
	}
	db, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50000; i++ {
		x := uint32(i) * 85903 // walks the whole space
		if got, want := db.v4Country.find(x), db.data.V4Country.Find(x); got != want {
			t.Fatalf("country find(%#x) = %d, Find = %d", x, got, want)
		}
		if got, want := db.v4AS.find(x), db.data.V4AS.Find(x); got != want {
			t.Fatalf("AS find(%#x) = %d, Find = %d", x, got, want)
		}
	}
	empty := newIndex4(&geobin.Ranges4{})
	if got := empty.find(12345); got != 0 {
		t.Errorf("empty find = %d", got)
	}
}

// Every country code in the embedded data has a name.
func TestEmbeddedCountriesNamed(t *testing.T) {
	db, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range db.data.Countries {
		if db.countryNames[i] == "" {
			t.Errorf("no name for country code %q", c)
		}
	}
}
