package behavior_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/behavior"
)

func run(cfg behavior.Config, benign behavior.Benign, flows []flow) []behavior.Detection {
	sortFlows(flows)
	a := behavior.New(cfg, benign)
	for i, f := range flows {
		a.Observe(f.event(int64(i + 1)))
	}
	return a.Finish()
}

func find(ds []behavior.Detection, analytic string, src, dst netip.Addr) (behavior.Detection, bool) {
	for _, d := range ds {
		if d.Analytic == analytic && d.Src == src && d.Dst == dst {
			return d, true
		}
	}
	return behavior.Detection{}, false
}

func explain(d behavior.Detection) string {
	return fmt.Sprintf("%s %s→%s score %.2f raw %.2f\n  %s\n  modifiers %v", d.Analytic, d.Src, d.Dst, d.Score, d.RawScore,
		strings.Join(d.Facts, "\n  "), d.Modifiers)
}

func TestSyntheticBeaconsFound(t *testing.T) {
	cfg := behavior.DefaultConfig()
	src, dst := hostAddr(7), extAddr(7)
	for _, iv := range []time.Duration{10 * time.Second, time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour} {
		for _, jit := range []float64{0, 0.1, 0.3, 0.5} {
			for _, office := range []bool{false, true} {
				spec := beaconSpec{interval: iv, jitter: jit, office: office, span: max(24*time.Hour, 30*iv)}
				if office {
					spec.span = 5 * 24 * time.Hour
				}
				name := fmt.Sprintf("%s/jitter%.0f%%/office=%v", iv, 100*jit, office)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					rng := rand.New(rand.NewPCG(uint64(iv), uint64(jit*100)))
					var p ports
					ds := run(cfg, nil, beacon(rng, spec, src, dst, &p))
					d, ok := find(ds, behavior.Beacon, src, dst)
					if !ok {
						t.Fatalf("no beacon finding; got %d findings", len(ds))
					}
					if !cfg.Detected(d) {
						t.Errorf("beacon scored %.2f, below the threshold %.2f:\n%s", d.Score, cfg.Threshold, explain(d))
					}
					if testing.Verbose() {
						t.Logf("score %.2f", d.Score)
					}
				})
			}
		}
	}
}

func TestRandomTrafficNotFound(t *testing.T) {
	cfg := behavior.DefaultConfig()
	rng := rand.New(rand.NewPCG(1, 2))
	var p ports
	var flows []flow
	i := 0
	for _, mean := range []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour} {
		for k := 0; k < 20; k++ {
			i++
			flows = append(flows, poisson(rng, mean, min(2*24*time.Hour, 20000*mean), hostAddr(i), extAddr(i), &p)...)
		}
	}
	for k := 0; k < 100; k++ {
		i++
		flows = append(flows, browsing(rng, 3, hostAddr(i), extAddr(i), &p)...)
	}
	ds := run(cfg, nil, flows)
	for _, d := range ds {
		if d.Analytic == behavior.Beacon && cfg.Detected(d) {
			t.Errorf("random series flagged:\n%s", explain(d))
		}
	}
}
