package svg

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/whodunit-project/whodunit/internal/report/worldmap"
)

// MapDefsID prefixes the ids of the country outlines that WorldMapDefs
// defines and WorldMap references.
const MapDefsID = "wm-"

// WorldMapDefs returns a hidden SVG that defines every country outline
// once (a group "wm-world" of paths "wm-CN", …); each WorldMap draws them
// with <use>, so a report with a hundred maps carries the shapes once. Put
// it in the document before the maps, with the stylesheet rule
// .map-defs{position:absolute;width:0;height:0;overflow:hidden}: no
// inline style, which a Content-Security-Policy may forbid.
func WorldMapDefs() string {
	var b builder
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" class="map-defs" width="0" height="0" aria-hidden="true" focusable="false"><defs>`)
	b.f(`<g id="%sworld">`, MapDefsID)
	for _, c := range worldmap.Countries() {
		b.f(`<path id="%s%s" class="country" d="%s"/>`, MapDefsID, c.Code, c.Path)
	}
	b.WriteString(`</g></defs></svg>`)
	return b.String()
}

// CountryCount is a number attached to a country, e.g. C2 servers there.
type CountryCount struct {
	Code  string // ISO 3166-1 alpha-2; "" or "unknown" when not located
	Name  string
	Count int
	Note  string // extra hover text ("controls 12 hosts")
}

// WorldMap draws every country, shades those with a count (darker for
// more) and puts a circle sized by the count on each. Countries too small
// for the map's scale, and counts with no country, are listed under it.
func WorldMap(title, unit string, counts []CountryCount) string {
	w, h := float64(worldmap.Width), float64(worldmap.Height)
	legendH := 24.0
	byCode := map[string]CountryCount{}
	maxC, total := 0, 0
	for _, c := range counts {
		if c.Count <= 0 {
			continue
		}
		code := strings.ToUpper(c.Code)
		cur := byCode[code]
		cur.Code, cur.Count = code, cur.Count+c.Count
		if cur.Name == "" {
			cur.Name = c.Name
		}
		if c.Note != "" {
			cur.Note = c.Note
		}
		byCode[code] = cur
		maxC = max(maxC, cur.Count)
		total += c.Count
	}
	var b builder
	b.open("worldmap", w, h+legendH, title, fmt.Sprintf("%d %s in %d countries", total, unit, len(byCode)))
	b.f(`<rect class="sea" x="0" y="0" width="%s" height="%s"/>`, num(w), num(h))
	// Every country once from the shared outlines, then those with a count
	// on top in their colour.
	b.f(`<use class="land" href="#%sworld"/>`, MapDefsID)
	for _, c := range worldmap.Countries() {
		cc, hit := byCode[c.Code]
		if !hit {
			continue
		}
		name := c.Name
		if cc.Name != "" {
			name = cc.Name
		}
		fill := ramp(0.25+0.75*math.Sqrt(float64(cc.Count)/float64(maxC)), orangeLight, orangeDark)
		tip := fmt.Sprintf("%s: %d %s", name, cc.Count, unit)
		if cc.Note != "" {
			tip += ", " + cc.Note
		}
		b.f(`<use class="country hit" href="#%s%s" data-cc="%s" data-count="%d" fill="%s"><title>%s</title></use>`, MapDefsID, c.Code, c.Code, cc.Count, fill, esc(tip))
	}
	// markers above every country so that none hides one
	var missing []string
	codes := make([]string, 0, len(byCode))
	for code := range byCode {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		cc := byCode[code]
		c, ok := worldmap.Lookup(code)
		if !ok {
			label := code
			if label == "" {
				label = "unknown"
			}
			if cc.Name != "" && cc.Name != label {
				label = cc.Name + " (" + label + ")"
			}
			missing = append(missing, fmt.Sprintf("%s %d", label, cc.Count))
			continue
		}
		r := 3 + 9*math.Sqrt(float64(cc.Count)/float64(maxC))
		b.f(`<g class="marker" data-cc="%s"><title>%s: %d %s</title><circle cx="%d" cy="%d" r="%s"/><text x="%d" y="%s" text-anchor="middle">%d</text></g>`,
			code, esc(firstNonEmpty(cc.Name, c.Name)), cc.Count, unit, c.X, c.Y, num(r), c.X, num(float64(c.Y)-r-3), cc.Count)
	}
	legend := fmt.Sprintf("%d %s in %d countries", total, unit, len(byCode))
	if len(missing) > 0 {
		legend += " · not on the map: " + strings.Join(missing, ", ")
	}
	b.f(`<text class="legend" x="4" y="%s">%s</text>`, num(h+16), esc(truncate(legend, 150)))
	b.WriteString(`</svg>`)
	return b.String()
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
