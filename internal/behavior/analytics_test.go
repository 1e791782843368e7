package behavior_test

import (
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

var addrCmp = cmpopts.EquateComparable(netip.Addr{})

func findAny(ds []behavior.Detection, analytic string, src netip.Addr, name string) (behavior.Detection, bool) {
	for _, d := range ds {
		if d.Analytic == analytic && d.Src == src && (name == "" || d.DstName == name) {
			return d, true
		}
	}
	return behavior.Detection{}, false
}

func TestLongConnections(t *testing.T) {
	cfg := behavior.DefaultConfig()
	src := hostAddr(1)
	persistent, flood, short := extAddr(1), extAddr(2), extAddr(3)
	var flows []flow
	// one TCP connection of 14 h that the sensor split into a record per
	// keep-alive (same source port, mid-stream pieces)
	for t := time.Duration(0); t < 14*time.Hour; t += 5*time.Minute + 2*time.Second {
		flows = append(flows, flow{at: t0.Add(t), dur: 60 * time.Millisecond, src: src, dst: persistent, sport: 55768, dport: 8883, up: 31, dn: 31})
	}
	// a flood of one-second requests adds up to many hours but is no long connection
	rng := rand.New(rand.NewPCG(3, 4))
	var p ports
	for t := time.Duration(0); t < 20*time.Hour; t += time.Duration(2+rng.IntN(4)) * time.Second {
		flows = append(flows, flow{at: t0.Add(t), dur: time.Second, src: src, dst: flood, sport: p.get(), dport: 443, up: 400, dn: 900})
	}
	// a 20-minute session
	flows = append(flows, flow{at: t0.Add(2 * time.Hour), dur: 20 * time.Minute, src: src, dst: short, sport: p.get(), dport: 22, up: 5000, dn: 90000})
	ds := run(cfg, nil, flows)

	d, ok := find(ds, behavior.LongConn, src, persistent)
	if !ok || !cfg.Detected(d) {
		t.Fatalf("persistent connection not detected: %+v", d)
	}
	if got := d.Parts["connected_s"]; got < 13.9*3600 {
		t.Errorf("connected %.0fs, want the whole 14h", got)
	}
	if b, ok := find(ds, behavior.Beacon, src, persistent); ok {
		t.Errorf("keep-alive pieces of one connection reported as a beacon: %s", explain(b))
	}
	if d, ok := find(ds, behavior.LongConn, src, flood); ok && cfg.Detected(d) {
		t.Errorf("flood of short requests reported as a long connection:\n%s", explain(d))
	}
	if d, ok := find(ds, behavior.LongConn, src, short); ok {
		t.Errorf("20-minute session reported:\n%s", explain(d))
	}
}

func TestStrobe(t *testing.T) {
	cfg := behavior.DefaultConfig()
	src, dst, calm := hostAddr(1), extAddr(1), extAddr(2)
	var flows []flow
	var p ports
	for i := 0; i < 4000; i++ { // 4,000 connections in 4 minutes
		flows = append(flows, flow{at: t0.Add(time.Duration(i) * 60 * time.Millisecond), src: src, dst: dst, sport: p.get(), dport: 445, proto: "tcp"})
	}
	for i := 0; i < 300; i++ { // 300 over 5 hours
		flows = append(flows, flow{at: t0.Add(time.Duration(i) * time.Minute), src: src, dst: calm, sport: p.get(), dport: 443, up: 100, dn: 200})
	}
	ds := run(cfg, nil, flows)
	d, ok := find(ds, behavior.Strobe, src, dst)
	if !ok || !cfg.Detected(d) {
		t.Fatalf("strobe not detected: %+v", d)
	}
	if d.Parts["peak_per_window"] < 4000 {
		t.Errorf("peak %v, want 4000", d.Parts["peak_per_window"])
	}
	if _, ok := find(ds, behavior.Strobe, src, calm); ok {
		t.Error("calm pair reported as a strobe")
	}
}

// dnsFlows builds DNS queries from src.
func dnsFlows(src netip.Addr, start time.Time, every time.Duration, names []string, qtype, rcode string) []flow {
	out := make([]flow, len(names))
	for i, n := range names {
		out[i] = flow{kind: telemetry.KindDNS, at: start.Add(time.Duration(i) * every), src: src, dst: addr("10.0.0.53"),
			sport: uint16(1024 + i%60000), dport: 53, proto: "udp", query: n, qtype: qtype, rcode: rcode}
	}
	return out
}

func TestDNSTunnel(t *testing.T) {
	cfg := behavior.DefaultConfig()
	rng := rand.New(rand.NewPCG(5, 6))
	iodine, dnscat, browser := hostAddr(1), hostAddr(2), hostAddr(3)
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding)
	var flows []flow
	var names []string
	for i := 0; i < 1500; i++ { // iodine: base32 data in long labels, NULL records
		buf := make([]byte, 35)
		for j := range buf {
			buf[j] = byte(rng.IntN(256))
		}
		names = append(names, strings.ToLower(b32.EncodeToString(buf))+".t.tunnel-example.com")
	}
	flows = append(flows, dnsFlows(iodine, t0, 700*time.Millisecond, names, "NULL", "NOERROR")...)
	names = nil
	for i := 0; i < 800; i++ { // dnscat2: hex, TXT
		buf := make([]byte, 24)
		for j := range buf {
			buf[j] = byte(rng.IntN(256))
		}
		h := hex.EncodeToString(buf)
		names = append(names, h[:30]+"."+h[30:]+".dnscat-example.net")
	}
	flows = append(flows, dnsFlows(dnscat, t0, time.Second, names, "TXT", "NOERROR")...)
	names = nil
	for i := 0; i < 400; i++ { // a browser: CDN host names, a few dozen distinct
		names = append(names, fmt.Sprintf("d%dxxe7juh%02dus6.cloudfront.net", i%9, i%40))
		names = append(names, fmt.Sprintf("img%d.example-cdn.com", i%25))
	}
	flows = append(flows, dnsFlows(browser, t0, 3*time.Second, names, "A", "NOERROR")...)
	ds := run(cfg, nil, flows)

	for _, c := range []struct {
		src    netip.Addr
		domain string
	}{{iodine, "tunnel-example.com"}, {dnscat, "dnscat-example.net"}} {
		d, ok := findAny(ds, behavior.DNSTunnel, c.src, c.domain)
		if !ok || !cfg.Detected(d) {
			t.Errorf("tunnel via %s not detected: %+v", c.domain, d)
		}
	}
	for _, d := range ds {
		if d.Analytic == behavior.DNSTunnel && d.Src == browser && cfg.Detected(d) {
			t.Errorf("CDN names reported as a tunnel:\n%s", explain(d))
		}
	}
}

