package attribute

import (
	"math"
	"sort"
	"time"
)

// Offset is one candidate UTC offset of the operators' working day.
type Offset struct {
	Hours float64 `json:"hours"` // e.g. 8 for UTC+8, 5.5 for UTC+5:30
	// Fit is the share of the human-driven activity that falls inside a
	// working week (Monday to Friday, 08:00–19:00 local) at this offset.
	Fit float64 `json:"fit"`
	// Posterior is this offset's share of the likelihood among all offsets.
	Posterior float64 `json:"posterior"`
	logLik    float64
}

// TimeZone is the inferred working time zone of a campaign's operators.
type TimeZone struct {
	Best     Offset `json:"best"`
	RunnerUp Offset `json:"runner_up"`
	Events   int    `json:"events"`
	Enough   bool   `json:"enough"` // at least MinTZEvents human-driven events
	// HourOfWeek counts the events by UTC hour of the week (0 = Monday 00:00 UTC).
	HourOfWeek [168]int `json:"hour_of_week"`
}

// MinTZEvents is how many human-driven events a time-zone inference needs.
const MinTZEvents = 20

// candidateOffsets are the UTC offsets in use, −12 to +14.
var candidateOffsets = func() []float64 {
	var out []float64
	for h := -12; h <= 14; h++ {
		out = append(out, float64(h))
	}
	return append(out, -9.5, -3.5, 3.5, 4.5, 5.5, 5.75, 6.5, 9.5, 10.5)
}()

// hourShape is the relative activity of an office worker by local hour on
// a working day: nothing at night, a morning start, a lunch dip at 12:00,
// an afternoon, and a tail into the evening.
var hourShape = [24]float64{
	0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.03, 0.12, // 00–07
	0.55, 1.00, 1.00, 0.95, 0.40, 0.85, 1.00, 1.00, // 08–15
	0.95, 0.85, 0.45, 0.22, 0.12, 0.08, 0.05, 0.03, // 16–23
}

// weekendFactor scales Saturday and Sunday.
const weekendFactor = 0.08

// workWeek is the probability of each local hour of the week (Monday 00:00
// first), mixed with 10 % uniform so that no hour is impossible.
var workWeek = func() [168]float64 {
	var p [168]float64
	sum := 0.0
	for d := 0; d < 7; d++ {
		f := 1.0
		if d >= 5 {
			f = weekendFactor
		}
		for h := 0; h < 24; h++ {
			p[d*24+h] = f * hourShape[h]
			sum += p[d*24+h]
		}
	}
	for i := range p {
		p[i] = 0.9*p[i]/sum + 0.1/168
	}
	return p
}()

// hourOfWeek is the Monday-based hour of the week of t shifted by offset hours.
func hourOfWeek(t time.Time, offset float64) int {
	l := t.UTC().Add(time.Duration(offset * float64(time.Hour)))
	d := (int(l.Weekday()) + 6) % 7 // Monday = 0
	return d*24 + l.Hour()
}

func inOffice(how int) bool {
	d, h := how/24, how%24
	return d < 5 && h >= 8 && h < 19
}

// InferTimeZone fits the working-week model to event times over every
// candidate UTC offset and returns the best and the best offset more than
// one hour away from it (the runner-up).
func InferTimeZone(times []time.Time) TimeZone {
	tz := TimeZone{Events: len(times), Enough: len(times) >= MinTZEvents}
	for _, t := range times {
		tz.HourOfWeek[hourOfWeek(t, 0)]++
	}
	if len(times) == 0 {
		return tz
	}
	offs := make([]Offset, 0, len(candidateOffsets))
	for _, o := range candidateOffsets {
		var ll float64
		in := 0
		for _, t := range times {
			how := hourOfWeek(t, o)
			ll += math.Log(workWeek[how])
			if inOffice(how) {
				in++
			}
		}
		offs = append(offs, Offset{Hours: o, Fit: float64(in) / float64(len(times)), logLik: ll})
	}
	maxLL := math.Inf(-1)
	for _, o := range offs {
		maxLL = math.Max(maxLL, o.logLik)
	}
	total := 0.0
	for _, o := range offs {
		total += math.Exp(o.logLik - maxLL)
	}
	for i := range offs {
		offs[i].Posterior = math.Exp(offs[i].logLik-maxLL) / total
	}
	sort.SliceStable(offs, func(i, j int) bool {
		if offs[i].logLik != offs[j].logLik {
			return offs[i].logLik > offs[j].logLik
		}
		return math.Abs(offs[i].Hours) < math.Abs(offs[j].Hours)
	})
	tz.Best = offs[0]
	for _, o := range offs[1:] {
		if math.Abs(o.Hours-tz.Best.Hours) > 1 {
			tz.RunnerUp = o
			break
		}
	}
	return tz
}
