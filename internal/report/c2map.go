package report

import (
	"fmt"
	"sort"

	"github.com/whodunit-project/whodunit/internal/correlate"
	"github.com/whodunit-project/whodunit/internal/report/svg"
)

// C2Countries counts the C2 servers of campaigns by country for
// svg.WorldMap: addresses in the C2 role that no rule suppressed, each
// once however many campaigns it serves; the note says how many hosts
// they control (per server, the most any one campaign saw).
func C2Countries(campaigns []Campaign) []svg.CountryCount {
	type server struct {
		country string
		victims int
	}
	servers := map[string]server{}
	for i := range campaigns {
		for _, in := range campaigns[i].Infrastructure {
			if in.Kind != "ip" || in.Role != correlate.RoleC2 || in.Suppressed {
				continue
			}
			s := servers[in.Value]
			s.country, s.victims = orUnknown(in.Country), max(s.victims, in.Victims)
			servers[in.Value] = s
		}
	}
	byCountry := map[string]*svg.CountryCount{}
	hosts := map[string]int{}
	for _, s := range servers {
		c := byCountry[s.country]
		if c == nil {
			c = &svg.CountryCount{Code: mapCode(s.country), Name: countryLabel(s.country)}
			byCountry[s.country] = c
		}
		c.Count++
		hosts[s.country] += s.victims
	}
	out := make([]svg.CountryCount, 0, len(byCountry))
	for cc, c := range byCountry {
		c.Note = fmt.Sprintf("control %d hosts", hosts[cc])
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Name < out[j].Name
	})
	return out
}
