package behavior_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// TestBackscatterIsNoContact: records in which the local address sent no
// packet (SYN-ACKs of a server answering spoofed SYNs) make no beacon, and
// are counted; records whose packet counts are unknown are kept.
func TestBackscatterIsNoContact(t *testing.T) {
	cfg := behavior.DefaultConfig()
	src, dst := hostAddr(1), extAddr(50)
	rng := rand.New(rand.NewPCG(1, 2))
	var p ports
	flows := beacon(rng, beaconSpec{interval: 20 * time.Minute, jitter: 0.2, span: 24 * time.Hour}, src, dst, &p)
	for i := range flows {
		flows[i].opk, flows[i].rpk, flows[i].up, flows[i].dn = 0, 4, 0, 0
	}
	sortFlows(flows)
	a := behavior.New(cfg, nil)
	for i, f := range flows {
		a.Observe(f.event(int64(i + 1)))
	}
	ds := a.Finish()
	if d, ok := find(ds, behavior.Beacon, src, dst); ok {
		t.Errorf("backscatter reported as a beacon: %s", explain(d))
	}
	if got := a.Stats().NoSource; got != int64(len(flows)) {
		t.Errorf("NoSource = %d, want %d", got, len(flows))
	}
	// the same records with the source's packets, or with no counts, are contacts
	for _, opk := range []int64{1, 0} {
		for i := range flows {
			flows[i].opk, flows[i].rpk = opk, opk*4
		}
		if d, ok := find(run(cfg, nil, flows), behavior.Beacon, src, dst); !ok || !cfg.Detected(d) {
			t.Errorf("source packets %d: beacon not detected: %+v", opk, d)
		}
	}
}

// TestObservedPeriodCountsSkippedRecords: the share of the observed period
// a connection covers is measured against everything the sensor saw, not
// only the analysed records: a 3-hour session in a day of inbound traffic is
// not "most of the observation".
func TestObservedPeriodCountsSkippedRecords(t *testing.T) {
	cfg := behavior.DefaultConfig()
	src, dst := hostAddr(1), extAddr(51)
	session := []flow{
		{at: t0.Add(10 * time.Hour), dur: 3 * time.Hour, src: src, dst: dst, sport: 50000, dport: 443, up: 9000, dn: 9000},
		{kind: telemetry.KindDNS, at: t0.Add(13 * time.Hour), src: src, dst: addr("10.0.0.53"), sport: 1024, dport: 53, proto: "udp", query: "example.org", qtype: "A", rcode: "NOERROR"},
	}
	alone, _ := find(run(cfg, nil, session), behavior.LongConn, src, dst)
	var day []flow
	for h := 0; h <= 24; h++ { // inbound scans all day: skipped, but observed
		day = append(day, flow{at: t0.Add(time.Duration(h) * time.Hour), src: extAddr(200 + h), dst: src, sport: 40000, dport: 22, up: 60, dn: 0})
	}
	inDay, _ := find(run(cfg, nil, append(day, session...)), behavior.LongConn, src, dst)
	if alone.Parts["share_ratio"] < 0.99 || inDay.Parts["share_ratio"] > 0.13 {
		t.Errorf("share of the observed period: alone %.2f, in a day of traffic %.2f", alone.Parts["share_ratio"], inDay.Parts["share_ratio"])
	}
	if cfg.Detected(inDay) {
		t.Errorf("3-hour session in a day detected: %s", explain(inDay))
	}
}

// dualStack returns the flows of a host that resolves over IPv6 (v6) and
// connects over IPv4 (v4): DGA look-ups that fail, and look-ups that
// answer, each followed a second later by a connection from v4.
func dualStack(v6, v4 netip.Addr, seed uint64, start time.Time) []flow {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	var out []flow
	var p ports
	at := start
	for i := 0; i < 40; i++ {
		b := make([]byte, 7)
		for j := range b {
			b[j] = byte('a' + rng.IntN(26))
		}
		out = append(out, flow{kind: telemetry.KindDNS, at: at, src: v6, dst: addr("fd00::53"), sport: 1024, dport: 53, proto: "udp",
			query: string(b) + ".com", qtype: "A", rcode: "NXDOMAIN"})
		at = at.Add(2 * time.Second)
	}
	for i := 0; i < 6; i++ {
		ip := extAddr(60 + i)
		out = append(out,
			flow{kind: telemetry.KindDNS, at: at, src: v6, dst: addr("fd00::53"), sport: 1024, dport: 53, proto: "udp",
				query: fmt.Sprintf("resolved%d.com", i), qtype: "A", rcode: "NOERROR", answers: []string{ip.String()}},
			flow{at: at.Add(time.Second), dur: 2 * time.Second, src: v4, dst: ip, sport: p.get(), dport: 80, up: 300, dn: 900})
		at = at.Add(5 * time.Second)
	}
	return out
}

// TestDualStackHost: the DGA look-ups from a host's IPv6 address and its
// connections from its IPv4 address are one host: the DGA finding names
// both, the connections take the names the IPv6 look-ups gave. Links within
// one address family, or to two partners, are not made.
func TestDualStackHost(t *testing.T) {
	cfg := behavior.DefaultConfig()
	v6, v4 := addr("fd77::1"), hostAddr(1)
	ds := run(cfg, nil, dualStack(v6, v4, 3, t0))
	dga, ok := findAny(ds, behavior.DGA, v6, "")
	if !ok || !cfg.Detected(dga) {
		t.Fatalf("DGA not detected: %+v", dga)
	}
	if !slices.Equal(dga.SrcAliases, []netip.Addr{v4}) || !hasFactContaining(dga, "are one dual-stack host: 6 connections from "+v4.String()) {
		t.Errorf("DGA finding does not name the IPv4 address: %v\n%s", dga.SrcAliases, explain(dga))
	}
	if _, ok := findAny(ds, behavior.DGA, v4, ""); ok {
		t.Error("a second DGA finding for the IPv4 address")
	}

	// two IPv4 addresses using one IPv6 address's answers: ambiguous
	amb := append(dualStack(v6, v4, 3, t0), dualStack(v6, hostAddr(2), 3, t0.Add(time.Hour))...)
	ds = run(cfg, nil, amb)
	if d, _ := findAny(ds, behavior.DGA, v6, ""); len(d.SrcAliases) != 0 {
		t.Errorf("ambiguous link made: %v", d.SrcAliases)
	}
	// same family: a resolver and a client are not one host
	ds = run(cfg, nil, dualStack(hostAddr(9), v4, 3, t0))
	if d, _ := findAny(ds, behavior.DGA, hostAddr(9), ""); len(d.SrcAliases) != 0 {
		t.Errorf("IPv4–IPv4 link made: %v", d.SrcAliases)
	}
	// no links when the window is off
	cfg.AliasWindow = 0
	ds = run(cfg, nil, dualStack(v6, v4, 3, t0))
	if d, _ := findAny(ds, behavior.DGA, v6, ""); len(d.SrcAliases) != 0 {
		t.Errorf("link made with AliasWindow 0: %v", d.SrcAliases)
	}
}

func hasFactContaining(d behavior.Detection, s string) bool {
	for _, f := range d.Facts {
		if strings.Contains(f, s) {
			return true
		}
	}
	return false
}
