package behavior_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/behavior"
)

// TestRarityNoteSaysWhy: the note on a finding whose rarity is not assessed
// names the real reason: too few internal hosts, or enough hosts of which
// none reaches the destination (an inbound beacon to an internal host).
func TestRarityNoteSaysWhy(t *testing.T) {
	cfg := behavior.DefaultConfig()
	cfg.AnalyseInbound = true
	rng := rand.New(rand.NewPCG(5, 6))
	spec := beaconSpec{interval: 10 * time.Minute, jitter: 0.1, span: 12 * time.Hour}
	var p ports
	inbound := beacon(rng, spec, extAddr(7), hostAddr(1), &p)

	few := run(cfg, nil, inbound)
	d, ok := find(few, behavior.Beacon, extAddr(7), hostAddr(1))
	if !ok {
		t.Fatal("inbound beacon not found")
	}
	if want := "rarity not assessed: 0 internal hosts observed (needs 10)"; !hasExactFact(d, want) {
		t.Errorf("no internal host: want fact %q in\n%s", want, strings.Join(d.Facts, "\n"))
	}

	flows := inbound
	for i := 0; i < 10; i++ { // ten internal hosts, each with its own beacon
		flows = append(flows, beacon(rng, spec, hostAddr(10+i), extAddr(100+i), &p)...)
	}
	sortFlows(flows)
	ds := run(cfg, nil, flows)
	d, _ = find(ds, behavior.Beacon, extAddr(7), hostAddr(1))
	if want := "rarity not assessed: no series of the 10 internal hosts observed reaches this destination"; !hasExactFact(d, want) {
		t.Errorf("ten hosts, none reaching it: want fact %q in\n%s", want, strings.Join(d.Facts, "\n"))
	}
	for _, f := range d.Facts {
		if strings.Contains(f, "needs 10") {
			t.Errorf("blames the host count: %q", f)
		}
	}
	// and a destination one of the ten reaches alone is rare
	out, _ := find(ds, behavior.Beacon, hostAddr(10), extAddr(100))
	if len(out.Modifiers) == 0 || out.Modifiers[0].Name != "rare-destination" || out.Modifiers[0].Reason != "reached by 1 of 10 internal hosts" {
		t.Errorf("rare destination: modifiers %+v", out.Modifiers)
	}
}

func hasExactFact(d behavior.Detection, f string) bool {
	for _, x := range d.Facts {
		if x == f {
			return true
		}
	}
	return false
}
