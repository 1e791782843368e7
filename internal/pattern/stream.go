package pattern

import (
	"fmt"
	"math"
	"math/bits"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// Rule is a compiled program with the id its matches are reported under
// (an indicator id).
type Rule struct {
	ID      string
	Program *Program
}

// Index holds many rules for streaming evaluation. It is immutable and
// may be shared by goroutines; each goroutine evaluates events through its
// own Stream.
//
// To keep 10,000 rules cheap, every leaf ([ … ] of a rule) is indexed by
// what an event must carry for it to be true: an equality or IN on some
// path (network-traffic:dst_ref.value = '203.0.113.9') files the leaf
// under that path and value, so only events carrying the value reach it;
// other leaves are filed under the object types they need
// (url:value LIKE '%/admin%' only sees events with a url). Simple rules do
// not get slower when complex ones are loaded beside them.
type Index struct {
	rules  []Rule
	leaves []leafRef
	paths  []indexedPath
	byType map[string][]int32
	types  []string // keys of byType, for iteration in a fixed order
}

type leafRef struct {
	rule int32
	leaf int32
}

type indexedPath struct {
	typ      string
	steps    []PathStep
	strs     map[string][]int32
	ints     map[int64][]int32
	cidrs    map[netip.Prefix][]int32 // ISSUBSET networks
	cidrBits []int                    // prefix lengths present in cidrs
}

// maxStatefulLeaves bounds the leaves of a rule that needs state (a leaf
// set is kept as a 64-bit mask per remembered event).
const maxStatefulLeaves = 64

// NewIndex builds the index. Rules whose programs need state and have more
// than 64 observation expressions are rejected.
func NewIndex(rules []Rule) (*Index, error) {
	ix := &Index{rules: rules, byType: map[string][]int32{}}
	pathIdx := map[string]int{}
	for ri, r := range rules {
		if r.Program == nil {
			return nil, fmt.Errorf("rule %q: no program", r.ID)
		}
		if !r.Program.stateless && len(r.Program.leaves) > maxStatefulLeaves {
			return nil, fmt.Errorf("rule %q: %d observation expressions; at most %d are supported with qualifiers, AND or FOLLOWEDBY",
				r.ID, len(r.Program.leaves), maxStatefulLeaves)
		}
		for li, lf := range r.Program.leaves {
			gid := int32(len(ix.leaves))
			ix.leaves = append(ix.leaves, leafRef{int32(ri), int32(li)})
			if anchors, ok := leafAnchors(lf, lf.tree); ok {
				for _, a := range anchors {
					key := a.typ + "\x00" + (ObjectPath{Type: a.typ, Steps: a.steps}).String()
					pi, ok := pathIdx[key]
					if !ok {
						pi = len(ix.paths)
						pathIdx[key] = pi
						ix.paths = append(ix.paths, indexedPath{typ: a.typ, steps: a.steps, strs: map[string][]int32{}, ints: map[int64][]int32{}, cidrs: map[netip.Prefix][]int32{}})
					}
					p := &ix.paths[pi]
					if a.cidr.IsValid() {
						if len(p.cidrs[a.cidr]) == 0 && !containsInt(p.cidrBits, a.cidr.Bits()) {
							p.cidrBits = append(p.cidrBits, a.cidr.Bits())
						}
						p.cidrs[a.cidr] = appendOnce(p.cidrs[a.cidr], gid)
					} else if a.isInt {
						p.ints[a.i] = appendOnce(p.ints[a.i], gid)
					} else {
						p.strs[a.s] = appendOnce(p.strs[a.s], gid)
					}
				}
				continue
			}
			for _, t := range leafTypes(lf, lf.tree) {
				if _, ok := ix.byType[t]; !ok {
					ix.types = append(ix.types, t)
				}
				ix.byType[t] = appendOnce(ix.byType[t], gid)
			}
		}
	}
	return ix, nil
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func appendOnce(s []int32, v int32) []int32 {
	if n := len(s); n > 0 && s[n-1] == v {
		return s
	}
	return append(s, v)
}

type anchor struct {
	typ   string
	steps []PathStep
	isInt bool
	s     string
	i     int64
	cidr  netip.Prefix // an ISSUBSET network
}

// leafAnchors finds (path, value) pairs one of which an event must carry
// for the comparison tree to be true.
func leafAnchors(lf *leaf, n *compNode) ([]anchor, bool) {
	if n.comp >= 0 {
		cc := lf.comps[n.comp]
		if cc.not {
			return nil, false
		}
		var lits []cval
		switch cc.op {
		case OpIsSubset:
			return []anchor{{typ: cc.typ, steps: cc.path, cidr: cc.cidr}}, true
		case OpEQ:
			lits = []cval{cc.lit}
		case OpIn:
			lits = cc.set
		default:
			return nil, false
		}
		if len(lits) == 0 {
			return nil, false
		}
		var out []anchor
		for _, l := range lits {
			switch l.kind {
			case LitString:
				out = append(out, anchor{typ: cc.typ, steps: cc.path, s: l.s})
			case LitInt:
				out = append(out, anchor{typ: cc.typ, steps: cc.path, isInt: true, i: l.i})
			case LitFloat:
				if l.f != math.Trunc(l.f) || math.Abs(l.f) > 1<<53 {
					return nil, false
				}
				out = append(out, anchor{typ: cc.typ, steps: cc.path, isInt: true, i: int64(l.f)})
			default:
				return nil, false
			}
		}
		return out, true
	}
	l, lok := leafAnchors(lf, n.left)
	r, rok := leafAnchors(lf, n.right)
	if n.and {
		switch {
		case lok && rok:
			if len(r) < len(l) {
				return r, true
			}
			return l, true
		case lok:
			return l, true
		case rok:
			return r, true
		}
		return nil, false
	}
	if lok && rok {
		return append(append([]anchor(nil), l...), r...), true
	}
	return nil, false
}

// leafTypes returns object types one of which an event must present.
func leafTypes(lf *leaf, n *compNode) []string {
	if n.comp >= 0 {
		return []string{lf.comps[n.comp].typ}
	}
	l, r := leafTypes(lf, n.left), leafTypes(lf, n.right)
	if n.and {
		if len(r) < len(l) {
			return r
		}
		return l
	}
	out := append([]string(nil), l...)
	for _, t := range r {
		dup := false
		for _, u := range out {
			dup = dup || u == t
		}
		if !dup {
			out = append(out, t)
		}
	}
	return out
}

// EventRef identifies an event of a match by its provenance.
type EventRef struct {
	Seq    int64 // 1-based position of the event in the stream that read it
	Time   time.Time
	File   string
	Line   int64
	Offset int64
}

// before orders events by time, then file, line, offset and position in
// their stream.
func (r EventRef) before(o EventRef) bool {
	switch {
	case !r.Time.Equal(o.Time):
		return r.Time.Before(o.Time)
	case r.File != o.File:
		return r.File < o.File
	case r.Line != o.Line:
		return r.Line < o.Line
	case r.Offset != o.Offset:
		return r.Offset < o.Offset
	}
	return r.Seq < o.Seq
}

// StreamMatch is one rule matched: the events of its binding, the last
// one being the event that completed it.
type StreamMatch struct {
	Rule   int // index in the rules given to NewIndex
	ID     string
	Events []EventRef
}

// StreamOptions tune memory bounds.
type StreamOptions struct {
	// MaxRetained bounds the events one rule remembers (default 4096).
	MaxRetained int
	// SearchBudget bounds the work of one evaluation (default 200,000 steps).
	SearchBudget int
}

// Stream evaluates events, in time order, against every rule of an Index.
// It is not safe for concurrent use; use one Stream per goroutine, all
// made from one State when the goroutines read parts of the same input.
//
// A rule that one observation decides ([a] or [a] OR [b]) matches on every
// event that satisfies it. A rule with AND, FOLLOWEDBY or qualifiers
// remembers the events that satisfied some of its observation expressions;
// when it matches, the match is reported with its events and the rule's
// memory is cleared, so it reports again only when a new binding is
// complete. Memory is bounded: events older than a rule's WITHIN window are
// forgotten once every stream of the State has moved past it (a stream
// that has read nothing yet holds that back: it may bring the earliest
// events of all); for each set
// of leaves an event satisfied, a rule keeps the earliest and the latest
// few events (as many as a binding can use), and never more than
// MaxRetained in all.
type Stream struct {
	ix     *Index
	shared *State
	clock  *clockCell // this stream's latest event time, for the State
	scope  *EventScope
	seq    int64
	now    time.Time
	stamp  []uint32 // per global leaf: evaluated in this round
	round  uint32
	cands  []int32
	masks  map[int32]uint64 // rule → leaves matched by the current event
	touch  []int32
	files  map[string]string // interned provenance file names
	// curPath is the indexed path visitValue looks values up in
	curPath *indexedPath
	out     []StreamMatch
}

// State is the memory of the rules that need several events, shared by
// the Streams made from it. In a scan every worker has a Stream of one
// State, so a binding whose events different workers read (two chunks of
// one file, or two files) is still found. The per-event work of a Stream
// (looking values up, evaluating leaves) runs outside the State's lock;
// only events that satisfy a leaf of such a rule take it.
type State struct {
	ix      *Index
	opts    StreamOptions
	mu      sync.Mutex
	states  map[int32]*ruleState
	clocks  []*clockCell // per stream: the latest event time it has read
	in      instances    // search scratch
	trimIdx []int        // trim scratch
	// overBudget counts binding searches stopped by SearchBudget
	overBudget int64
}

// retained is one remembered event, or several with the same leaf set
// merged (same time, or any time for rules where time does not matter).
type retained struct {
	mask        uint64
	first, last time.Time
	count       int
	refs        []EventRef // the latest few, oldest first
}

// maxRefsPerEntry bounds the provenance kept for merged events.
const maxRefsPerEntry = 16

func (r *retained) addRef(ref EventRef) {
	if len(r.refs) == maxRefsPerEntry {
		copy(r.refs, r.refs[1:])
		r.refs = r.refs[:maxRefsPerEntry-1]
	}
	r.refs = append(r.refs, ref)
}

type ruleState struct {
	events []retained
}

// NewStream returns a stream with a State of its own.
func (ix *Index) NewStream(opts StreamOptions) *Stream {
	return ix.NewState(opts).NewStream()
}

// NewState returns an empty State for Streams that share what they
// remember.
func (ix *Index) NewState(opts StreamOptions) *State {
	if opts.MaxRetained <= 0 {
		opts.MaxRetained = 4096
	}
	if opts.SearchBudget <= 0 {
		opts.SearchBudget = 200_000
	}
	return &State{ix: ix, opts: opts, states: map[int32]*ruleState{}}
}

// NewStream returns a stream whose rules remember events in st. It is safe
// to call concurrently.
func (st *State) NewStream() *Stream {
	clock := &clockCell{}
	clock.ns.Store(notStarted)
	st.mu.Lock()
	st.clocks = append(st.clocks, clock)
	st.mu.Unlock()
	ix := st.ix
	return &Stream{
		ix: ix, shared: st, clock: clock, scope: NewEventScope(),
		stamp: make([]uint32, len(ix.leaves)),
		masks: map[int32]uint64{},
		files: map[string]string{},
	}
}

// clockCell is a stream's latest event time (Unix nanoseconds), written
// by its stream on every Feed without a lock and read by the others under
// the State's: a stream that has read nothing yet may still bring the
// earliest events of all (the first chunk of a file), so it must hold
// the forgetting back. Each cell has a cache line of its own.
type clockCell struct {
	ns atomic.Int64
	_  [56]byte
}

// notStarted is the clock of a stream that has read no timed event.
const notStarted = math.MinInt64

// earliestClock is the earliest latest-time of all the streams: no stream
// has moved past it yet. False while a stream has read no timed event.
// Called with mu held.
func (st *State) earliestClock() (time.Time, bool) {
	earliest := int64(math.MaxInt64)
	for _, c := range st.clocks {
		v := c.ns.Load()
		if v == notStarted {
			return time.Time{}, false
		}
		earliest = min(earliest, v)
	}
	return time.Unix(0, earliest), len(st.clocks) > 0
}

// SearchesOverBudget returns how many binding searches of the State's
// streams stopped at StreamOptions.SearchBudget: each may have missed a
// binding that the event would have completed. Safe for concurrent use.
func (st *State) SearchesOverBudget() int64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.overBudget
}

// Rules returns the rules of the index.
func (ix *Index) Rules() []Rule { return ix.rules }

// Feed evaluates one event and returns the rules it completed. The slice
// and its contents are valid until the next call.
func (s *Stream) Feed(ev *telemetry.Event) []StreamMatch {
	s.out = s.out[:0]
	s.seq++
	if ev.Time.After(s.now) {
		s.now = ev.Time
		s.clock.ns.Store(s.now.UnixNano())
	}
	s.scope.Reset(ev)
	s.round++
	if s.round == 0 { // wrapped: clear stamps
		clear(s.stamp)
		s.round = 1
	}
	s.cands = s.cands[:0]
	sc := s.scope
	// indexed leaves: look up the values the event carries on each path
	for pi := range s.ix.paths {
		p := &s.ix.paths[pi]
		if !sc.hasType(p.typ) {
			continue
		}
		s.curPath = p
		for _, o := range sc.ObjectsOf(p.typ) {
			_, _ = walkPath(o, p.steps, sc, s.visitValue)
		}
	}
	for _, t := range s.ix.types {
		if sc.hasType(t) {
			s.addCands(s.ix.byType[t])
		}
	}
	if len(s.cands) == 0 {
		return s.out
	}
	// evaluate candidate leaves
	clear(s.masks)
	s.touch = s.touch[:0]
	for _, gid := range s.cands {
		ref := s.ix.leaves[gid]
		lf := s.ix.rules[ref.rule].Program.leaves[ref.leaf]
		if !lf.inWindows(ev.Time, ev.Time) {
			continue
		}
		if ok, _ := lf.match(sc, false); !ok {
			continue
		}
		m, seen := s.masks[ref.rule]
		if !seen {
			s.touch = append(s.touch, ref.rule)
		}
		if ref.leaf < 64 {
			m |= 1 << uint(ref.leaf)
		}
		s.masks[ref.rule] = m
	}
	for _, ri := range s.touch {
		s.advanceRule(int(ri), s.masks[ri], ev)
	}
	return s.out
}

// visitValue looks up one value of the current indexed path.
func (s *Stream) visitValue(v Value) (bool, error) {
	p := s.curPath
	switch v.Kind {
	case KindString:
		s.addCands(p.strs[v.Str])
		if len(p.cidrBits) > 0 {
			s.lookupCIDR(p, v.Str)
		}
	case KindInt:
		s.addCands(p.ints[v.Int])
	case KindFloat:
		if v.Flt == math.Trunc(v.Flt) {
			s.addCands(p.ints[int64(v.Flt)])
		}
	}
	return false, nil
}

// lookupCIDR finds the ISSUBSET leaves whose network holds the address
// (or network) v.
func (s *Stream) lookupCIDR(p *indexedPath, v string) {
	in, ok := parseIPOrCIDR(v)
	if !ok {
		return
	}
	for _, bits := range p.cidrBits {
		if bits > in.Bits() {
			continue
		}
		if pfx, err := in.Addr().Prefix(bits); err == nil {
			s.addCands(p.cidrs[pfx])
		}
	}
}

func (s *Stream) addCands(ids []int32) {
	for _, id := range ids {
		if s.stamp[id] != s.round {
			s.stamp[id] = s.round
			s.cands = append(s.cands, id)
		}
	}
}

func (s *Stream) ref(ev *telemetry.Event) EventRef {
	f, ok := s.files[ev.File]
	if !ok {
		f = string(append([]byte(nil), ev.File...))
		s.files[f] = f
	}
	return EventRef{Seq: s.seq, Time: ev.Time, File: f, Line: ev.Line, Offset: ev.Offset}
}

func (s *Stream) advanceRule(ri int, mask uint64, ev *telemetry.Event) {
	rule := s.ix.rules[ri]
	prog := rule.Program
	if prog.stateless {
		s.out = append(s.out, StreamMatch{Rule: ri, ID: rule.ID, Events: []EventRef{s.ref(ev)}})
		return
	}
	if mask == 0 {
		return
	}
	ref := s.ref(ev)
	sh := s.shared
	sh.mu.Lock()
	defer sh.mu.Unlock()
	st := sh.states[int32(ri)]
	if st == nil {
		st = &ruleState{}
		sh.states[int32(ri)] = st
	}
	// forget what can no longer join a binding with this event or with
	// any event a stream has still to read
	if now, ok := sh.earliestClock(); ok && prog.bounded && len(st.events) > 0 {
		cut := now.Add(-prog.horizon)
		n := 0
		for _, e := range st.events {
			if !e.last.Before(cut) {
				st.events[n] = e
				n++
			}
		}
		clear(st.events[n:])
		st.events = st.events[:n]
	}
	st.add(prog, mask, ref)
	// Search over everything remembered: a binding found now includes this
	// event, since without it there was none.
	in := &sh.in
	in.first = in.first[:0]
	in.last = in.last[:0]
	in.count = in.count[:0]
	if cap(in.cands) < len(prog.leaves) {
		in.cands = make([][]int, len(prog.leaves))
	}
	in.cands = in.cands[:len(prog.leaves)]
	for i := range in.cands {
		in.cands[i] = in.cands[i][:0]
	}
	for i, e := range st.events {
		in.first = append(in.first, e.first)
		in.last = append(in.last, e.last)
		in.count = append(in.count, e.count)
		for m := e.mask; m != 0; m &= m - 1 {
			li := bits.TrailingZeros64(m)
			in.cands[li] = append(in.cands[li], i)
		}
	}
	sr := newSearcher(prog, in, sh.opts.SearchBudget)
	found, err := sr.run()
	if err != nil {
		sh.overBudget++
	}
	if found {
		m := StreamMatch{Rule: ri, ID: rule.ID}
		used := map[int]int{}
		for _, i := range sr.result {
			used[i]++
		}
		for i := range st.events {
			u := used[i]
			if u == 0 {
				continue
			}
			refs := st.events[i].refs
			m.Events = append(m.Events, refs[max(0, len(refs)-u):]...)
		}
		// events of several streams: ordered by time, then place
		sort.Slice(m.Events, func(a, b int) bool { return m.Events[a].before(m.Events[b]) })
		s.out = append(s.out, m)
		clear(st.events)
		st.events = st.events[:0]
		return
	}
	sh.trimIdx = st.trim(prog, mask, sh.trimIdx)
	if len(st.events) > sh.opts.MaxRetained {
		n := copy(st.events, st.events[len(st.events)-sh.opts.MaxRetained:])
		clear(st.events[n:])
		st.events = st.events[:n]
	}
}

// add remembers one event. Events with the same leaf set are merged when
// time does not matter for the rule, or when they happened at the same
// instant.
func (st *ruleState) add(prog *Program, mask uint64, ref EventRef) {
	for i := range st.events {
		e := &st.events[i]
		if e.mask == mask && (prog.timeless || e.last.Equal(ref.Time)) {
			e.count++
			if ref.Time.After(e.last) {
				e.last = ref.Time
			}
			e.addRef(ref)
			return
		}
	}
	st.events = append(st.events, retained{mask: mask, first: ref.Time, last: ref.Time, count: 1, refs: []EventRef{ref}})
}

// trim bounds what a leaf set keeps once the search has had every event:
// its earliest and its latest events by time (the earliest serve the left
// of FOLLOWEDBY, the latest WITHIN), as many of each as one binding can
// use; one in the middle goes. Streams of one State deliver events out of
// time order, so arrival order is not time order. scratch is reused for
// the indices and returned.
func (st *ruleState) trim(prog *Program, mask uint64, scratch []int) []int {
	keep := min(prog.slots, 512)
	idx := scratch[:0]
	inOrder := true
	for i := range st.events {
		if st.events[i].mask != mask {
			continue
		}
		if n := len(idx); n > 0 && st.events[i].last.Before(st.events[idx[n-1]].last) {
			inOrder = false
		}
		idx = append(idx, i)
	}
	if len(idx) <= 2*keep {
		return idx
	}
	if !inOrder {
		sort.SliceStable(idx, func(a, b int) bool { return st.events[idx[a]].last.Before(st.events[idx[b]].last) })
	}
	drop, n := idx[keep], len(st.events)
	copy(st.events[drop:], st.events[drop+1:])
	st.events[n-1] = retained{} // the tail's old copy: let its refs go
	st.events = st.events[:n-1]
	return idx
}
