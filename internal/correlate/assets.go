package correlate

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"

	"github.com/gaissmai/bart"
)

// Asset describes an internal network: who owns it, their sector and country.
type Asset struct {
	Prefix       netip.Prefix
	Organisation string
	Sector       string
	Country      string
}

// Assets maps internal addresses to the organisations they belong to.
type Assets struct {
	table bart.Table[Asset]
	n     int
}

// Len is the number of asset ranges.
func (a *Assets) Len() int {
	if a == nil {
		return 0
	}
	return a.n
}

// Lookup returns the most specific asset range holding addr.
func (a *Assets) Lookup(addr netip.Addr) (Asset, bool) {
	if a == nil {
		return Asset{}, false
	}
	return a.table.Lookup(addr.Unmap())
}

// LoadAssets reads an asset file: CSV with columns cidr, organisation,
// sector, country (a header row naming them is optional; # starts a comment).
func LoadAssets(path string) (*Assets, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseAssets(f, path)
}

// ParseAssets reads an asset file from r; name is used in messages.
func ParseAssets(r io.Reader, name string) (*Assets, error) {
	cr := csv.NewReader(io.LimitReader(r, 64<<20))
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	a := &Assets{}
	cols := map[string]int{"cidr": 0, "organisation": 1, "sector": 2, "country": 3}
	first := true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			// csv.ParseError names the line itself
			return nil, fmt.Errorf("assets %s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if first {
			first = false
			if _, err := netip.ParsePrefix(strings.TrimSpace(rec[0])); err != nil {
				if _, err := netip.ParseAddr(strings.TrimSpace(rec[0])); err != nil {
					// a header row: map the columns by name
					cols = map[string]int{}
					for i, h := range rec {
						h = strings.ToLower(strings.TrimSpace(h))
						switch h {
						case "organization", "org":
							h = "organisation"
						case "network", "prefix", "range":
							h = "cidr"
						}
						cols[h] = i
					}
					if _, ok := cols["cidr"]; !ok {
						return nil, fmt.Errorf("assets %s:%d: header has no cidr column", name, line)
					}
					continue
				}
			}
		}
		get := func(col string) string {
			i, ok := cols[col]
			if !ok || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		cidr := get("cidr")
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			addr, err2 := netip.ParseAddr(cidr)
			if err2 != nil {
				return nil, fmt.Errorf("assets %s:%d: %q is not a CIDR", name, line, cidr)
			}
			p = netip.PrefixFrom(addr, addr.BitLen())
		}
		country := strings.ToUpper(get("country"))
		if country != "" && len(country) != 2 {
			return nil, fmt.Errorf("assets %s:%d: country %q is not an ISO 3166 alpha-2 code", name, line, country)
		}
		a.table.Insert(p.Masked(), Asset{Prefix: p.Masked(), Organisation: get("organisation"), Sector: get("sector"), Country: country})
		a.n++
	}
	return a, nil
}
