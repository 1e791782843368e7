package correlate_test

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/correlate"
	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/formats"
)

// demoDetections runs the behaviour analytics over the demo's logs.
func demoDetections(t *testing.T) []behavior.Detection {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "..", "examples", "telemetry", "*.log.gz"))
	if len(files) == 0 {
		t.Skip("examples/telemetry absent")
	}
	reg := formats.Default(formats.Options{})
	a := behavior.New(behavior.DefaultConfig(), nil)
	for _, p := range files {
		in, err := fileio.Open(p, fileio.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		f, ok := reg.Sniff(in.Head, p)
		if !ok {
			t.Fatalf("%s: no format recognises it", p)
		}
		r, err := f.Open(in.R, p)
		if err != nil {
			t.Fatal(err)
		}
		var ev telemetry.Event
		for {
			err := r.Next(&ev)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil && !telemetry.IsRecordError(err) {
				t.Fatalf("%s: %v", p, err)
			}
			if err == nil {
				a.Observe(&ev)
			}
		}
		in.Close()
	}
	return a.Finish()
}

// unknownBeaconVictim reads the host the demo's scenario made beacon to a
// server no intelligence knows.
func unknownBeaconVictim(t *testing.T) netip.Addr {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "examples", "telemetry-manifest.json.gz"))
	if err != nil {
		t.Skip("demo manifest absent")
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Victims map[string][]netip.Addr `json:"victims"`
	}
	if err := json.NewDecoder(z).Decode(&m); err != nil {
		t.Fatal(err)
	}
	if len(m.Victims["unknown"]) != 1 {
		t.Fatalf("manifest names %v as the unknown beacon's victims, want one", m.Victims["unknown"])
	}
	return m.Victims["unknown"][0]
}

// TestDemoBehaviourOnlyCampaign: the demo's decoy that beacons for three
// weeks to a server no intelligence knows is a campaign whose dwell is its
// detections' span (not the 0 min of their first moments), and whose
// infrastructure is a suspected C2, not C2 as if an indicator said so.
func TestDemoBehaviourOnlyCampaign(t *testing.T) {
	victim := unknownBeaconVictim(t)
	dets := demoDetections(t)
	cfg := correlate.DefaultConfig()
	cfg.MinDetectionScore = behavior.DefaultConfig().Threshold
	cs := correlate.Correlate(correlate.Input{Detections: dets}, cfg)
	var c *correlate.Campaign
	for _, x := range cs {
		if len(x.Victims) == 1 && x.Victims[0].Addr == victim {
			c = x
		}
	}
	if c == nil {
		t.Fatalf("no campaign of %s alone among %d", victim, len(cs))
	}
	var first, last time.Time
	for _, i := range c.Detections {
		d := dets[i]
		if first.IsZero() || d.FirstSeen.Before(first) {
			first = d.FirstSeen
		}
		if d.LastSeen.After(last) {
			last = d.LastSeen
		}
	}
	if !c.FirstSeen.Equal(first) || !c.LastSeen.Equal(last) {
		t.Errorf("campaign %s – %s, its detections %s – %s", c.FirstSeen, c.LastSeen, first, last)
	}
	if got, want := c.Victims[0].Dwell(), last.Sub(first); got != want || want < 20*24*time.Hour {
		t.Errorf("dwell %v, detections span %v (the scenario beacons for three weeks)", got, want)
	}
	for _, inc := range c.Incidents {
		if inc.LastSeen.Before(inc.FirstSeen) || inc.LastSeen.Sub(inc.FirstSeen) < 20*24*time.Hour {
			t.Errorf("incident %s spans %s – %s", inc.ID, inc.FirstSeen, inc.LastSeen)
		}
	}
	if len(c.Infrastructure) == 0 {
		t.Fatal("no infrastructure")
	}
	for _, i := range c.Infrastructure {
		if i.Role != correlate.RoleSuspectedC2 {
			t.Errorf("%s: role %q (%s), want %q: no indicator names it", i.Key(), i.Role, i.RoleReason, correlate.RoleSuspectedC2)
		}
	}
}
