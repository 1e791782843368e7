// Command gen builds whodunit's embedded geolocation database
// (internal/geo/data/geo.bin.gz) and its NOTICE from three packed
// ip-location-db packages: IP ranges to country (geofeed, WHOIS, then
// registry data), IP ranges to the registry country of the holder (used to
// correct one known artefact, see nirCountries), and IP ranges to autonomous
// systems. `make geo-refresh` fetches the packages with
// `npm pack` and runs it; see internal/geo/README.md.
//
//	go run ./internal/geo/gen -country COUNTRY.tgz -registry REGISTRY.tgz -asn ASN.tgz \
//	    -out internal/geo/data/geo.bin.gz -notice internal/geo/data/NOTICE
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/whodunit-project/whodunit/internal/geo/geobin"
)

func main() {
	country := flag.String("country", "", "packed country package (.tgz), e.g. @ip-location-db/geo-whois-asn-country")
	registry := flag.String("registry", "", "packed registry-country package (.tgz), e.g. @ip-location-db/asn-country")
	asn := flag.String("asn", "", "packed ASN package (.tgz), e.g. @ip-location-db/asn")
	out := flag.String("out", "internal/geo/data/geo.bin.gz", "database file to write")
	notice := flag.String("notice", "internal/geo/data/NOTICE", "notice file to write")
	flag.Parse()
	if *country == "" || *registry == "" || *asn == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: gen -country COUNTRY.tgz -registry REGISTRY.tgz -asn ASN.tgz [-out FILE] [-notice FILE]")
		os.Exit(2)
	}
	if err := run(*country, *registry, *asn, *out, *notice); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(countryTgz, registryTgz, asnTgz, outPath, noticePath string) error {
	cp, err := readPackage(countryTgz)
	if err != nil {
		return err
	}
	rp, err := readPackage(registryTgz)
	if err != nil {
		return err
	}
	ap, err := readPackage(asnTgz)
	if err != nil {
		return err
	}
	data, err := build(cp, rp, ap)
	if err != nil {
		return err
	}
	var raw bytes.Buffer
	if err := geobin.Encode(&raw, data); err != nil {
		return err
	}
	var gz bytes.Buffer
	// No name and no time in the header: the same input gives the same bytes.
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(outPath, gz.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(noticePath, []byte(noticeText(cp, rp, ap)), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gen: %s: %d bytes (%d uncompressed); IPv4 %d country / %d AS ranges, IPv6 %d / %d, %d countries, %d ASes\n",
		outPath, gz.Len(), raw.Len(), len(data.V4Country.Starts), len(data.V4AS.Starts),
		len(data.V6Country.Starts), len(data.V6AS.Starts), len(data.Countries), len(data.ASes))
	return nil
}

// pkg is one packed npm package: its manifest and the files we need.
type pkg struct {
	Name, Version, License string
	base                   string            // file name prefix, the package name after the scope
	files                  map[string][]byte // by name inside "package/"
}

// Limits for reading a tarball, far above the real packages (~70 MB).
const (
	maxTarFile  = 512 << 20
	maxTarTotal = 1 << 30
)

func readPackage(tgz string) (*pkg, error) {
	f, err := os.Open(tgz)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tgz, err)
	}
	tr := tar.NewReader(zr)
	p := &pkg{files: map[string][]byte{}}
	total := int64(0)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tgz, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name, ok := strings.CutPrefix(path.Clean(h.Name), "package/")
		if !ok || strings.Contains(name, "/") {
			continue
		}
		if h.Size > maxTarFile || total+h.Size > maxTarTotal {
			return nil, fmt.Errorf("%s: %s: too large (%d bytes)", tgz, h.Name, h.Size)
		}
		total += h.Size
		b, err := io.ReadAll(io.LimitReader(tr, maxTarFile))
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", tgz, h.Name, err)
		}
		p.files[name] = b
	}
	var manifest struct{ Name, Version, License string }
	mj, ok := p.files["package.json"]
	if !ok {
		return nil, fmt.Errorf("%s: no package/package.json", tgz)
	}
	if err := json.Unmarshal(mj, &manifest); err != nil {
		return nil, fmt.Errorf("%s: package.json: %w", tgz, err)
	}
	p.Name, p.Version, p.License = manifest.Name, manifest.Version, manifest.License
	if err := acceptable(p); err != nil {
		return nil, fmt.Errorf("%s: %w", tgz, err)
	}
	p.base = path.Base(p.Name)
	return p, nil
}

