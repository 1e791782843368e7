package attribute

import (
	"math"
	"sort"
	"time"
)

// Offset is one candidate UTC offset of the operators' working day.
type Offset struct {
	Hours float64 `json:"hours"` // e.g. 8 for UTC+8, 5.5 for UTC+5:30
	// Fit is the share of the human-driven activity that falls inside
	// office hours (Monday to Friday, by default 08:00–19:00 local) at
	// this offset.
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
	Enough   bool   `json:"enough"` // at least TimeZoneModel.MinEvents human-driven events
	// UniformFit is the fit round-the-clock activity gives at any offset;
	// Fitted is false when the best fit is less than MinFitMargin above it:
	// then no working week shows, whatever offset is best.
	UniformFit float64 `json:"uniform_fit"`
	Fitted     bool    `json:"fitted"`
	// HourOfWeek counts the events by UTC hour of the week (0 = Monday 00:00 UTC).
	HourOfWeek [168]int `json:"hour_of_week"`
}

// candidateOffsets are the UTC offsets in use, −12 to +14.
var candidateOffsets = func() []float64 {
	var out []float64
	for h := -12; h <= 14; h++ {
		out = append(out, float64(h))
	}
	return append(out, -9.5, -3.5, 3.5, 4.5, 5.5, 5.75, 6.5, 9.5, 10.5)
}()

// workWeek is the probability of each local hour of the week (Monday 00:00
// first) under m: the hour shape on working days, scaled at weekends, mixed
// with uniform activity so that no hour is impossible.
func (m TimeZoneModel) workWeek() [168]float64 {
	var p [168]float64
	sum := 0.0
	for d := 0; d < 7; d++ {
		f := 1.0
		if d >= 5 {
			f = m.WeekendFactor
		}
		for h := 0; h < 24; h++ {
			p[d*24+h] = f * m.HourShape[h]
			sum += p[d*24+h]
		}
	}
	for i := range p {
		p[i] = (1-m.UniformMix)*p[i]/sum + m.UniformMix/168
	}
	return p
}

// hourOfWeek is the Monday-based hour of the week of t shifted by offset hours.
func hourOfWeek(t time.Time, offset float64) int {
	l := t.UTC().Add(time.Duration(offset * float64(time.Hour)))
	d := (int(l.Weekday()) + 6) % 7 // Monday = 0
	return d*24 + l.Hour()
}

func (m TimeZoneModel) inOffice(how int) bool {
	d, h := how/24, how%24
	return d < 5 && h >= m.OfficeStart && h < m.OfficeEnd
}

// uniformFit is the share of a week's hours that are office hours: the
// fit of activity spread evenly round the clock.
func (m TimeZoneModel) uniformFit() float64 {
	return float64(5*(m.OfficeEnd-m.OfficeStart)) / 168
}

// InferTimeZone is InferTimeZoneWith under DefaultConfig's model.
func InferTimeZone(times []time.Time) TimeZone {
	return InferTimeZoneWith(times, defaultTimeZoneModel())
}

// InferTimeZoneWith fits the working-week model m to event times over every
// candidate UTC offset and returns the best and the best offset more than
// m.RunnerUpApart hours away from it (the runner-up).
func InferTimeZoneWith(times []time.Time, m TimeZoneModel) TimeZone {
	tz := TimeZone{Events: len(times), Enough: len(times) >= m.MinEvents, UniformFit: m.uniformFit()}
	for _, t := range times {
		tz.HourOfWeek[hourOfWeek(t, 0)]++
	}
	if len(times) == 0 {
		return tz
	}
	week := m.workWeek()
	offs := make([]Offset, 0, len(candidateOffsets))
	for _, o := range candidateOffsets {
		var ll float64
		in := 0
		for _, t := range times {
			how := hourOfWeek(t, o)
			ll += math.Log(week[how])
			if m.inOffice(how) {
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
	tz.Fitted = tz.Enough && tz.Best.Fit-tz.UniformFit >= m.MinFitMargin
	for _, o := range offs[1:] {
		if math.Abs(o.Hours-tz.Best.Hours) > m.RunnerUpApart {
			tz.RunnerUp = o
			break
		}
	}
	return tz
}
