package svg

import (
	"math"
	"strconv"
)

// Bar is one bar of a bar chart.
type Bar struct {
	Label string
	Value float64
	// Note is printed after the value ("controls 12 hosts").
	Note string
	// Title is the hover text; Label and value when empty.
	Title string
}

// BarChart draws horizontal bars, one per entry, in the given order, with
// the label on the left and the value (and note) on the right. unit names
// what Value counts, for the accessible description.
func BarChart(title, unit string, bars []Bar) string {
	const (
		width  = 720.0
		labelW = 270.0 // room for an AS number and organisation
		// labelChars fits labelW at the chart font (about 6.5 px a
		// character), so no label runs past the chart's left edge.
		labelChars = 38
		noteW      = 190.0
		rowH       = 20.0
		top        = 24.0
	)
	var b builder
	h := top + 6 + rowH*float64(max(len(bars), 1))
	b.open("bar-chart", width, h, title, itoa(len(bars))+" bars of "+unit)
	b.f(`<text class="chart-title" x="%s" y="15">%s</text>`, num(labelW), esc(title))
	if len(bars) == 0 {
		b.f(`<text class="empty" x="%s" y="%s">nothing to show</text></svg>`, num(labelW), num(top+14))
		return b.String()
	}
	maxV := 0.0
	for _, br := range bars {
		maxV = max(maxV, br.Value)
	}
	barW := width - labelW - noteW - 10
	for i, br := range bars {
		y := top + rowH*float64(i)
		w := 0.0
		if maxV > 0 {
			w = barW * br.Value / maxV
		}
		if br.Value > 0 && w < 1 {
			w = 1
		}
		tip := br.Title
		if tip == "" {
			tip = br.Label + ": " + fmtValue(br.Value) + " " + unit
			if br.Note != "" {
				tip += ", " + br.Note
			}
		}
		b.f(`<g class="bar-row"><title>%s</title>`, esc(tip))
		b.f(`<text class="label" x="%s" y="%s" text-anchor="end">%s</text>`, num(labelW-6), num(y+14), esc(truncate(br.Label, labelChars)))
		b.f(`<rect class="bar" x="%s" y="%s" width="%s" height="%s"/>`, num(labelW), num(y+3), num(w), num(rowH-6))
		val := fmtValue(br.Value)
		if br.Note != "" {
			val += " · " + br.Note
		}
		b.f(`<text class="value" x="%s" y="%s">%s</text></g>`, num(labelW+w+5), num(y+14), esc(truncate(val, 40)))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func itoa(n int) string { return num(float64(n)) }

// fmtValue prints integers without decimals and others with at most two.
func fmtValue(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}
