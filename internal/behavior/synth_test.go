package behavior_test

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"sort"
	"time"

	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// t0 is a Monday 00:00 UTC, so that office hours fall on weekdays.
var t0 = time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)

// flow is one synthetic record of a series.
type flow struct {
	at      time.Time
	dur     time.Duration
	src     netip.Addr
	dst     netip.Addr
	sport   uint16
	dport   uint16
	proto   string
	up, dn  int64
	opk     int64 // packets from the source; with rpk, 0 = unknown
	rpk     int64
	kind    telemetry.Kind
	name    string // Host / SNI
	label   string
	query   string
	qtype   string
	rcode   string
	answers []string
}

func (f flow) event(line int64) *telemetry.Event {
	kind := f.kind
	if kind == 0 {
		kind = telemetry.KindConn
	}
	ev := &telemetry.Event{
		Kind: kind, Time: f.at, File: "synthetic", Line: line,
		SrcIP: f.src, DstIP: f.dst, SrcPort: f.sport, DstPort: f.dport,
		Proto: f.proto, Duration: f.dur, SrcBytes: f.up, DstBytes: f.dn, SrcPackets: f.opk, DstPackets: f.rpk,
		Query: f.query, QType: f.qtype, RCode: f.rcode, Answers: f.answers,
		Label: f.label,
	}
	switch kind {
	case telemetry.KindHTTP:
		ev.Host = f.name
	case telemetry.KindTLS:
		ev.SNI = f.name
	}
	if ev.Proto == "" {
		ev.Proto = "tcp"
	}
	return ev
}

// sortFlows orders flows by time, as a log would be.
func sortFlows(fs []flow) {
	// sort indices, not the large structs: a stable sort moves elements
	// O(n log² n) times
	idx := make([]int, len(fs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return fs[idx[i]].at.Before(fs[idx[j]].at) })
	sorted := make([]flow, len(fs))
	for i, j := range idx {
		sorted[i] = fs[j]
	}
	copy(fs, sorted)
}

// ports hands out ephemeral source ports like an operating system does.
type ports struct{ next uint16 }

func (p *ports) get() uint16 {
	if p.next < 49152 {
		p.next = 49152
	}
	p.next++
	return p.next
}

// beaconSpec describes a synthetic implant.
type beaconSpec struct {
	interval time.Duration
	jitter   float64 // uniform ±jitter around the interval
	office   bool    // only Monday–Friday 08:00–17:00 UTC
	span     time.Duration
}

func inOffice(t time.Time) bool {
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday && t.Hour() >= 8 && t.Hour() < 17
}

// beacon generates the check-ins of one implant: each a short connection
// whose request is a steady heartbeat and whose reply is usually "no task"
// and now and then a task.
func beacon(rng *rand.Rand, spec beaconSpec, src, dst netip.Addr, p *ports) []flow {
	var out []flow
	t := t0.Add(time.Duration(rng.Float64() * float64(spec.interval)))
	for t.Before(t0.Add(spec.span)) {
		if !spec.office || inOffice(t) {
			dn := int64(320 + rng.IntN(8))
			if rng.Float64() < 0.05 {
				dn = int64(2000 + rng.IntN(50000))
			}
			out = append(out, flow{at: t, dur: time.Duration(200+rng.IntN(300)) * time.Millisecond,
				src: src, dst: dst, sport: p.get(), dport: 443, up: int64(180 + rng.IntN(6)), dn: dn})
		}
		j := 1 + spec.jitter*(2*rng.Float64()-1)
		t = t.Add(time.Duration(float64(spec.interval) * j))
	}
	return out
}

// poisson generates memoryless contacts at a mean rate with random sizes.
func poisson(rng *rand.Rand, mean, span time.Duration, src, dst netip.Addr, p *ports) []flow {
	var out []flow
	t := t0
	for {
		t = t.Add(time.Duration(rng.ExpFloat64() * float64(mean)))
		if !t.Before(t0.Add(span)) {
			return out
		}
		out = append(out, flow{at: t, dur: time.Second, src: src, dst: dst, sport: p.get(), dport: 443,
			up: int64(300 + rng.IntN(2000)), dn: int64(math.Exp(7 + 2*rng.NormFloat64()))})
	}
}

// browsing generates a person using a site: sessions during the working day
// at random times, each a burst of page loads with reading pauses.
func browsing(rng *rand.Rand, days int, src, dst netip.Addr, p *ports) []flow {
	var out []flow
	for d := 0; d < days; d++ {
		sessions := 1 + rng.IntN(6)
		for s := 0; s < sessions; s++ {
			t := t0.Add(time.Duration(d)*24*time.Hour + 8*time.Hour + time.Duration(rng.Float64()*float64(10*time.Hour)))
			pages := 2 + rng.IntN(25)
			for i := 0; i < pages; i++ {
				out = append(out, flow{at: t, dur: time.Duration(rng.IntN(5000)) * time.Millisecond, src: src, dst: dst,
					sport: p.get(), dport: 443, up: int64(500 + rng.IntN(1500)), dn: int64(math.Exp(9 + 1.5*rng.NormFloat64()))})
				// reading time: log-normal, median ~40 s
				t = t.Add(time.Duration(math.Exp(math.Log(40)+1.2*rng.NormFloat64()) * float64(time.Second)))
			}
		}
	}
	return out
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func hostAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
}

func extAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)})
}
