package attribute

import (
	"math"
	"sort"
	"time"

	"github.com/whodunit-project/whodunit/internal/behavior"
)

// humanTimes returns the times of the campaign's human-driven activity:
// one event per series (victim, value) and burst of BurstSeconds,
// outside automated series. A series is automated
// when any beacon detection names it — also one whose score a vendor or
// top-site list lowered below the threshold, since a lowered beacon is
// still a machine — or when its events are regular (see regular).
func (s *assessor) humanTimes() []time.Time {
	beacons := s.beaconSeries()
	series := map[string][]time.Time{}
	for _, si := range s.c.Sightings {
		sg := &s.sightings[si]
		if sg.Suppressed {
			continue
		}
		host := internalHost(sg).String()
		key := host + "|" + sg.Value
		if beacons[key] || beacons[host+"|"+sg.DstIP.Unmap().String()] {
			continue
		}
		series[key] = append(series[key], sg.Time)
	}
	var out []time.Time
	for _, key := range sortedKeys(series) {
		ts := series[key]
		sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
		events := s.bursts(ts)
		if s.regular(events) {
			continue
		}
		out = append(out, events...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// bursts keeps of sorted times the first of each burst: times less than
// BurstSeconds after the burst's first are records of the same event.
func (s *assessor) bursts(ts []time.Time) []time.Time {
	gap := time.Duration(s.cfg.TimeZone.BurstSeconds) * time.Second
	var out []time.Time
	for _, t := range ts {
		if len(out) == 0 || t.Sub(out[len(out)-1]) >= gap {
			out = append(out, t)
		}
	}
	return out
}

// beaconSeries are the "victim|destination" keys that any beacon
// detection names, by address and by name, whatever its score.
func (s *assessor) beaconSeries() map[string]bool {
	beacons := map[string]bool{}
	for i := range s.detections {
		d := &s.detections[i]
		if d.Analytic != behavior.Beacon {
			continue
		}
		if d.Dst.IsValid() {
			beacons[d.Src.String()+"|"+d.Dst.Unmap().String()] = true
		}
		if d.DstName != "" {
			beacons[d.Src.String()+"|"+d.DstName] = true
		}
	}
	return beacons
}

// regular reports whether sorted times form an automated series: at least
// RegularMinEvents events whose intervals' coefficient of variation is
// below RegularMaxCV.
func (s *assessor) regular(ts []time.Time) bool {
	if len(ts) < s.cfg.TimeZone.RegularMinEvents {
		return false
	}
	var iv []float64
	for i := 1; i < len(ts); i++ {
		iv = append(iv, ts[i].Sub(ts[i-1]).Seconds())
	}
	mean, sd := 0.0, 0.0
	for _, x := range iv {
		mean += x
	}
	mean /= float64(len(iv))
	if mean <= 0 {
		return true
	}
	for _, x := range iv {
		sd += (x - mean) * (x - mean)
	}
	sd = math.Sqrt(sd / float64(len(iv)))
	return sd/mean < s.cfg.TimeZone.RegularMaxCV
}