func TestDGA(t *testing.T) {
	cfg := behavior.DefaultConfig()
	rng := rand.New(rand.NewPCG(7, 8))
	infected, typos := hostAddr(1), hostAddr(2)
	var names []string
	for i := 0; i < 150; i++ {
		b := make([]byte, 8+rng.IntN(8))
		for j := range b {
			b[j] = byte('a' + rng.IntN(26))
		}
		names = append(names, string(b)+".com")
	}
	flows := dnsFlows(infected, t0, 2*time.Second, names, "A", "NXDOMAIN")
	// a person mistyping: a dozen failed, ordinary-looking names
	var typo []string
	for _, w := range []string{"gogle", "wikipeda", "amazn", "facebok", "yahooo", "outlok", "linkdin", "netflx", "githb", "redit", "twiter", "instagrm"} {
		typo = append(typo, w+".com")
	}
	flows = append(flows, dnsFlows(typos, t0, time.Minute, typo, "A", "NXDOMAIN")...)
	var ok []string
	for i := 0; i < 60; i++ {
		ok = append(ok, fmt.Sprintf("site%d.org", i))
	}
	flows = append(flows, dnsFlows(typos, t0.Add(time.Hour), time.Minute, ok, "A", "NOERROR")...)
	ds := run(cfg, nil, flows)
	d, found := findAny(ds, behavior.DGA, infected, "")
	if !found || !cfg.Detected(d) {
		t.Fatalf("DGA not detected: %+v", d)
	}
	if d, found := findAny(ds, behavior.DGA, typos, ""); found && cfg.Detected(d) {
		t.Errorf("typos reported as DGA:\n%s", explain(d))
	}
}

// fakeLists is a warninglist stand-in keyed by address or name.
type fakeLists map[string]string