// acceptable refuses data whose licence we may not ship: only public-domain
// dedications (CC0, PDDL) and CC BY 4.0 with attribution are allowed;
// anything derived from GeoLite2 is refused by name and by licence text.
func acceptable(p *pkg) error {
	lic := strings.ToUpper(p.License)
	if strings.Contains(strings.ToLower(p.Name), "geolite") || strings.Contains(lic, "GEOLITE") || strings.Contains(lic, "MAXMIND") {
		return fmt.Errorf("%s: GeoLite2-derived data may not be shipped", p.Name)
	}
	for _, ok := range []string{"CC0-1.0", "PDDL", "CC-BY-4.0"} {
		if strings.Contains(lic, ok) {
			return nil
		}
	}
	return fmt.Errorf("%s: licence %q is not CC0-1.0, PDDL or CC-BY-4.0", p.Name, p.License)
}

func (p *pkg) csv(family string) ([]byte, string, error) {
	name := p.base + "-" + family + ".csv"
	b, ok := p.files[name]
	if !ok {
		return nil, "", fmt.Errorf("%s %s: no %s in the package", p.Name, p.Version, name)
	}
	return b, name, nil
}

// nirCountries are the countries whose addresses APNIC delegates through a
// National Internet Registry (CNNIC, IDNIC, IRINN, JPNIC, KRNIC, TWNIC,
// VNNIC). Their assignments are missing from APNIC's own WHOIS, so the
// merged country data shows APNIC's parent block, registered in AU, over
// them (e.g. CERNET's 2001:da8::/32 and WIDE's 2001:200::/32 come out AU).
// Where the country package says AU and the registry package, built from
// the RIRs' delegation files, says one of these, the registry wins. Only
// IPv6 is corrected: in IPv4 the few such cases are small geofeed entries
// (an Indian or Japanese network with a point of presence in Australia).
var nirCountries = map[string]bool{"CN": true, "ID": true, "IN": true, "JP": true, "KR": true, "TW": true, "VN": true}

