package behavior_test

import (
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/formats"
)

// readEvents reads every event of the files, in file order, copied (the
// readers reuse their buffers). Files that do not exist are left out.
func readEvents(t testing.TB, paths ...string) []*telemetry.Event {
	t.Helper()
	reg := formats.Default(formats.Options{})
	var out []*telemetry.Event
	for _, p := range paths {
		in, err := fileio.Open(p, fileio.DefaultLimits)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		f, ok := reg.Sniff(in.Head, p)
		if !ok {
			in.Close()
			t.Fatalf("%s: no format recognises it", p)
		}
		r, err := f.Open(in.R, p)
		if err != nil {
			in.Close()
			t.Fatal(err)
		}
		var ev telemetry.Event
		for {
			err := r.Next(&ev)
			if err == io.EOF {
				break
			}
			if telemetry.IsRecordError(err) {
				continue
			}
			if err != nil {
				in.Close()
				t.Fatal(err)
			}
			out = append(out, ev.Clone())
		}
		in.Close()
	}
	return out
}

func analyse(cfg behavior.Config, evs []*telemetry.Event) []behavior.Detection {
	a := behavior.New(cfg, nil)
	for _, ev := range evs {
		a.Observe(ev)
	}
	return a.Finish()
}

// analyseSharded feeds the events, in the given order, to n analyzers by
// Shard and merges them in a shuffled order.
func analyseSharded(cfg behavior.Config, evs []*telemetry.Event, n int, rng *rand.Rand) []behavior.Detection {
	as := make([]*behavior.Analyzer, n)
	for i := range as {
		as[i] = behavior.New(cfg, nil)
	}
	for _, ev := range evs {
		as[behavior.Shard(ev, n)].Observe(ev)
	}
	rng.Shuffle(n, func(i, j int) { as[i], as[j] = as[j], as[i] })
	for _, b := range as[1:] {
		as[0].Merge(b)
	}
	return as[0].Finish()
}

func shuffled(evs []*telemetry.Event, rng *rand.Rand) []*telemetry.Event {
	p := append([]*telemetry.Event(nil), evs...)
	rng.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
	return p
}

// TestSameFindingsInAnyOrder: the scan reads files and chunks in parallel,
// so events of one pair arrive in a different interleaving on every run.
// Real log sets (the demo's conn/dns/http/ssl/files logs, and labelled
// Stratosphere captures with beacons, dual-stack DNS and DGA) must give
// identical findings in file order, in random orders, and sharded over
// several analyzers, also when the memory bounds are reached.
func TestSameFindingsInAnyOrder(t *testing.T) {
	strat := filepath.Join("..", "..", "..", "shared", "data", "telemetry", "zeek", "stratosphere")
	demo, _ := filepath.Glob(filepath.Join("..", "..", "examples", "telemetry", "*.log.gz"))
	sets := []struct {
		name  string
		files []string
	}{
		{"demo", demo},
		{"stratosphere-001", []string{filepath.Join(strat, "001-zeek-scenario-malicious", "labeled-conn.log")}},
		{"stratosphere-005", []string{filepath.Join(strat, "005-zeek-scenario-malicious", "dns.log"),
			filepath.Join(strat, "005-zeek-scenario-malicious", "conn.log"), filepath.Join(strat, "005-zeek-scenario-malicious", "http.log")}},
		{"stratosphere-009", []string{filepath.Join(strat, "009-zeek-malicious", "data", "dns.log.labeled"),
			filepath.Join(strat, "009-zeek-malicious", "data", "http.log.labeled"), filepath.Join(strat, "009-zeek-malicious", "data", "ssl.log.labeled")}},
	}
	bounded := behavior.DefaultConfig()
	bounded.MaxSeries, bounded.MaxNames, bounded.MaxRecords = 40, 60, 50
	for _, set := range sets {
		t.Run(set.name, func(t *testing.T) {
			evs := readEvents(t, set.files...)
			if len(evs) == 0 {
				t.Skip("data absent")
			}
			for _, c := range []struct {
				name string
				cfg  behavior.Config
			}{{"defaults", behavior.DefaultConfig()}, {"bounds reached", bounded}} {
				want := analyse(c.cfg, evs)
				if len(want) == 0 {
					t.Fatalf("%s: no findings from %d events: nothing to compare", c.name, len(evs))
				}
				check := func(how string, got []behavior.Detection) {
					t.Helper()
					if diff := cmp.Diff(want, got, addrCmp); diff != "" {
						t.Errorf("%s, %s: findings differ from file order (-file order +%s):\n%s", c.name, how, how, diff)
					}
				}
				for seed := uint64(1); seed <= 3; seed++ {
					rng := rand.New(rand.NewPCG(seed, 99))
					check("shuffled", analyse(c.cfg, shuffled(evs, rng)))
				}
				for _, n := range []int{4, 7} {
					rng := rand.New(rand.NewPCG(uint64(n), 7))
					check("sharded", analyseSharded(c.cfg, shuffled(evs, rng), n, rng))
				}
			}
		})
	}
}
