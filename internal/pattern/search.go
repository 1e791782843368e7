package pattern

import "time"

// instances describes observations for the binding search: each may be
// used Count times (number_observed), lies in [first, last], and matches
// some leaves.
type instances struct {
	first, last []time.Time
	count       []int
	cands       [][]int // per leaf: observation indices, in preference order
}

// searcher finds one binding: an assignment of distinct observation
// instances to the leaves of the pattern (REPEATS expands its operand) that
// satisfies every qualifier and FOLLOWEDBY. It is a depth-first search with
// the constraints pushed down to each choice, symmetric choices under
// REPEATS cut, and a work budget so no input runs away.
type searcher struct {
	prog    *Program
	in      *instances
	used    []int
	binding []int // observation index per bound slot
	result  []int // the binding found
	// WITHIN windows active while their operand is being bound
	windows []window
	// lower bound on last-observed for the right side of FOLLOWEDBY
	bound    time.Time
	hasBound bool
	// pendingMin: the first leaf bound next must use an observation index
	// >= this (orders the copies of a REPEATS operand); -1 when unset.
	pendingMin int
	budget     int
}

type window struct {
	d          time.Duration
	active     bool
	maxFirst   time.Time
	minLast    time.Time
	empty      bool
	savedStack []windowSave
}

const defaultBudget = 2_000_000

func newSearcher(prog *Program, in *instances, budget int) *searcher {
	return &searcher{prog: prog, in: in, used: make([]int, len(in.count)), pendingMin: -1, budget: budget}
}

// run reports whether a binding exists; s.result holds it afterwards.
func (s *searcher) run() (bool, error) {
	if !s.feasible(s.prog.root) {
		return false, nil
	}
	found := s.sat(s.prog.root, func() bool {
		s.result = append(s.result[:0], s.binding...)
		return true
	})
	if s.budget < 0 {
		return false, errTooComplex
	}
	return found, nil
}

// feasible is a cheap necessary condition: every leaf that every binding
// needs has a candidate, and a REPEATS of a leaf has enough instances.
func (s *searcher) feasible(n *obsNode) bool {
	switch n.op {
	case opLeaf:
		return len(s.in.cands[n.leaf]) > 0
	case opAnd, opFollowedBy:
		return s.feasible(n.left) && s.feasible(n.right)
	case opOr:
		return s.feasible(n.left) || s.feasible(n.right)
	case opRepeats:
		if !s.feasible(n.left) {
			return false
		}
		if n.left.op == opLeaf {
			total := 0
			for _, c := range s.in.cands[n.left.leaf] {
				total += s.in.count[c]
				if total >= n.times {
					return true
				}
			}
			return false
		}
		return true
	case opWithin:
		return s.feasible(n.left)
	}
	return true
}

// sat tries every way to bind n given the current state, calling k after
// each; it stops and returns true as soon as k does.
func (s *searcher) sat(n *obsNode, k func() bool) bool {
	if s.budget < 0 {
		return false
	}
	switch n.op {
	case opLeaf:
		return s.satLeaf(n.leaf, k)
	case opAnd:
		return s.sat(n.left, func() bool { return s.sat(n.right, k) })
	case opOr:
		pm := s.pendingMin
		if s.sat(n.left, k) {
			return true
		}
		s.pendingMin = pm
		return s.sat(n.right, k)
	case opFollowedBy:
		start := len(s.binding)
		return s.sat(n.left, func() bool {
			var maxFirst time.Time
			for i, o := range s.binding[start:] {
				if f := s.in.first[o]; i == 0 || f.After(maxFirst) {
					maxFirst = f
				}
			}
			oldBound, oldHas := s.bound, s.hasBound
			if !s.hasBound || maxFirst.After(s.bound) {
				s.bound, s.hasBound = maxFirst, true
			}
			r := s.sat(n.right, func() bool {
				b, h := s.bound, s.hasBound
				s.bound, s.hasBound = oldBound, oldHas
				ok := k()
				s.bound, s.hasBound = b, h
				return ok
			})
			s.bound, s.hasBound = oldBound, oldHas
			return r
		})
	case opWithin:
		s.windows = append(s.windows, window{d: n.within, active: true, empty: true})
		w := len(s.windows) - 1
		r := s.sat(n.left, func() bool {
			s.windows[w].active = false
			ok := k()
			s.windows[w].active = true
			return ok
		})
		s.windows = s.windows[:w]
		return r
	case opRepeats:
		return s.satRepeat(n, 0, 0, k)
	}
	return false
}