func build(cp, rp, ap *pkg) (*geobin.Data, error) {
	data := &geobin.Data{
		Source: sourceLabel(cp, rp, ap),
		Packages: []geobin.Package{
			{Name: cp.Name, Version: cp.Version, License: cp.License},
			{Name: rp.Name, Version: rp.Version, License: rp.License},
			{Name: ap.Name, Version: ap.Version, License: ap.License},
		},
	}
	codes := map[string]bool{}
	cspans, err := countrySpans(cp, codes)
	if err != nil {
		return nil, err
	}
	rspans, err := countrySpans(rp, codes)
	if err != nil {
		return nil, err
	}
	for c := range codes {
		data.Countries = append(data.Countries, c)
	}
	sort.Strings(data.Countries)
	codeIndex := map[string]uint32{}
	for i, c := range data.Countries {
		codeIndex[c] = uint32(i + 1)
	}
	au := codeIndex["AU"]
	nir := map[uint32]bool{}
	for c := range nirCountries {
		if i, ok := codeIndex[c]; ok {
			nir[i] = true
		}
	}
	corrected := 0
	correct := func(country, registry uint32) uint32 {
		if country == 0 {
			return registry // a gap in the merged data; rare
		}
		if country == au && au != 0 && nir[registry] {
			corrected++
			return registry
		}
		return country
	}
	byCode := func(s span) uint32 { return codeIndex[s.code] }
	for i, max := range []geobin.U128{geobin.MaxV4, geobin.MaxV6} {
		cs, cv := geobin.Flatten(toSpans(cspans[i], byCode), max)
		rs, rv := geobin.Flatten(toSpans(rspans[i], byCode), max)
		fix := correct
		if i == 0 {
			fix = func(country, registry uint32) uint32 {
				if country == 0 {
					return registry
				}
				return country
			}
		}
		starts, values := geobin.Overlay(cs, cv, rs, rv, fix)
		if i == 0 {
			data.V4Country = geobin.Ranges4FromU128(starts, values)
		} else {
			data.V6Country = geobin.Ranges6{Starts: starts, Values: values}
		}
	}
	fmt.Fprintf(os.Stderr, "gen: %d IPv6 ranges changed from AU to a NIR country\n", corrected)

	var aspans [2][]span
	orgs := map[uint32]string{}
	for i, fam := range []string{"ipv4", "ipv6"} {
		b, name, err := ap.csv(fam)
		if err != nil {
			return nil, err
		}
		err = eachRow(b, name, 4, i == 1, func(first, last netip.Addr, rec []string) error {
			n, err := strconv.ParseUint(strings.TrimSpace(rec[2]), 10, 32)
			if err != nil {
				return fmt.Errorf("AS number %q: %w", rec[2], err)
			}
			if n == 0 {
				return nil // AS0: announced by nobody
			}
			org := cleanOrg(rec[3])
			if _, seen := orgs[uint32(n)]; !seen || orgs[uint32(n)] == "" {
				orgs[uint32(n)] = org
			}
			aspans[i] = append(aspans[i], span{first, last, "", uint32(n)})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for n, o := range orgs {
		data.ASes = append(data.ASes, geobin.AS{Number: n, Org: o})
	}
	slices.SortFunc(data.ASes, func(a, b geobin.AS) int { return int(int64(a.Number) - int64(b.Number)) })
	asIndex := map[uint32]uint32{}
	for i, a := range data.ASes {
		asIndex[a.Number] = uint32(i + 1)
	}

	byAS := func(s span) uint32 { return asIndex[s.asn] }
	data.V4AS = geobin.Flatten4(toSpans(aspans[0], byAS))
	data.V6AS = geobin.Flatten6(toSpans(aspans[1], byAS))
	return data, nil
}

func toSpans(in []span, value func(span) uint32) []geobin.Span {
	out := make([]geobin.Span, len(in))
	for i, s := range in {
		out[i] = geobin.Span{First: geobin.FromAddr(s.first), Last: geobin.FromAddr(s.last), Value: value(s)}
	}
	return out
}

// countrySpans reads a package of "first,last,CC" rows, IPv4 and IPv6,
// adding the codes it meets to codes.
func countrySpans(p *pkg, codes map[string]bool) ([2][]span, error) {
	var spans [2][]span
	for i, fam := range []string{"ipv4", "ipv6"} {
		b, name, err := p.csv(fam)
		if err != nil {
			return spans, err
		}
		err = eachRow(b, name, 3, i == 1, func(first, last netip.Addr, rec []string) error {
			code := strings.ToUpper(strings.TrimSpace(rec[2]))
			if len(code) != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z' {
				return fmt.Errorf("country code %q is not two letters", rec[2])
			}
			codes[code] = true
			spans[i] = append(spans[i], span{first, last, code, 0})
			return nil
		})
		if err != nil {
			return spans, err
		}
	}
	return spans, nil
}

type span struct {
	first, last netip.Addr
	code        string
	asn         uint32
}

// eachRow parses "first,last,fields..." rows of an upstream CSV file.
func eachRow(b []byte, name string, fields int, v6 bool, fn func(first, last netip.Addr, rec []string) error) error {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = fields
	r.ReuseRecord = true
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		first, err1 := netip.ParseAddr(strings.TrimSpace(rec[0]))
		last, err2 := netip.ParseAddr(strings.TrimSpace(rec[1]))
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("%s:%d: %w", name, line, err)
		}
		if first.Is6() != v6 || last.Is6() != v6 || last.Less(first) {
			return fmt.Errorf("%s:%d: bad range %s-%s", name, line, rec[0], rec[1])
		}
		if err := fn(first, last, rec); err != nil {
			return fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
}

func cleanOrg(s string) string {
	s = strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD"))
	for len(s) > 256 {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

func sourceLabel(pkgs ...*pkg) string {
	var vs []string
	for _, p := range pkgs {
		if !slices.Contains(vs, p.Version) {
			vs = append(vs, p.Version)
		}
	}
	return "ip-location-db " + strings.Join(vs, "/")
}

// noticeText names the packages and carries the licence files they ship.
func noticeText(pkgs ...*pkg) string {
	var b strings.Builder
	b.WriteString(`whodunit embedded geolocation data (internal/geo/data/geo.bin.gz)

This database was generated by internal/geo/gen from the following packages
of the npm registry (ip-location-db by sapics). The IP ranges were merged
(more specific range wins), IPv6 AU ranges over addresses that the
registry package gives to an APNIC NIR country (CN, ID, IN, JP, KR, TW, VN)
were given that country (an artefact of APNIC's WHOIS), gaps were filled
from the registry package, re-encoded in whodunit's own binary format and
compressed; rows for AS0 were dropped and organisation names trimmed.
Generated by ` + "`make geo-refresh`" + `.

`)
	for _, p := range pkgs {
		fmt.Fprintf(&b, "- %s %s, licence field: %s\n", p.Name, p.Version, p.License)
	}
	b.WriteString(`
Attribution: IP to country and IP to ASN data by the Number Resource
Organization (nro.net, CC BY 4.0), RouteViews (routeviews.org, CC BY 4.0)
and DB-IP (db-ip.com, "IP Geolocation by DB-IP", CC BY 4.0), compiled by
the ip-location-db project. Licence:
https://creativecommons.org/licenses/by/4.0/
`)
	for _, p := range pkgs {
		var names []string
		for n := range p.files {
			if strings.Contains(strings.ToUpper(n), "LICENSE") || n == "MODIFICATIONS" {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(&b, "\n---- %s %s: %s ----\n%s\n", p.Name, p.Version, n, strings.TrimSpace(string(p.files[n])))
		}
	}
	return b.String()
}
