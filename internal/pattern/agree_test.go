package pattern

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// The streaming evaluator (Stream.Feed over telemetry events) and the batch
// evaluator (Program.Match over observed-data) must decide alike: a stream
// reports a rule on the event that completes its first binding since the
// rule last matched, so at every event the stream matches exactly when
// Match over the observations since the last match does. These tests
// generate patterns with every observation operator and qualifier, feed
// one-event observations (first = last = the event's time) to both, and
// compare.

var agreeNames = []string{"a.example", "b.example", "c.example", "d.example"}

// agreeLeaves are observation expressions over DNS queries, indexed by
// value and by type.
var agreeLeaves = []string{
	"[domain-name:value = 'a.example']",
	"[domain-name:value = 'b.example']",
	"[domain-name:value = 'c.example']",
	"[domain-name:value IN ('a.example', 'b.example')]",
	"[domain-name:value LIKE '%.example']",
	"[domain-name:value != 'c.example']",
}

// genPattern builds a random pattern of at most depth levels of AND, OR
// and FOLLOWEDBY, with WITHIN, REPEATS and START/STOP qualifiers.
func genPattern(r *rand.Rand, depth int) string {
	var e string
	if depth == 0 || r.IntN(3) == 0 {
		e = agreeLeaves[r.IntN(len(agreeLeaves))]
	} else {
		op := []string{"AND", "OR", "FOLLOWEDBY"}[r.IntN(3)]
		e = "(" + genPattern(r, depth-1) + " " + op + " " + genPattern(r, depth-1) + ")"
	}
	switch r.IntN(6) {
	case 0:
		secs := []string{"0.5", "1", "2", "3", "5", "8"}[r.IntN(6)]
		e = "(" + e + " WITHIN " + secs + " SECONDS)"
	case 1:
		e = "(" + e + " REPEATS " + fmt.Sprint(2+r.IntN(2)) + " TIMES)"
	case 2:
		start := r.IntN(20)
		stop := start + r.IntN(12)
		e = "(" + e + " START " + agreeTime(start) + " STOP " + agreeTime(stop) + ")"
	}
	return e
}

func agreeTime(sec int) string {
	return "t'" + t0.Add(time.Duration(sec)*time.Second).Format("2006-01-02T15:04:05Z") + "'"
}

// genEvents builds DNS events in time order, several often at one instant.
func genEvents(r *rand.Rand, n int) []*telemetry.Event {
	events := make([]*telemetry.Event, n)
	at := 0
	for i := range events {
		at += []int{0, 0, 1, 1, 2, 3, 5}[r.IntN(7)]
		events[i] = &telemetry.Event{Kind: telemetry.KindDNS, Time: t0.Add(time.Duration(at) * time.Second),
			File: "dns.log", Line: int64(i + 1), Query: agreeNames[r.IntN(len(agreeNames))]}
	}
	return events
}

// eventObservation is the observed-data the batch evaluator sees for a DNS
// event: one domain-name, seen once at the event's time.
func eventObservation(ev *telemetry.Event) Observation {
	dn := &jsonObject{typ: "domain-name", props: map[string]Value{
		"type":  {Kind: KindString, Str: "domain-name"},
		"value": {Kind: KindString, Str: ev.Query},
	}}
	return Observation{ID: fmt.Sprintf("observed-data--line-%d", ev.Line), First: ev.Time, Last: ev.Time, Count: 1,
		byID: map[string]*jsonObject{"domain-name--query": dn}, byType: map[string][]Object{"domain-name": {dn}}}
}

// checkAgreement feeds events to a stream of one rule and compares each
// decision with Match. It stops comparing where the stream's documented
// bounds may lose a binding: memory (a leaf set keeps its earliest and
// latest events, as many of each as one binding uses) and the search
// budget of either evaluator.
func checkAgreement(t *testing.T, src string, events []*telemetry.Event) {
	t.Helper()
	checkAgreementSplit(t, src, events, 1)
}

// checkAgreementSplit is checkAgreement with the events cut into chunks
// read by that many streams of one State, as the scan's workers read
// neighbouring chunks of a file: the streams take turns, so events arrive
// out of time order, and Match sees the observations in arrival order.
func checkAgreementSplit(t *testing.T, src string, events []*telemetry.Event, streams int) {
	t.Helper()
	p, err := ParseWith(src, Lenient)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	prog, err := Compile(p)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	ix, err := NewIndex([]Rule{{ID: "r", Program: prog}})
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	st := ix.NewState(StreamOptions{})
	var ss []*Stream
	for range streams {
		ss = append(ss, st.NewStream())
	}
	var since []Observation
	perMask := map[uint64]int{} // events per leaf set since the last match
	sc := NewEventScope()
	for i, at := range arrivalOrder(len(events), streams) {
		ev, s := events[at], ss[i%streams]
		since = append(since, eventObservation(ev))
		if m := leafMask(prog, sc, ev); m != 0 {
			if perMask[m]++; perMask[m] > 2*min(prog.slots, 512) {
				return
			}
		}
		want, _, err := prog.Match(since)
		if err != nil {
			return // Match's search budget: no decision to compare
		}
		got := len(s.Feed(ev)) > 0
		if st.SearchesOverBudget() > 0 {
			return // the stream gave up on this event (Match's budget is larger)
		}
		if got != want {
			t.Fatalf("%s\nevent %d (arrival %d, %d streams) of\n%s\nstream matched = %v, Match over the %d observations since the last match = %v",
				src, at+1, i+1, streams, describeEvents(events), got, len(since), want)
		}
		if got {
			since = since[:0]
			clear(perMask)
		}
	}
}

