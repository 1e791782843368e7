package geo_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/whodunit-project/whodunit/internal/geo"
	"github.com/whodunit-project/whodunit/internal/geo/geobin"
)

func defaultDB(t testing.TB) *geo.DB {
	t.Helper()
	db, err := geo.Default()
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// Real lookups in the embedded data. These pin facts that hold across data
// refreshes (Google's and Cloudflare's resolvers, China Unicom Shanghai,
// CERNET, WIDE); a refresh that breaks them has broken the data.
func TestDefaultLookups(t *testing.T) {
	db := defaultDB(t)
	tests := []struct {
		ip      string
		country string
		asn     uint32
		org     string // regexp
	}{
		{"8.8.8.8", "US", 15169, `(?i)google`},
		{"8.8.4.4", "US", 15169, `(?i)google`},
		{"1.1.1.1", "", 13335, `(?i)cloudflare`},
		{"2001:4860:4860::8888", "US", 15169, `(?i)google`},
		{"2606:4700:4700::1111", "", 13335, `(?i)cloudflare`},
		{"::ffff:8.8.8.8", "US", 15169, `(?i)google`},
		{"223.166.0.1", "CN", 17621, `(?i)china unicom`}, // APT1 report, Shanghai
		{"2001:da8::1", "CN", 0, ``},                     // CERNET: NIR correction
		{"2001:200::1", "JP", 2500, `(?i)wide`},          // WIDE Project: NIR correction
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			info, ok := db.Lookup(netip.MustParseAddr(tt.ip))
			if !ok {
				t.Fatalf("Lookup(%s) found nothing", tt.ip)
			}
			if tt.country != "" && info.Country != tt.country {
				t.Errorf("Country = %q, want %q", info.Country, tt.country)
			}
			if info.Country != "" && info.CountryName == "" {
				t.Errorf("no CountryName for %q", info.Country)
			}
			if tt.asn != 0 && info.ASN != tt.asn {
				t.Errorf("ASN = %d, want %d", info.ASN, tt.asn)
			}
			if !regexp.MustCompile(tt.org).MatchString(info.ASOrg) {
				t.Errorf("ASOrg = %q, want /%s/", info.ASOrg, tt.org)
			}
			if !strings.HasPrefix(info.Source, "ip-location-db ") || info.Reserved != "" {
				t.Errorf("Source = %q, Reserved = %q", info.Source, info.Reserved)
			}
		})
	}
}

func sharedData(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "data", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data absent: %v", err)
	}
	return p
}

