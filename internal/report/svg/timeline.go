package svg

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Span is an interval on a timeline lane.
type Span struct {
	From, To time.Time
	// Class is "incident" or "detection"; it picks the colour.
	Class string
	Title string
}

// Lane is one row of the timeline, usually one victim host.
type Lane struct {
	Label string
	Spans []Span
}

// Timeline is what TimelineChart draws.
type Timeline struct {
	Title string
	// Events are the times of individual sightings, counted per bucket in
	// the histogram on top.
	Events []time.Time
	// Detections are the start times of behavioural detections, stacked on
	// the sightings in another colour.
	Detections []time.Time
	Lanes      []Lane
	// MaxLanes bounds the rows drawn; the rest are summarised in one line.
	MaxLanes int
	// Compact draws the histogram as one path per colour, without hover
	// text per period, for reports with many timelines.
	Compact bool
}

// bucketSizes are the histogram resolutions, finest first.
var bucketSizes = []time.Duration{time.Hour, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour, 365 * 24 * time.Hour}

// TimelineChart draws a histogram of events over time and, below it, one
// lane per host with its incidents and detections as bars.
func TimelineChart(t Timeline) string {
	const (
		width  = 760.0
		left   = 130.0
		right  = 10.0
		histH  = 70.0
		laneH  = 16.0
		top    = 8.0
		axisH  = 22.0
		plotW  = width - left - right
		maxBin = 120
	)
	var start, end time.Time
	extend := func(a, z time.Time) {
		if a.IsZero() {
			return
		}
		if start.IsZero() || a.Before(start) {
			start = a
		}
		if z.After(end) {
			end = z
		}
	}
	for _, e := range t.Events {
		extend(e, e)
	}
	for _, e := range t.Detections {
		extend(e, e)
	}
	for _, l := range t.Lanes {
		for _, s := range l.Spans {
			extend(s.From, s.To)
		}
	}
	lanes := t.Lanes
	more := 0
	if t.MaxLanes > 0 && len(lanes) > t.MaxLanes {
		more = len(lanes) - t.MaxLanes
		lanes = lanes[:t.MaxLanes]
	}
	rows := len(lanes)
	if more > 0 {
		rows++
	}
	height := top + histH + axisH + laneH*float64(rows) + 6
	var b builder
	b.open("timeline", width, height, t.Title, fmt.Sprintf("%d sightings, %d detections, %d hosts", len(t.Events), len(t.Detections), len(t.Lanes)))
	if start.IsZero() {
		b.f(`<text class="empty" x="%s" y="%s">nothing to show</text></svg>`, num(left), num(top+20))
		return b.String()
	}
	bucket := bucketSizes[len(bucketSizes)-1]
	for _, s := range bucketSizes {
		if end.Sub(start)/s < maxBin {
			bucket = s
			break
		}
	}
	start = start.UTC().Truncate(bucket)
	if bucket >= 24*time.Hour {
		start = time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)
	}
	nb := int(end.Sub(start)/bucket) + 1
	end = start.Add(time.Duration(nb) * bucket)
	xOf := func(tm time.Time) float64 {
		return left + plotW*float64(tm.Sub(start))/float64(end.Sub(start))
	}
	sightings := make([]int, nb)
	detections := make([]int, nb)
	for _, e := range t.Events {
		sightings[int(e.Sub(start)/bucket)]++
	}
	for _, e := range t.Detections {
		detections[int(e.Sub(start)/bucket)]++
	}
	maxC := 1
	for i := range sightings {
		maxC = max(maxC, sightings[i]+detections[i])
	}
	b.f(`<text class="axis-title" x="%s" y="%s" text-anchor="end">per %s</text>`, num(left-6), num(top+12), bucketName(bucket))
	b.f(`<text class="tick" x="%s" y="%s" text-anchor="end">%d</text>`, num(left-6), num(top+26), maxC)
	bw := plotW / float64(nb)
	base := top + histH
	var sPath, dPath strings.Builder
	for i := 0; i < nb; i++ {
		if sightings[i]+detections[i] == 0 {
			continue
		}
		if t.Compact {
			x := left + bw*float64(i)
			hs := histH * float64(sightings[i]) / float64(maxC)
			hd := histH * float64(detections[i]) / float64(maxC)
			if sightings[i] > 0 {
				fmt.Fprintf(&sPath, "M%s %sh%sv%sh-%sz", num(x), num(base-max(hs, 1)), num(max(bw-1, 1)), num(max(hs, 1)), num(max(bw-1, 1)))
			}
			if detections[i] > 0 {
				fmt.Fprintf(&dPath, "M%s %sh%sv%sh-%sz", num(x), num(base-hs-max(hd, 1)), num(max(bw-1, 1)), num(max(hd, 1)), num(max(bw-1, 1)))
			}
			continue
		}
		x := left + bw*float64(i)
		from := start.Add(time.Duration(i) * bucket)
		hs := histH * float64(sightings[i]) / float64(maxC)
		hd := histH * float64(detections[i]) / float64(maxC)
		b.f(`<g class="bin"><title>%s: %d sightings, %d detections</title>`, esc(from.Format(binFormat(bucket))), sightings[i], detections[i])
		if sightings[i] > 0 {
			b.f(`<rect class="sighting" x="%s" y="%s" width="%s" height="%s"/>`, num(x), num(base-hs), num(max(bw-1, 1)), num(max(hs, 1)))
		}
		if detections[i] > 0 {
			b.f(`<rect class="detection" x="%s" y="%s" width="%s" height="%s"/>`, num(x), num(base-hs-hd), num(max(bw-1, 1)), num(max(hd, 1)))
		}
		b.WriteString(`</g>`)
	}
	if sPath.Len() > 0 {
		b.f(`<path class="sighting" d="%s"/>`, sPath.String())
	}
	if dPath.Len() > 0 {
		b.f(`<path class="detection" d="%s"/>`, dPath.String())
	}
	b.f(`<line class="axis" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(left), num(base), num(width-right), num(base))
	for _, tk := range ticks(start, end, 6) {
		x := xOf(tk)
		b.f(`<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(x), num(base), num(x), num(height-4))
		// A label near either edge is anchored inward so the chart does not cut it.
		anchor := "middle"
		switch {
		case x < left+30:
			anchor = "start"
		case x > width-30:
			anchor = "end"
		}
		b.f(`<text class="tick" x="%s" y="%s" text-anchor="%s">%s</text>`, num(x), num(base+15), anchor, esc(tk.Format(tickFormat(end.Sub(start)))))
	}
	y := base + axisH
	for _, l := range lanes {
		b.f(`<g class="lane"><text class="label" x="%s" y="%s" text-anchor="end">%s</text>`, num(left-6), num(y+12), esc(truncate(l.Label, 20)))
		spans := append([]Span(nil), l.Spans...)
		sort.SliceStable(spans, func(i, j int) bool { return spans[i].Class > spans[j].Class }) // incidents under detections
		for _, s := range spans {
			x1, x2 := xOf(s.From), xOf(s.To)
			class := "incident"
			hgt, dy := laneH-4, 2.0
			if s.Class == "detection" {
				class, hgt, dy = "detection", laneH-10, 5
			}
			b.f(`<rect class="%s" x="%s" y="%s" width="%s" height="%s"><title>%s</title></rect>`,
				class, num(x1), num(y+dy), num(max(x2-x1, 2)), num(hgt), esc(s.Title))
		}
		b.WriteString(`</g>`)
		y += laneH
	}
	if more > 0 {
		b.f(`<text class="more" x="%s" y="%s">… and %d more hosts (see the victims table)</text>`, num(left), num(y+12), more)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func bucketName(d time.Duration) string {
	switch d {
	case time.Hour:
		return "hour"
	case 6 * time.Hour:
		return "6 hours"
	case 24 * time.Hour:
		return "day"
	case 7 * 24 * time.Hour:
		return "week"
	case 30 * 24 * time.Hour:
		return "30 days"
	}
	return "year"
}

func binFormat(d time.Duration) string {
	if d < 24*time.Hour {
		return "2006-01-02 15:04 UTC"
	}
	return "2006-01-02"
}

func tickFormat(span time.Duration) string {
	switch {
	case span <= 2*24*time.Hour:
		return "Jan 2 15:04"
	case span <= 400*24*time.Hour:
		return "Jan 2"
	}
	return "Jan 2006"
}

// ticks returns about n round times between start and end.
func ticks(start, end time.Time, n int) []time.Time {
	span := end.Sub(start)
	steps := []time.Duration{time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 2 * 24 * time.Hour,
		7 * 24 * time.Hour, 14 * 24 * time.Hour, 30 * 24 * time.Hour, 91 * 24 * time.Hour, 182 * 24 * time.Hour, 365 * 24 * time.Hour}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if span/s <= time.Duration(n) {
			step = s
			break
		}
	}
	first := start.Truncate(step)
	if step >= 24*time.Hour {
		first = time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)
	}
	var out []time.Time
	for tk := first; !tk.After(end) && len(out) < 4*n; tk = tk.Add(step) {
		if !tk.Before(start) {
			out = append(out, tk)
		}
	}
	return out
}
