// Package svg draws the report's charts as inline SVG: horizontal bar
// charts, a timeline, an hour-of-week heat map and a world map of
// infrastructure by country. Every function returns self-contained markup
// (no scripts, no external references, every text escaped) that reads
// without JavaScript and prints as vector graphics. Tooltips are SVG
// <title> elements, which browsers show on hover.
package svg

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// builder accumulates markup.
type builder struct{ strings.Builder }

func (b *builder) f(format string, args ...any) { fmt.Fprintf(&b.Builder, format, args...) }

// esc escapes text and attribute values.
func esc(s string) string { return html.EscapeString(s) }

// num formats a coordinate with at most one decimal.
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "0"
	}
	s := strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
	if s == "-0" {
		return "0"
	}
	return s
}

// open starts an <svg> with an accessible title and description.
func (b *builder) open(class string, w, h float64, title, desc string) {
	b.f(`<svg xmlns="http://www.w3.org/2000/svg" class="chart %s" viewBox="0 0 %s %s" width="%s" height="%s" role="img" aria-label="%s">`,
		esc(class), num(w), num(h), num(w), num(h), esc(title))
	b.f(`<title>%s</title>`, esc(title))
	if desc != "" {
		b.f(`<desc>%s</desc>`, esc(desc))
	}
}

// truncate shortens a label to n runes with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// ramp returns a colour between light and dark for t in [0,1].
func ramp(t float64, light, dark [3]float64) string {
	t = math.Max(0, math.Min(1, t))
	var c [3]int
	for i := range c {
		c[i] = int(math.Round(light[i] + (dark[i]-light[i])*t))
	}
	return fmt.Sprintf("#%02x%02x%02x", c[0], c[1], c[2])
}

var (
	blueLight   = [3]float64{0xde, 0xeb, 0xf7}
	blueDark    = [3]float64{0x08, 0x30, 0x6b}
	orangeLight = [3]float64{0xfd, 0xd0, 0xa2}
	orangeDark  = [3]float64{0xa6, 0x36, 0x03}
)
