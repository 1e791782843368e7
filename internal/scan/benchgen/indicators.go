// Package benchgen makes the deterministic synthetic inputs of `make bench`:
// a Zeek TSV corpus (conn, dns, ssl, http, files) with realistic field
// distributions, and mixed indicator sets with planted values whose hits in
// the corpus are counted exactly, so a benchmark run can check that the
// scanner found every planted hit and nothing else.
//
// Background values and indicator values come from disjoint sets that still
// share networks, as real traffic and real intelligence do: background
// addresses end in an even octet and indicator addresses in an odd one,
// within the same /16s; CIDR indicators use first octets ≡ 7 mod 8, which
// background avoids; background second-level domains have no digits,
// indicator ones do. So a random indicator never matches background
// traffic and the only sightings are the planted ones.
package benchgen

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"strconv"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// Indicator is one generated indicator value.
type Indicator struct {
	Type  intel.ValueType
	Value string // normalised as intel.Normalize would
}

// planted values: a fixed, small set every indicator set starts with; the
// corpus generator injects them into records.
type plantedSet struct {
	domains []string // registrable indicator domains
	ips     []string // single addresses (≡3 mod 8 first octet)
	cidrs   []netip.Prefix
	md5s    []string
	sha1s   []string
	sha256s []string
	urls    []string // normalised http URLs on hosts no domain indicator covers
	ja3s    []string
	certs   []string // x509 SHA-256 fingerprints (Zeek 6 cert_chain_fps)
	uas     []string
}

// Planted counts by type.
const (
	plantedDomains = 64
	plantedIPs     = 64
	plantedCIDRs   = 8
	plantedHashes  = 16 // of each kind
	plantedURLs    = 16
	plantedJA3     = 8
	plantedCerts   = 8
	plantedUAs     = 8
)

func newPlanted(seed uint64) *plantedSet {
	r := rand.New(rand.NewPCG(seed, 0x91a7ed))
	p := &plantedSet{}
	for i := 0; i < plantedDomains; i++ {
		p.domains = append(p.domains, indicatorDomain(r))
	}
	for i := 0; i < plantedIPs; i++ {
		p.ips = append(p.ips, indicatorIP(r).String())
	}
	for i := 0; i < plantedCIDRs; i++ {
		p.cidrs = append(p.cidrs, indicatorCIDR(r))
	}
	for i := 0; i < plantedHashes; i++ {
		p.md5s = append(p.md5s, randHex(r, 16))
		p.sha1s = append(p.sha1s, randHex(r, 20))
		p.sha256s = append(p.sha256s, randHex(r, 32))
	}
	for i := 0; i < plantedURLs; i++ {
		p.urls = append(p.urls, indicatorURL(r, i))
	}
	for i := 0; i < plantedJA3; i++ {
		p.ja3s = append(p.ja3s, randHex(r, 16))
	}
	for i := 0; i < plantedCerts; i++ {
		p.certs = append(p.certs, randHex(r, 32))
	}
	for i := 0; i < plantedUAs; i++ {
		p.uas = append(p.uas, indicatorUA(r))
	}
	return p
}

func (p *plantedSet) indicators() []Indicator {
	var out []Indicator
	add := func(t intel.ValueType, vs ...string) {
		for _, v := range vs {
			out = append(out, Indicator{t, v})
		}
	}
	add(intel.Domain, p.domains...)
	add(intel.IPv4, p.ips...)
	for _, c := range p.cidrs {
		add(intel.CIDR, c.String())
	}
	add(intel.MD5, p.md5s...)
	add(intel.SHA1, p.sha1s...)
	add(intel.SHA256, p.sha256s...)
	add(intel.URL, p.urls...)
	add(intel.JA3, p.ja3s...)
	add(intel.X509SHA256, p.certs...)
	add(intel.UserAgent, p.uas...)
	return out
}

