package svg

import (
	"fmt"
	"math"
	"strings"
)

var dayNames = [7]string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// HourOfWeek draws a 7 × 24 heat map of activity by UTC hour of the week
// (index 0 = Monday 00:00 UTC). When showOffset is set, a second axis gives
// the hours in local time at UTC+offset, and the cells that fall in a
// working day there (Monday to Friday, 08:00–18:00 local) are outlined, so
// the reader sees whether the activity fits the inferred office hours.
//
// compact drops the per-cell hover text and draws the cells as one path
// per shade, for reports with many heat maps.
func HourOfWeek(title string, counts [168]int, offset float64, showOffset, compact bool) string {
	const (
		left  = 44.0
		top   = 34.0
		cellW = 26.0
		cellH = 20.0
	)
	width := left + 24*cellW + 10
	height := top + 7*cellH + 40
	total, maxC := 0, 0
	for _, c := range counts {
		total += c
		maxC = max(maxC, c)
	}
	var b builder
	desc := fmt.Sprintf("%d events by hour of the week in UTC", total)
	if showOffset {
		desc += "; operator offset " + FormatOffset(offset)
	}
	b.open("heatmap", width, height, title, desc)
	b.f(`<text class="axis-title" x="%s" y="12">UTC</text>`, num(left))
	for h := 0; h < 24; h++ {
		b.f(`<text class="tick" x="%s" y="%s" text-anchor="middle">%02d</text>`, num(left+cellW*float64(h)+cellW/2), num(top-6), h)
	}
	// Empty cells are one background strip per day; only active cells are
	// drawn, so that a report with a hundred heat maps stays small.
	const shades = 6
	var levels [shades]strings.Builder
	for d := 0; d < 7; d++ {
		y := top + cellH*float64(d)
		b.f(`<text class="tick" x="%s" y="%s" text-anchor="end">%s</text>`, num(left-6), num(y+14), dayNames[d])
		b.f(`<rect class="day" x="%s" y="%s" width="%s" height="%s"/>`, num(left+1), num(y+1), num(24*cellW-2), num(cellH-2))
		for h := 0; h < 24; h++ {
			i := d*24 + h
			c := counts[i]
			if c == 0 {
				continue
			}
			if compact {
				l := min(shades-1, (c*shades-1)/maxC)
				fmt.Fprintf(&levels[l], "M%s %sh%sv%sh-%sz", num(left+cellW*float64(h)+1), num(y+1), num(cellW-2), num(cellH-2), num(cellW-2))
				continue
			}
			tip := fmt.Sprintf("%s %02d:00 UTC", dayNames[d], h)
			if showOffset {
				tip += " (" + localLabel(i, offset) + " " + FormatOffset(offset) + ")"
			}
			tip += fmt.Sprintf(": %d", c)
			fill := ramp(0.15+0.85*float64(c)/float64(maxC), blueLight, blueDark)
			b.f(`<rect class="cell" x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s</title></rect>`,
				num(left+cellW*float64(h)+1), num(y+1), num(cellW-2), num(cellH-2), fill, esc(tip))
		}
	}
	for l := range levels {
		if levels[l].Len() > 0 {
			lo, hi := l*maxC/shades+1, (l+1)*maxC/shades
			b.f(`<path class="cell" d="%s" fill="%s"><title>%d–%d events</title></path>`, levels[l].String(),
				ramp(0.15+0.85*float64(l+1)/shades, blueLight, blueDark), lo, hi)
		}
	}
	if showOffset {
		// Outline the local working day, Monday to Friday 08:00-18:00,
		// split where it crosses midnight UTC.
		shift := int(math.Floor(offset))
		for d := 0; d < 5; d++ {
			from := ((d*24+8-shift)%168 + 168) % 168
			for n := 10; n > 0; {
				row, col := from/24, from%24
				run := min(n, 24-col)
				b.f(`<rect class="office" x="%s" y="%s" width="%s" height="%s"/>`,
					num(left+cellW*float64(col)), num(top+cellH*float64(row)), num(cellW*float64(run)), num(cellH))
				n -= run
				from = (from + run) % 168
			}
		}
	}
	if showOffset {
		y := top + 7*cellH + 16
		b.f(`<text class="axis-title" x="%s" y="%s" text-anchor="end">%s</text>`, num(left-6), num(y), esc(FormatOffset(offset)))
		for h := 0; h < 24; h++ {
			lh := math.Mod(float64(h)+offset+48, 24)
			b.f(`<text class="tick local" x="%s" y="%s" text-anchor="middle">%s</text>`, num(left+cellW*float64(h)+cellW/2), num(y), clock(lh, false))
		}
		b.f(`<text class="legend" x="%s" y="%s">Outlined: Monday–Friday 08:00–18:00 at %s</text>`, num(left), num(y+18), esc(FormatOffset(offset)))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// localLabel is the local day and time of UTC hour-of-week i.
func localLabel(i int, offset float64) string {
	minutes := float64(i)*60 + offset*60
	minutes = math.Mod(minutes+168*60, 168*60)
	d := int(minutes) / (24 * 60)
	return dayNames[d] + " " + clock(math.Mod(minutes/60, 24), true)
}

// clock prints an hour of the day as HH or HH:MM.
func clock(h float64, full bool) string {
	hh := int(h)
	mm := int(math.Round((h - float64(hh)) * 60))
	if mm == 60 {
		hh, mm = (hh+1)%24, 0
	}
	if mm == 0 && !full {
		return fmt.Sprintf("%02d", hh)
	}
	return fmt.Sprintf("%02d:%02d", hh, mm)
}

// FormatOffset writes a UTC offset as UTC+8, UTC−5 or UTC+5:30.
func FormatOffset(h float64) string {
	sign := "+"
	if h < 0 {
		sign, h = "−", -h
	}
	hh := int(h)
	mm := int(math.Round((h - float64(hh)) * 60))
	if mm == 0 {
		return fmt.Sprintf("UTC%s%d", sign, hh)
	}
	return fmt.Sprintf("UTC%s%d:%02d", sign, hh, mm)
}