// leafMask is the set of the program's leaves the event satisfies.
func leafMask(prog *Program, sc *EventScope, ev *telemetry.Event) uint64 {
	sc.Reset(ev)
	var m uint64
	for i, lf := range prog.leaves {
		if ok, _ := lf.match(sc, false); ok && lf.inWindows(ev.Time, ev.Time) {
			m |= 1 << uint(i)
		}
	}
	return m
}

// arrivalOrder cuts n events into chunks, one per stream, and lists them
// as the streams read them in turn: the first of each chunk, then the
// second of each, and so on.
func arrivalOrder(n, streams int) []int {
	size := (n + streams - 1) / streams
	var order []int
	for k := 0; k < size; k++ {
		for c := 0; c < streams; c++ {
			if i := c*size + k; i < n {
				order = append(order, i)
			}
		}
	}
	return order
}

func describeEvents(events []*telemetry.Event) string {
	var b strings.Builder
	for i, ev := range events {
		fmt.Fprintf(&b, "  %d: +%vs %s\n", i+1, ev.Time.Sub(t0).Seconds(), ev.Query)
	}
	return b.String()
}

func TestStreamAgreesWithMatch(t *testing.T) {
	tests := []struct {
		src    string
		events []*telemetry.Event
	}{
		// one event may not satisfy two observation expressions
		{"([domain-name:value = 'a.example'] AND [domain-name:value LIKE '%.example']) WITHIN 4 SECONDS",
			[]*telemetry.Event{dns(0, "a.example"), dns(5, "b.example"), dns(6, "b.example")}},
		// START inclusive, STOP exclusive, on every observation of the group
		{"([domain-name:value = 'a.example'] AND [domain-name:value = 'b.example']) START " + agreeTime(2) + " STOP " + agreeTime(7),
			[]*telemetry.Event{dns(1, "a.example"), dns(7, "b.example"), dns(2, "a.example"), dns(6, "b.example")}},
		// WITHIN counts the window's end
		{"([domain-name:value = 'a.example'] FOLLOWEDBY [domain-name:value = 'b.example']) WITHIN 5 SECONDS",
			[]*telemetry.Event{dns(0, "a.example"), dns(6, "b.example"), dns(10, "a.example"), dns(15, "b.example")}},
	}
	for _, tt := range tests {
		checkAgreement(t, tt.src, tt.events)
	}
	// two streams, the second (later events) reading first: the pair at
	// +17s must not be forgotten because the first stream had read nothing
	// yet (a fuzz finding)
	late := []*telemetry.Event{dns(5, "b.example"), dns(6, "b.example"), dns(11, "d.example"), dns(14, "d.example"),
		dns(15, "a.example"), dns(15, "a.example"), dns(17, "c.example"), dns(17, "a.example"), dns(22, "c.example"),
		dns(23, "a.example"), dns(24, "b.example"), dns(27, "b.example"), dns(28, "c.example")}
	checkAgreementSplit(t, "(([domain-name:value = 'a.example'] AND ([domain-name:value LIKE '%.example'] START "+agreeTime(16)+
		" STOP "+agreeTime(19)+")) WITHIN 1 SECONDS)", late, 2)
	r := rand.New(rand.NewPCG(1, 2))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for range n {
		checkAgreement(t, genPattern(r, 3), genEvents(r, 4+r.IntN(12)))
	}
	for range n / 2 {
		checkAgreementSplit(t, genPattern(r, 3), genEvents(r, 4+r.IntN(12)), 2+r.IntN(2))
	}
}

// FuzzStreamAgreesWithMatch runs the comparison on patterns and events
// drawn from the fuzzer's seeds.
func FuzzStreamAgreesWithMatch(f *testing.F) {
	for i := range uint64(8) {
		f.Add(i, i*7919)
	}
	f.Fuzz(func(t *testing.T, a, b uint64) {
		r := rand.New(rand.NewPCG(a, b))
		checkAgreementSplit(t, genPattern(r, 4), genEvents(r, 2+r.IntN(20)), 1+r.IntN(3))
	})
}