// mix is the share of each type among the random indicators, in percent.
var mix = []struct {
	t   intel.ValueType
	pct int
}{
	{intel.Domain, 35}, {intel.IPv4, 30}, {intel.CIDR, 2}, {intel.MD5, 8}, {intel.SHA1, 5}, {intel.SHA256, 5},
	{intel.URL, 8}, {intel.JA3, 1}, {intel.X509SHA256, 1}, {intel.X509SHA1, 1}, {intel.Email, 3}, {intel.UserAgent, 1},
}

// Indicators returns n indicators: the planted ones first, then random ones
// in the mix above. The set for n is a prefix of the set for any larger n,
// and the same seed always gives the same values.
func Indicators(n int, seed uint64) []Indicator {
	out := newPlanted(seed).indicators()
	if n < len(out) {
		return out[:n]
	}
	r := rand.New(rand.NewPCG(seed, 0x1d1ca7))
	seen := make(map[string]bool, n)
	for _, in := range out {
		seen[in.Value] = true
	}
	urlN := plantedURLs
	for len(out) < n {
		x := r.IntN(100)
		var t intel.ValueType
		for _, m := range mix {
			if x < m.pct {
				t = m.t
				break
			}
			x -= m.pct
		}
		var v string
		switch t {
		case intel.Domain:
			v = indicatorDomain(r)
		case intel.IPv4:
			v = indicatorIP(r).String()
		case intel.CIDR:
			v = indicatorCIDR(r).String()
		case intel.MD5, intel.JA3:
			v = randHex(r, 16)
		case intel.SHA1, intel.X509SHA1:
			v = randHex(r, 20)
		case intel.SHA256, intel.X509SHA256:
			v = randHex(r, 32)
		case intel.URL:
			v = indicatorURL(r, urlN)
			urlN++
		case intel.Email:
			v = randLabel(r, 4, 10, false) + "@" + indicatorDomain(r)
		case intel.UserAgent:
			v = indicatorUA(r)
		}
		if seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, Indicator{t, v})
	}
	return out
}