func (f fakeLists) Benign(ip netip.Addr, name string) (string, bool) {
	k := name
	if ip.IsValid() {
		k = ip.String()
	}
	l, ok := f[k]
	return l, ok
}

func beaconTo(dst netip.Addr, name string) []flow {
	rng := rand.New(rand.NewPCG(9, 10))
	var p ports
	fs := beacon(rng, beaconSpec{interval: time.Minute, jitter: 0.2, span: 12 * time.Hour}, hostAddr(1), dst, &p)
	if name != "" {
		for i := range fs {
			fs[i].kind, fs[i].name = telemetry.KindTLS, name
		}
	}
	return fs
}

func TestKnownBenignLowersOrSuppresses(t *testing.T) {
	cfg := behavior.DefaultConfig()
	cloud, service, plain := extAddr(10), extAddr(11), extAddr(12)
	lists := fakeLists{
		cloud.String():                    "List of known Amazon AWS IP address ranges",
		"settings-win.data.microsoft.com": "List of known microsoft domains",
	}
	allow, err := behavior.ParseAllowlist(strings.NewReader("# site list\n"+plain.String()+"  # backup server\n"), "site.allow")
	if err != nil {
		t.Fatal(err)
	}
	flows := append(beaconTo(cloud, ""), beaconTo(service, "settings-win.data.microsoft.com")...)
	flows = append(flows, beaconTo(plain, "")...)
	ds := run(cfg, behavior.Chain(lists, allow), flows)

	c, ok := find(ds, behavior.Beacon, hostAddr(1), cloud)
	if !ok {
		t.Fatal("cloud beacon missing")
	}
	want := []behavior.Modifier{{Name: "warninglist", Factor: 0.8,
		Reason: cloud.String() + " on List of known Amazon AWS IP address ranges: shared cloud or CDN address (C2 can be hosted or fronted here)"}}
	if diff := cmp.Diff(want, c.Modifiers); diff != "" {
		t.Errorf("cloud modifiers (-want +got):\n%s", diff)
	}
	if c.Score != c.RawScore*0.8 || c.Suppressed {
		t.Errorf("cloud: score %v raw %v suppressed %v", c.Score, c.RawScore, c.Suppressed)
	}

	s, ok := find(ds, behavior.Beacon, hostAddr(1), service)
	if !ok || s.DstName != "settings-win.data.microsoft.com" {
		t.Fatalf("service beacon missing or unnamed: %+v", s)
	}
	if cfg.Detected(s) || len(s.Modifiers) != 1 || !strings.Contains(s.Modifiers[0].Reason, "List of known microsoft domains") {
		t.Errorf("service beacon not lowered with the list's name: %s", explain(s))
	}

	a, ok := find(ds, behavior.Beacon, hostAddr(1), plain)
	if !ok {
		t.Fatal("allowlisted beacon not reported (suppressed findings must be kept)")
	}
	if !a.Suppressed || a.Score != 0 || !strings.Contains(a.SuppressedBy, "allowlist site.allow:2 (backup server)") {
		t.Errorf("allowlisted beacon: suppressed %v score %v by %q", a.Suppressed, a.Score, a.SuppressedBy)
	}
}

func TestReapply(t *testing.T) {
	cfg := behavior.DefaultConfig()
	dst := extAddr(20)
	ds := run(cfg, nil, beaconTo(dst, ""))
	orig, ok := find(ds, behavior.Beacon, hostAddr(1), dst)
	if !ok || !cfg.Detected(orig) {
		t.Fatalf("beacon not detected: %+v", orig)
	}
	allow, err := behavior.ParseAllowlist(strings.NewReader(hostAddr(1).String()+" -> "+dst.String()+" # approved agent\n"), "new.allow")
	if err != nil {
		t.Fatal(err)
	}
	re := behavior.Reapply(ds, allow, cfg)
	d, _ := find(re, behavior.Beacon, hostAddr(1), dst)
	if !d.Suppressed || cfg.Detected(d) || d.ID != orig.ID || d.RawScore != orig.RawScore {
		t.Errorf("after the allowlist: %+v", d)
	}
	if orig.Suppressed {
		t.Error("Reapply changed its input")
	}
	back := behavior.Reapply(re, nil, cfg)
	b, _ := find(back, behavior.Beacon, hostAddr(1), dst)
	if diff := cmp.Diff(orig, b, addrCmp); diff != "" {
		t.Errorf("removing the allowlist does not restore the finding (-want +got):\n%s", diff)
	}
}