func (s *searcher) satRepeat(n *obsNode, i, minFirst int, k func() bool) bool {
	if i == n.times {
		return k()
	}
	if n.left.op == opLeaf && !s.enoughLeft(n.left.leaf, minFirst, n.times-i) {
		return false
	}
	start := len(s.binding)
	saved := s.pendingMin
	s.pendingMin = minFirst
	r := s.sat(n.left, func() bool {
		pm := s.pendingMin
		ok := s.satRepeat(n, i+1, s.binding[start], k)
		s.pendingMin = pm
		return ok
	})
	s.pendingMin = saved
	return r
}

// enoughLeft reports whether a leaf still has need unused instances among
// observations with index >= from.
func (s *searcher) enoughLeft(leaf, from, need int) bool {
	have := 0
	for _, c := range s.in.cands[leaf] {
		if c >= from {
			have += s.in.count[c] - s.used[c]
			if have >= need {
				return true
			}
		}
	}
	return false
}

func (s *searcher) satLeaf(leaf int, k func() bool) bool {
	lo := s.pendingMin
	s.pendingMin = -1
	defer func() { s.pendingMin = lo }()
	for _, c := range s.in.cands[leaf] {
		s.budget--
		if s.budget < 0 {
			return false
		}
		if c < lo || s.used[c] >= s.in.count[c] {
			continue
		}
		if s.hasBound && s.in.last[c].Before(s.bound) {
			continue
		}
		if !s.windowsAdmit(c) {
			continue
		}
		s.push(c)
		ok := k()
		s.pop(c)
		if ok {
			return true
		}
	}
	return false
}

// windowsAdmit reports whether adding observation c keeps every active
// WITHIN satisfiable: an interval of the window's length must overlap the
// intervals of all its observations, i.e. max(first) - min(last) <= d.
func (s *searcher) windowsAdmit(c int) bool {
	f, l := s.in.first[c], s.in.last[c]
	for i := range s.windows {
		w := &s.windows[i]
		if !w.active {
			continue
		}
		maxFirst, minLast := f, l
		if !w.empty {
			if w.maxFirst.After(maxFirst) {
				maxFirst = w.maxFirst
			}
			if w.minLast.Before(minLast) {
				minLast = w.minLast
			}
		}
		if maxFirst.Sub(minLast) > w.d {
			return false
		}
	}
	return true
}

// window state is saved per push in a parallel stack.
type windowSave struct {
	maxFirst, minLast time.Time
	empty             bool
}

func (s *searcher) push(c int) {
	s.used[c]++
	s.binding = append(s.binding, c)
	f, l := s.in.first[c], s.in.last[c]
	for i := range s.windows {
		w := &s.windows[i]
		if !w.active {
			continue
		}
		w.savedStack = append(w.savedStack, windowSave{w.maxFirst, w.minLast, w.empty})
		if w.empty || f.After(w.maxFirst) {
			w.maxFirst = f
		}
		if w.empty || l.Before(w.minLast) {
			w.minLast = l
		}
		w.empty = false
	}
}

func (s *searcher) pop(c int) {
	s.used[c]--
	s.binding = s.binding[:len(s.binding)-1]
	for i := range s.windows {
		w := &s.windows[i]
		if !w.active {
			continue
		}
		sv := w.savedStack[len(w.savedStack)-1]
		w.savedStack = w.savedStack[:len(w.savedStack)-1]
		w.maxFirst, w.minLast, w.empty = sv.maxFirst, sv.minLast, sv.empty
	}
}