// WriteZeekIntel writes indicators as a Zeek intel file, the format
// `whodunit intel import` reads as a flat list.
func WriteZeekIntel(w io.Writer, inds []Indicator) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString("#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\n")
	for _, in := range inds {
		v := in.Value
		zt := ""
		switch in.Type {
		case intel.Domain:
			zt = "Intel::DOMAIN"
		case intel.IPv4, intel.IPv6:
			zt = "Intel::ADDR"
		case intel.CIDR:
			zt = "Intel::SUBNET"
		case intel.MD5, intel.SHA1, intel.SHA256:
			zt = "Intel::FILE_HASH"
		case intel.X509SHA1, intel.X509SHA256:
			zt = "Intel::CERT_HASH"
		case intel.URL:
			zt = "Intel::URL"
			v = v[len("http://"):] // Zeek intel URLs carry no scheme
		case intel.Email:
			zt = "Intel::EMAIL"
		case intel.UserAgent:
			zt = "Intel::SOFTWARE"
		case intel.JA3:
			zt = "Intel::JA3"
		default:
			return fmt.Errorf("benchgen: no Zeek intel type for %s", in.Type)
		}
		bw.WriteString(v)
		bw.WriteByte('\t')
		bw.WriteString(zt)
		bw.WriteString("\twhodunit-benchgen\t")
		bw.WriteString(string(in.Type))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// WriteValues writes one indicator value per line: the pattern file of the
// ripgrep peer (rg -F -f). URLs are written without their scheme, as they
// appear in Zeek logs (host and URI are separate columns, so no URL
// indicator is found by substring search; this favours the peer).
func WriteValues(w io.Writer, inds []Indicator) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	for _, in := range inds {
		v := in.Value
		if in.Type == intel.URL {
			v = v[len("http://"):]
		}
		bw.WriteString(v)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// Objects turns indicators into intel objects with derived ids, as the flat
// importer would.
func Objects(inds []Indicator) []*intel.Object {
	out := make([]*intel.Object, len(inds))
	for i, in := range inds {
		out[i] = &intel.Object{
			ID:   intel.DeriveID(intel.TypeIndicator, string(in.Type), in.Value),
			Type: intel.TypeIndicator,
			Indicator: &intel.IndicatorSpec{PatternType: "zeek-intel",
				Observables: []intel.Observable{{Type: in.Type, Value: in.Value}}},
		}
	}
	return out
}

// ---- value generators ----

var indicatorTLDs = []string{"xyz", "top", "info", "biz", "ru", "cn", "net", "com", "org", "pw", "cc", "su", "online", "site"}

// indicatorDomain is a registrable domain whose label holds a digit
// (background labels never do).
func indicatorDomain(r *rand.Rand) string {
	l := randLabel(r, 6, 14, true)
	return l + "." + indicatorTLDs[r.IntN(len(indicatorTLDs))]
}

// indicatorURL is on a host "u<n>-<label>.<tld>": a hyphenated label that
// no indicator domain (letters and digits only) can be a suffix of.
func indicatorURL(r *rand.Rand, n int) string {
	host := "u" + strconv.Itoa(n) + "-" + randLabel(r, 5, 9, false) + "." + indicatorTLDs[r.IntN(len(indicatorTLDs))]
	paths := []string{"/gate.php", "/index.php", "/admin/login.asp", "/images/", "/api/v1/", "/wp-content/uploads/", "/b/"}
	p := paths[r.IntN(len(paths))] + randLabel(r, 4, 10, false)
	if r.IntN(2) == 0 {
		p += "?id=" + strconv.Itoa(r.IntN(100000))
	}
	return "http://" + host + p
}

// publicOctet is a first octet shared by background and indicator
// addresses: public-looking, not ≡ 7 mod 8 (kept for CIDR indicators).
func publicOctet(r *rand.Rand) byte {
	for {
		a := 1 + r.IntN(223)
		if a%8 == 7 || a == 10 || a == 127 || a == 100 || a == 169 || a == 172 || a == 192 || a == 198 {
			continue
		}
		return byte(a)
	}
}

// indicatorIP is a public-looking address ending in an odd octet.
func indicatorIP(r *rand.Rand) netip.Addr {
	return netip.AddrFrom4([4]byte{publicOctet(r), byte(r.IntN(256)), byte(r.IntN(256)), byte(1 + 2*r.IntN(127))})
}

// indicatorCIDR is a /24 or /20 whose first octet is ≡ 7 mod 8, disjoint
// from single indicator addresses and from background addresses.
func indicatorCIDR(r *rand.Rand) netip.Prefix {
	a := byte(r.IntN(27))*8 + 7 // 7 … 215
	bits := 24
	if r.IntN(4) == 0 {
		bits = 20
	}
	p := netip.PrefixFrom(netip.AddrFrom4([4]byte{a, byte(r.IntN(256)), byte(r.IntN(256)), 0}), bits)
	return p.Masked()
}

func indicatorUA(r *rand.Rand) string {
	return "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; " + randLabel(r, 6, 10, true) + ")"
}

const letters = "abcdefghijklmnopqrstuvwxyz"
const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"

// randLabel is a lower-case label of min..max characters; withDigit forces
// at least one digit (not first).
func randLabel(r *rand.Rand, min, max int, withDigit bool) string {
	n := min + r.IntN(max-min+1)
	b := make([]byte, n)
	for i := range b {
		if i == 0 {
			b[i] = letters[r.IntN(len(letters))]
		} else if withDigit {
			b[i] = alnum[r.IntN(len(alnum))]
		} else {
			b[i] = letters[r.IntN(len(letters))]
		}
	}
	if withDigit {
		b[1+r.IntN(n-1)] = byte('0' + r.IntN(10))
	}
	return string(b)
}

func randHex(r *rand.Rand, nbytes int) string {
	b := make([]byte, nbytes)
	for i := 0; i < nbytes; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < nbytes; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return hex.EncodeToString(b)
}
