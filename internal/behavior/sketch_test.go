package behavior

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The sketch's quartiles and MAD stay within a few per cent of the exact
// values, also after coarsening (few buckets, wide distributions).
func TestSketchAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	gens := map[string]func() float64{
		"beacon 60s ±30%": func() float64 { return 60000 * (1 + 0.3*(2*rng.Float64()-1)) },
		"exponential":     func() float64 { return rng.ExpFloat64() * 30000 },
		"lognormal σ=2":   func() float64 { return math.Exp(8 + 2*rng.NormFloat64()) },
	}
	for name, gen := range gens {
		for _, maxBuckets := range []int{128, 16} {
			var s sketch
			vals := make([]float64, 20000)
			for i := range vals {
				vals[i] = gen()
				s.add(vals[i], maxBuckets)
			}
			if len(s.buckets) > maxBuckets {
				t.Errorf("%s: %d buckets, cap %d", name, len(s.buckets), maxBuckets)
			}
			if s.count() != int64(len(vals)) {
				t.Errorf("%s: count %d", name, s.count())
			}
			got := summarize(s.points())
			want := summarizeValues(vals)
			// relative bucket width: gamma^(2^scale)
			tol := math.Pow(sketchGamma, float64(int(1)<<s.scale)) - 1 + 0.01
			for _, c := range []struct {
				what      string
				got, want float64
			}{{"Q1", got.Q1, want.Q1}, {"median", got.Q2, want.Q2}, {"Q3", got.Q3, want.Q3}, {"MAD", got.MAD, want.MAD}} {
				if math.Abs(c.got-c.want) > tol*c.want+1 {
					t.Errorf("%s (cap %d, scale %d): %s %.1f, exact %.1f", name, maxBuckets, s.scale, c.what, c.got, c.want)
				}
			}
		}
	}
}

func TestSketchMergeAndZero(t *testing.T) {
	var a, b sketch
	for i := 0; i < 100; i++ {
		a.add(float64(1000+i), 128)
		b.add(0, 128)
		b.add(float64(1e9+float64(i)*1e7), 4) // forces coarsening in b
	}
	a.merge(&b, 128)
	if a.count() != 300 || a.zero != 100 {
		t.Fatalf("count %d zero %d", a.count(), a.zero)
	}
	if a.scale != b.scale {
		t.Errorf("merged scale %d, want %d", a.scale, b.scale)
	}
}

func TestBowleyAndRelMAD(t *testing.T) {
	s := summarizeValues([]float64{10, 10, 10, 10})
	if s.Bowley() != 0 || s.RelMAD() != 0 || skewPart(s) != 1 {
		t.Errorf("constant series: bowley %v relmad %v skewpart %v", s.Bowley(), s.RelMAD(), skewPart(s))
	}
	s = summarizeValues([]float64{1, 2, 3, 4, 100, 200, 300, 400})
	if b := s.Bowley(); b <= 0.5 {
		t.Errorf("right-skewed series: bowley %v", b)
	}
}
