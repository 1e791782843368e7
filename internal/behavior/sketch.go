package behavior

import (
	"math"
	"sort"
)

// sketch is a bounded log-bucketed histogram of non-negative values
// (intervals in milliseconds, sizes in bytes). Values fall into buckets of
// relative width sketchGamma, so every quantile it returns is within about
// 2 % of a value that was really observed. Zero has its own bucket. When the
// number of buckets passes the cap, every pair of neighbouring buckets is
// merged (the relative width is squared): resolution drops evenly over the
// whole range instead of collapsing one end, so the median and the MAD stay
// meaningful for wide distributions too.
//
// Buckets are kept sorted and packed in one uint64 each (key in the high 32
// bits, count in the low 32), so a beacon whose intervals all land in two or
// three buckets costs a few dozen bytes.
type sketch struct {
	zero    uint32
	scale   uint8 // buckets span 2^scale base buckets
	buckets []uint64
}

const (
	sketchGamma  = 1.04
	sketchOffset = 1 << 20 // keeps keys positive in the packed form
)

var logGamma = math.Log(sketchGamma)

// baseKey is the signed bucket index of v at scale 0.
func baseKey(v float64) int64 {
	return int64(math.Ceil(math.Log(v) / logGamma))
}

// coarsen maps a signed key at one scale to the next coarser scale.
func coarsen(k int64) int64 {
	return int64(math.Ceil(float64(k) / 2))
}

func (s *sketch) key(v float64) uint32 {
	k := baseKey(v)
	for i := uint8(0); i < s.scale; i++ {
		k = coarsen(k)
	}
	return uint32(k + sketchOffset)
}

// value is the representative value of a bucket: the point whose relative
// distance to both bucket edges is equal.
func (s *sketch) value(key uint32) float64 {
	g := math.Pow(sketchGamma, float64(int64(1)<<s.scale))
	k := float64(int64(key) - sketchOffset)
	return 2 * math.Pow(g, k) / (g + 1)
}

func (s *sketch) count() int64 {
	n := int64(s.zero)
	for _, b := range s.buckets {
		n += int64(uint32(b))
	}
	return n
}

// add records v (values below 0.5 count as zero).
func (s *sketch) add(v float64, maxBuckets int) {
	if !(v >= 0.5) { // also catches NaN
		s.zero = satAdd32(s.zero, 1)
		return
	}
	if math.IsInf(v, 1) {
		v = math.MaxFloat64
	}
	s.addKey(s.key(v), 1, maxBuckets)
}

func (s *sketch) addKey(key, n uint32, maxBuckets int) {
	i := sort.Search(len(s.buckets), func(i int) bool { return uint32(s.buckets[i]>>32) >= key })
	if i < len(s.buckets) && uint32(s.buckets[i]>>32) == key {
		s.buckets[i] = uint64(key)<<32 | uint64(satAdd32(uint32(s.buckets[i]), n))
		return
	}
	s.buckets = append(s.buckets, 0)
	copy(s.buckets[i+1:], s.buckets[i:])
	s.buckets[i] = uint64(key)<<32 | uint64(n)
	for maxBuckets > 1 && len(s.buckets) > maxBuckets && s.scale < 16 {
		s.coarsen()
	}
}

// coarsen merges neighbouring buckets, halving the number of keys.
func (s *sketch) coarsen() {
	s.scale++
	out := s.buckets[:0]
	for _, b := range s.buckets {
		k := uint32(coarsen(int64(uint32(b>>32))-sketchOffset) + sketchOffset)
		if j := len(out) - 1; j >= 0 && uint32(out[j]>>32) == k {
			out[j] = uint64(k)<<32 | uint64(satAdd32(uint32(out[j]), uint32(b)))
			continue
		}
		out = append(out, uint64(k)<<32|uint64(uint32(b)))
	}
	s.buckets = out
}

func satAdd32(a, b uint32) uint32 {
	if a > math.MaxUint32-b {
		return math.MaxUint32
	}
	return a + b
}

// merge adds every count of o to s.
func (s *sketch) merge(o *sketch, maxBuckets int) {
	s.zero = satAdd32(s.zero, o.zero)
	oc := *o
	oc.buckets = append([]uint64(nil), o.buckets...)
	for oc.scale < s.scale {
		oc.coarsen()
	}
	for s.scale < oc.scale {
		s.coarsen()
	}
	for _, b := range oc.buckets {
		s.addKey(uint32(b>>32), uint32(b), maxBuckets)
	}
}

