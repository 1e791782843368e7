package behavior_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/behavior"
)

// TestObservedPeriodIgnoresOtherLogs: logs the analytics do not read
// (packet_filter.log, whose one WRCCDC record is six years after the
// capture; weird.log, whose 009 records start at second 0) do not stretch
// the observed period: every coverage and share measured with them equals
// the one measured without them, and beacons of the 21-minute WRCCDC
// capture keep a coverage above zero.
func TestObservedPeriodIgnoresOtherLogs(t *testing.T) {
	zeek := filepath.Join("..", "..", "..", "shared", "data", "telemetry", "zeek")
	wrccdc := filepath.Join(zeek, "wrccdc-2018")
	strat := filepath.Join(zeek, "stratosphere", "009-zeek-malicious", "data")
	sets := []struct {
		name         string
		logs, others []string
	}{
		{"wrccdc-2018", []string{filepath.Join(wrccdc, "dns.log.gz"), filepath.Join(wrccdc, "ssl.log.gz")},
			[]string{filepath.Join(wrccdc, "packet_filter.log.gz")}},
		{"stratosphere-009", []string{filepath.Join(strat, "dns.log.labeled"), filepath.Join(strat, "http.log.labeled"), filepath.Join(strat, "ssl.log.labeled")},
			[]string{filepath.Join(strat, "packet_filter.log.labeled"), filepath.Join(strat, "weird.log.labeled")}},
	}
	cfg := behavior.DefaultConfig()
	for _, set := range sets {
		t.Run(set.name, func(t *testing.T) {
			logs := readEvents(t, set.logs...)
			others := readEvents(t, set.others...)
			if len(logs) == 0 || len(others) == 0 {
				t.Skip("data absent")
			}
			alone := periodParts(analyse(cfg, logs))
			with := periodParts(analyse(cfg, append(logs[:len(logs):len(logs)], others...)))
			if len(alone) == 0 {
				t.Fatal("no finding measures the observed period")
			}
			covered := 0
			for id, want := range alone {
				if got, ok := with[id]; !ok || got != want {
					t.Errorf("%s: with %v: %+v, without: %+v", id, set.others, got, want)
				}
				if want.ratio > 0 {
					covered++
				}
			}
			if len(with) != len(alone) {
				t.Errorf("%d findings measure the period with the other logs, %d without", len(with), len(alone))
			}
			if covered == 0 {
				t.Error("every coverage and share is zero")
			}
		})
	}
}

// periodMeasure is what a finding says of the observed period.
type periodMeasure struct {
	ratio, score float64
	fact         string // the fact that states the period
}

// periodParts maps each finding that measures the observed period to its
// coverage or share ratio, its score and the fact that states the period.
func periodParts(ds []behavior.Detection) map[string]periodMeasure {
	out := map[string]periodMeasure{}
	for _, d := range ds {
		v, ok := d.Parts["coverage_ratio"]
		if !ok {
			v, ok = d.Parts["share_ratio"]
		}
		if !ok {
			continue
		}
		m := periodMeasure{ratio: v, score: d.Score}
		for _, f := range d.Facts {
			if strings.Contains(f, "the observed") {
				m.fact = f
			}
		}
		out[d.Analytic+" "+d.ID] = m
	}
	return out
}