func TestIDsStableAndMergeExact(t *testing.T) {
	cfg := behavior.DefaultConfig()
	rng := rand.New(rand.NewPCG(11, 12))
	var p ports
	var flows []flow
	for i := 1; i <= 12; i++ {
		flows = append(flows, beacon(rng, beaconSpec{interval: time.Duration(i) * 30 * time.Second, jitter: 0.1, span: 10 * time.Hour}, hostAddr(i), extAddr(i), &p)...)
		flows = append(flows, poisson(rng, 5*time.Minute, 10*time.Hour, hostAddr(i), extAddr(100+i), &p)...)
	}
	single := run(cfg, nil, flows)

	sortFlows(flows)
	shards := []*behavior.Analyzer{behavior.New(cfg, nil), behavior.New(cfg, nil), behavior.New(cfg, nil)}
	for i, f := range flows {
		ev := f.event(int64(i + 1))
		shards[behavior.Shard(ev, len(shards))].Observe(ev)
	}
	shards[0].Merge(shards[1])
	shards[0].Merge(shards[2])
	merged := shards[0].Finish()
	if diff := cmp.Diff(single, merged, addrCmp); diff != "" {
		t.Errorf("sharded and merged differs from one analyzer (-single +merged):\n%s", diff)
	}
	if len(single) < 12 {
		t.Errorf("%d findings, want at least the 12 beacons", len(single))
	}
}

func TestHTTPAndTLSSeries(t *testing.T) {
	// no conn log (like capture 009): HTTP requests and TLS handshakes
	// alone make the series; a C2 name behind changing addresses is one
	// name series
	cfg := behavior.DefaultConfig()
	rng := rand.New(rand.NewPCG(13, 14))
	var p ports
	fs := beacon(rng, beaconSpec{interval: 2 * time.Minute, jitter: 0.1, span: 8 * time.Hour}, hostAddr(1), extAddr(1), &p)
	for i := range fs {
		fs[i].kind = telemetry.KindHTTP
		fs[i].name = "c2.example-bad.net:8080"
		fs[i].dst = extAddr(1 + i%5) // fast flux
	}
	ds := run(cfg, nil, fs)
	for _, d := range ds {
		if d.Analytic == behavior.Beacon && !d.Dst.IsValid() && d.DstName == "c2.example-bad.net" {
			if !cfg.Detected(d) || d.Count != int64(len(fs)) {
				t.Errorf("name series: %s", explain(d))
			}
			return
		}
	}
	t.Fatalf("no name series among %d findings", len(ds))
}

func TestSeriesBoundKeepsBeacons(t *testing.T) {
	// 5,001 series, MaxSeries 2,000: all are held while reading (up to
	// 4×MaxSeries), and Finish keeps those with the most records
	cfg := behavior.DefaultConfig()
	cfg.MaxSeries = 2000
	rng := rand.New(rand.NewPCG(15, 16))
	var p ports
	flows := beacon(rng, beaconSpec{interval: time.Minute, jitter: 0.2, span: 10 * time.Hour}, hostAddr(1), extAddr(1), &p)
	for i := 0; i < 5000; i++ { // one-off contacts
		flows = append(flows, flow{at: t0.Add(time.Duration(rng.IntN(36000)) * time.Second), src: hostAddr(2), dst: extAddr(1000 + i), sport: p.get(), dport: 80, up: 1, dn: 1})
	}
	sortFlows(flows)
	a := behavior.New(cfg, nil)
	for i, f := range flows {
		a.Observe(f.event(int64(i + 1)))
	}
	ds := a.Finish()
	st := a.Stats()
	if st.Series > cfg.MaxSeries || st.Evicted == 0 {
		t.Errorf("series %d (cap %d), evicted %d", st.Series, cfg.MaxSeries, st.Evicted)
	}
	if d, ok := find(ds, behavior.Beacon, hostAddr(1), extAddr(1)); !ok || !cfg.Detected(d) {
		t.Errorf("beacon lost to eviction: %+v", d)
	}
}
