package pattern

import (
	"fmt"
	"sort"
	"time"
)

// Match evaluates a pattern against observations, as the reference
// matcher does. It returns whether the pattern matched and, if so, the ids
// of the observed-data objects of the first binding found (observations
// without an id are named "observation N", 1-based). Errors are *Error for
// patterns that cannot be evaluated, or describe data that cannot be (a
// timestamp in the data that is not one).
func Match(p *Pattern, obs []Observation) (bool, []string, error) {
	prog, err := Compile(p)
	if err != nil {
		return false, nil, err
	}
	return prog.Match(obs)
}

// Match evaluates the program against observations; see Match.
func (prog *Program) Match(obs []Observation) (bool, []string, error) {
	in := &instances{
		first: make([]time.Time, len(obs)),
		last:  make([]time.Time, len(obs)),
		count: make([]int, len(obs)),
		cands: make([][]int, len(prog.leaves)),
	}
	for i := range obs {
		o := &obs[i]
		in.first[i], in.last[i], in.count[i] = o.First, o.Last, o.Count
		for li, lf := range prog.leaves {
			ok, err := lf.match(o, true)
			if err != nil {
				return false, nil, fmt.Errorf("%s: %w", obsName(o, i), err)
			}
			if ok && lf.inWindows(o.First, o.Last) {
				in.cands[li] = append(in.cands[li], i)
			}
		}
	}
	s := newSearcher(prog, in, defaultBudget)
	found, err := s.run()
	if err != nil || !found {
		return false, nil, err
	}
	idx := append([]int(nil), s.result...)
	sort.Ints(idx)
	var ids []string
	for i, o := range idx {
		if i > 0 && idx[i-1] == o {
			continue
		}
		ids = append(ids, obsName(&obs[o], o))
	}
	return true, ids, nil
}

func obsName(o *Observation, i int) string {
	if o.ID != "" {
		return o.ID
	}
	return fmt.Sprintf("observation %d", i+1)
}