// weighted is one (value, count) pair, the unit of the robust statistics.
type weighted struct {
	v float64
	n float64
}

func (s *sketch) points() []weighted {
	out := make([]weighted, 0, len(s.buckets)+1)
	if s.zero > 0 {
		out = append(out, weighted{0, float64(s.zero)})
	}
	for _, b := range s.buckets {
		out = append(out, weighted{s.value(uint32(b >> 32)), float64(uint32(b))})
	}
	return out
}

// summary is the robust description of one distribution.
type summary struct {
	N          float64
	Q1, Q2, Q3 float64
	MAD        float64 // median absolute deviation from Q2
}

// Bowley is the quartile skewness (Q3+Q1-2·Q2)/(Q3-Q1), in [-1, 1]; 0 when
// the quartiles coincide (a perfectly regular series is not skewed).
func (s summary) Bowley() float64 {
	d := s.Q3 - s.Q1
	if d <= 0 {
		return 0
	}
	return clamp((s.Q3+s.Q1-2*s.Q2)/d, -1, 1)
}

// RelMAD is MAD/median, a scale-free dispersion: uniform jitter of ±j around
// the median gives j/2; exponential (Poisson) intervals give about 0.69.
func (s summary) RelMAD() float64 {
	if s.Q2 <= 0 {
		if s.MAD <= 0 {
			return 0
		}
		return math.Inf(1)
	}
	return s.MAD / s.Q2
}

// summarize computes quartiles and MAD of weighted points sorted by value.
func summarize(pts []weighted) summary {
	var n float64
	for _, p := range pts {
		n += p.n
	}
	if n == 0 {
		return summary{}
	}
	s := summary{N: n}
	s.Q1 = quantile(pts, n, 0.25)
	s.Q2 = quantile(pts, n, 0.5)
	s.Q3 = quantile(pts, n, 0.75)
	dev := make([]weighted, len(pts))
	for i, p := range pts {
		dev[i] = weighted{math.Abs(p.v - s.Q2), p.n}
	}
	sort.Slice(dev, func(i, j int) bool { return dev[i].v < dev[j].v })
	s.MAD = quantile(dev, n, 0.5)
	return s
}

// quantile of weighted points sorted by value, interpolating linearly
// between order statistics (the "type 7" definition used by R and NumPy).
func quantile(pts []weighted, n, q float64) float64 {
	if len(pts) == 0 {
		return 0
	}
	h := q * (n - 1)
	lo := math.Floor(h)
	frac := h - lo
	a := orderStat(pts, lo)
	if frac == 0 {
		return a
	}
	b := orderStat(pts, lo+1)
	return a + frac*(b-a)
}

// orderStat returns the value of the k-th (0-based) smallest observation.
func orderStat(pts []weighted, k float64) float64 {
	var c float64
	for _, p := range pts {
		c += p.n
		if k < c {
			return p.v
		}
	}
	return pts[len(pts)-1].v
}

// summarizeValues is summarize for a plain slice (sorted in place).
func summarizeValues(vs []float64) summary {
	sort.Float64s(vs)
	pts := make([]weighted, 0, len(vs))
	for _, v := range vs {
		if k := len(pts) - 1; k >= 0 && pts[k].v == v {
			pts[k].n++
			continue
		}
		pts = append(pts, weighted{v, 1})
	}
	return summarize(pts)
}

func clamp(x, lo, hi float64) float64 {
	if x < lo || math.IsNaN(x) {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}

// ramp maps x linearly from 0 at lo to 1 at hi (either direction).
func ramp(x, lo, hi float64) float64 {
	if hi == lo {
		if x >= hi {
			return 1
		}
		return 0
	}
	return clamp((x-lo)/(hi-lo), 0, 1)
}

// logRamp is ramp on a logarithmic scale: 0 at lo, 1 at hi, so each doubling
// of x adds the same amount. Suited to counts and durations.
func logRamp(x, lo, hi float64) float64 {
	if x <= lo {
		return 0
	}
	return clamp(math.Log(x/lo)/math.Log(hi/lo), 0, 1)
}
