package geo_test

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/geo"
)

// randomAddrs returns n public-looking addresses, spread over the space.
func randomAddrs(n int, v6 bool) []netip.Addr {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]netip.Addr, n)
	for i := range out {
		if v6 {
			var b [16]byte
			b[0], b[1] = 0x20|byte(r.IntN(16)), byte(r.IntN(256)) // 2000::/4, global unicast
			for j := 2; j < 16; j++ {
				b[j] = byte(r.IntN(256))
			}
			out[i] = netip.AddrFrom16(b)
		} else {
			v := r.Uint32()
			out[i] = netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		}
	}
	return out
}

func benchLookup(b *testing.B, l geo.Locator, addrs []netip.Addr) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		l.Lookup(addrs[i%len(addrs)])
	}
}

func BenchmarkLookupV4(b *testing.B) { benchLookup(b, defaultDB(b), randomAddrs(1<<16, false)) }
func BenchmarkLookupV6(b *testing.B) { benchLookup(b, defaultDB(b), randomAddrs(1<<16, true)) }

// Cached over a MaxMind database, all hits after the first round.
func BenchmarkCachedMMDBLookup(b *testing.B) {
	m, err := geo.OpenMMDB(cityDB(b), asnDB(b))
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	benchLookup(b, geo.Cached(m), []netip.Addr{netip.MustParseAddr("81.2.69.160"), netip.MustParseAddr("2a02:ff0::1"), netip.MustParseAddr("9.9.9.9")})
}

func BenchmarkReserved(b *testing.B) {
	addrs := randomAddrs(1<<12, false)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		geo.Reserved(addrs[i%len(addrs)])
	}
}

// BenchmarkLoad measures the first use of Default: gunzip and decode.
func BenchmarkLoad(b *testing.B) {
	gz, err := os.ReadFile(filepath.Join("data", "geo.bin.gz"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(gz)))
	for b.Loop() {
		if _, err := geo.Parse(gz); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMMDBLookup(b *testing.B) {
	m, err := geo.OpenMMDB(cityDB(b), asnDB(b))
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	addrs := []netip.Addr{netip.MustParseAddr("81.2.69.160"), netip.MustParseAddr("2a02:ff0::1"), netip.MustParseAddr("9.9.9.9")}
	benchLookup(b, m, addrs)
}