// The APT1 report's four Shanghai netblocks (in the STIX 2.1 bundle of the
// report) must come out as China, at their first, middle and last address.
func TestAPT1NetblocksAreChinese(t *testing.T) {
	b, err := os.ReadFile(sharedData(t, "intel/stix/apt1.json"))
	if err != nil {
		t.Fatal(err)
	}
	var bundle struct {
		Objects []struct {
			Type    string `json:"type"`
			Pattern string `json:"pattern"`
		} `json:"objects"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		t.Fatal(err)
	}
	cidr := regexp.MustCompile(`ipv4-addr:value = '([0-9./]+)'`)
	db := defaultDB(t)
	n := 0
	for _, o := range bundle.Objects {
		m := cidr.FindStringSubmatch(o.Pattern)
		if o.Type != "indicator" || m == nil {
			continue
		}
		p := netip.MustParsePrefix(m[1])
		n++
		size := uint32(1) << (32 - p.Bits())
		for _, a := range []netip.Addr{addrAt(p, 0), addrAt(p, size/2), addrAt(p, size-1)} {
			info, ok := db.Lookup(a)
			if !ok || info.Country != "CN" {
				t.Errorf("%s (in %s): %+v, %v; want CN", a, p, info, ok)
			}
		}
	}
	if n != 4 {
		t.Errorf("found %d IPv4 netblocks in apt1.json, want 4", n)
	}
}

// addrAt returns the address offset places into an IPv4 prefix.
func addrAt(p netip.Prefix, offset uint32) netip.Addr {
	b := p.Masked().Addr().As4()
	v := (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) + offset
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func TestReserved(t *testing.T) {
	tests := []struct {
		ip   string
		want string // "" = not reserved
	}{
		{"10.0.0.1", "private (RFC 1918)"},
		{"172.16.0.1", "private (RFC 1918)"},
		{"172.31.255.255", "private (RFC 1918)"},
		{"172.32.0.1", ""},
		{"192.168.1.1", "private (RFC 1918)"},
		{"127.0.0.1", "loopback (RFC 1122)"},
		{"169.254.169.254", "link-local (RFC 3927)"},
		{"100.64.0.1", "shared address space, carrier-grade NAT (RFC 6598)"},
		{"100.127.255.255", "shared address space, carrier-grade NAT (RFC 6598)"},
		{"100.128.0.1", ""},
		{"192.0.2.7", "documentation TEST-NET-1 (RFC 5737)"},
		{"198.51.100.7", "documentation TEST-NET-2 (RFC 5737)"},
		{"203.0.113.7", "documentation TEST-NET-3 (RFC 5737)"},
		{"198.18.0.1", "benchmarking (RFC 2544)"},
		{"0.1.2.3", "this network (RFC 791)"},
		{"224.0.0.251", "multicast (RFC 5771)"},
		{"240.0.0.1", "reserved for future use (RFC 1112)"},
		{"255.255.255.255", "limited broadcast (RFC 919)"},
		{"8.8.8.8", ""},
		{"::1", "loopback (RFC 4291)"},
		{"::", "unspecified address (RFC 4291)"},
		{"fe80::1", "link-local (RFC 4291)"},
		{"fe80::1%eth0", "link-local (RFC 4291)"},
		{"fd12:3456::1", "unique local (RFC 4193)"},
		{"fc00::1", "unique local (RFC 4193)"},
		{"2001:db8::1", "documentation (RFC 3849)"},
		{"3fff::1", "documentation (RFC 9637)"},
		{"ff02::1", "multicast (RFC 4291)"},
		{"2001:2::1", "benchmarking (RFC 5180)"},
		{"::ffff:192.168.0.1", "private (RFC 1918)"},
		{"2001:4860:4860::8888", ""},
	}
	db := defaultDB(t)
	for _, tt := range tests {
		a := netip.MustParseAddr(tt.ip)
		got, ok := geo.Reserved(a)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("Reserved(%s) = %q, %v; want %q", tt.ip, got, ok, tt.want)
		}
		if tt.want == "" {
			continue
		}
		info, ok := db.Lookup(a)
		want := geo.Info{Reserved: tt.want, Source: geo.ReservedSource}
		if diff := cmp.Diff(want, info); !ok || diff != "" {
			t.Errorf("Lookup(%s) found=%v (-want +got)\n%s", tt.ip, ok, diff)
		}
	}
}

func TestInvalidAddress(t *testing.T) {
	if info, ok := defaultDB(t).Lookup(netip.Addr{}); ok || info != (geo.Info{}) {
		t.Errorf("Lookup(zero Addr) = %+v, %v", info, ok)
	}
}

func TestCountryNames(t *testing.T) {
	// 249 assigned ISO 3166-1 codes plus AN, AP, EU and XK.
	n := 0
	for c := 'A'; c <= 'Z'; c++ {
		for d := 'A'; d <= 'Z'; d++ {
			if geo.CountryName(string([]rune{c, d})) != "" {
				n++
			}
		}
	}
	if n != 253 {
		t.Errorf("%d country names, want 253", n)
	}
	for code, want := range map[string]string{"US": "United States", "CN": "China", "RU": "Russian Federation", "KP": "Korea, Democratic People's Republic of", "XK": "Kosovo", "us": ""} {
		if got := geo.CountryName(code); got != want {
			t.Errorf("CountryName(%q) = %q, want %q", code, got, want)
		}
	}
}

func TestEmbeddedStats(t *testing.T) {
	db := defaultDB(t)
	st := db.Stats()
	if st.Countries < 240 || st.ASes < 50000 || st.V4CountryRanges < 100000 || st.V6ASRanges < 50000 {
		t.Errorf("embedded database looks too small: %+v", st)
	}
	if len(db.Packages()) != 3 {
		t.Errorf("Packages = %+v", db.Packages())
	}
}

func gz(t testing.TB, b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

func TestParseSmall(t *testing.T) {
	d := &geobin.Data{
		Source:    "small",
		Countries: []string{"DE", "ZZ"},
		ASes:      []geobin.AS{{Number: 64500, Org: "Example"}},
		V4Country: geobin.Ranges4{Starts: []uint32{0x05000000, 0x05000100}, Values: []uint32{1, 0}},
		V6AS:      geobin.Ranges6{Starts: []geobin.U128{{Hi: 0x2a00000000000000}, {Hi: 0x2a00000100000000}}, Values: []uint32{1, 0}},
	}
	var raw bytes.Buffer
	if err := geobin.Encode(&raw, d); err != nil {
		t.Fatal(err)
	}
	db, err := geo.Parse(gz(t, raw.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ip   string
		want geo.Info
		ok   bool
	}{
		{"5.0.0.9", geo.Info{Country: "DE", CountryName: "Germany", Source: "small"}, true},
		{"5.0.1.0", geo.Info{}, false},
		{"4.255.255.255", geo.Info{}, false},
		{"2a00::1", geo.Info{ASN: 64500, ASOrg: "Example", Source: "small"}, true},
		{"2a00:1::", geo.Info{}, false},
	}
	for _, tt := range tests {
		got, ok := db.Lookup(netip.MustParseAddr(tt.ip))
		if diff := cmp.Diff(tt.want, got); diff != "" || ok != tt.ok {
			t.Errorf("Lookup(%s) ok=%v (-want +got)\n%s", tt.ip, ok, diff)
		}
	}
}

func TestParseErrors(t *testing.T) {
	var empty bytes.Buffer
	geobin.Encode(&empty, &geobin.Data{})
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"not gzip", []byte("hello"), "gzip"},
		{"gzip of garbage", gz(t, []byte("garbage that is long enough")), "bad magic"},
		{"truncated gzip", gz(t, bytes.Repeat([]byte("x"), 1000))[:20], "gzip"},
		{"no ranges", gz(t, empty.Bytes()), "no ranges"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := geo.Parse(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	db := defaultDB(t)
	addrs := []netip.Addr{netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("2001:4860::1"), netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("fe80::1%eth0")}
	allocs := testing.AllocsPerRun(100, func() {
		for _, a := range addrs {
			db.Lookup(a)
		}
	})
	if allocs != 0 {
		t.Errorf("Lookup allocates %.1f times per run", allocs)
	}
}

// countingLocator answers from a map and counts calls.
type countingLocator struct {
	calls atomic.Int64
}

func (c *countingLocator) Lookup(a netip.Addr) (geo.Info, bool) {
	c.calls.Add(1)
	if a.Is4() && a.As4()[0] == 1 {
		return geo.Info{Country: "AU", Source: a.String()}, true
	}
	return geo.Info{}, false
}

func TestCached(t *testing.T) {
	inner := &countingLocator{}
	c := geo.Cached(inner)
	if geo.Cached(c) != c {
		t.Error("Cached(Cached(l)) wraps twice")
	}
	if db := defaultDB(t); geo.Cached(db) != geo.Locator(db) {
		t.Error("Cached(*DB) wraps the embedded database")
	}
	for i := 0; i < 3; i++ {
		for _, s := range []string{"1.2.3.4", "::ffff:1.2.3.4", "9.9.9.9"} {
			info, ok := c.Lookup(netip.MustParseAddr(s))
			if s != "9.9.9.9" && (!ok || info.Country != "AU" || info.Source != "1.2.3.4") {
				t.Errorf("Lookup(%s) = %+v, %v", s, info, ok)
			}
			if s == "9.9.9.9" && ok {
				t.Errorf("Lookup(9.9.9.9) found %+v", info)
			}
		}
	}
	if got := inner.calls.Load(); got != 2 {
		t.Errorf("inner locator called %d times, want 2 (one per distinct address)", got)
	}
}

func TestCachedConcurrent(t *testing.T) {
	inner := &countingLocator{}
	c := geo.Cached(inner)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				a := netip.AddrFrom4([4]byte{1, 0, byte(i >> 8), byte(i)})
				if info, ok := c.Lookup(a); !ok || info.Source != a.String() {
					t.Errorf("Lookup(%s) = %+v, %v", a, info, ok)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Racing goroutines may each miss once on the same address, no more.
	if got := inner.calls.Load(); got < 2000 || got > 8*2000 {
		t.Errorf("inner locator called %d times", got)
	}
}
