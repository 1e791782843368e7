package attribute

import (
	"math"
	"sort"
	"time"

	"github.com/whodunit-project/whodunit/internal/behavior"
)

// humanTimes returns the times of the campaign's human-driven activity:
// sighting times (one per victim, value and minute) outside automated
// series. A series (victim, value) is automated when a beacon detection
// names it, or when it is regular (see regular).
func (s *assessor) humanTimes() []time.Time {
	beacons := s.beaconSeries()
	series := map[string][]time.Time{}
	for _, si := range s.c.Sightings {
		sg := &s.sightings[si]
		if sg.Suppressed {
			continue
		}
		key := sg.SrcIP.String() + "|" + sg.Value
		if beacons[key] || beacons[sg.SrcIP.String()+"|"+sg.DstIP.Unmap().String()] {
			continue
		}
		series[key] = append(series[key], sg.Time)
	}
	minutes := map[string]bool{}
	var out []time.Time
	for key, ts := range series {
		sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
		if s.regular(ts) {
			continue
		}
		for _, t := range ts {
			k := key + "|" + t.UTC().Truncate(time.Minute).Format(time.RFC3339)
			if !minutes[k] {
				minutes[k] = true
				out = append(out, t)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// beaconSeries are the "victim|destination" keys the campaign's beacon
// detections name, by address and by name.
func (s *assessor) beaconSeries() map[string]bool {
	beacons := map[string]bool{}
	for _, di := range s.c.Detections {
		d := &s.detections[di]
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
