package queue

import "github.com/whodunit-project/whodunit/internal/obsindex"

// indexMerge merges the pieces' indexes as they arrive, so that little
// is left to merge when the last piece is in: like a binary counter, a
// list is merged with the one before it while that one holds no more
// pieces, which keeps the work at n log k for n values in k pieces and
// at most log k lists waiting.
type indexMerge struct {
	lists  [][]obsindex.Observation
	pieces []int // how many pieces each list holds
}

// add merges in one piece's index (sorted, each key once).
func (m *indexMerge) add(list []obsindex.Observation) {
	n := 1
	for k := len(m.lists) - 1; k >= 0 && m.pieces[k] <= n; k-- {
		list = obsindex.MergeSorted(m.lists[k], list)
		n += m.pieces[k]
		m.lists, m.pieces = m.lists[:k], m.pieces[:k]
	}
	m.lists, m.pieces = append(m.lists, list), append(m.pieces, n)
}

// all is every piece's index merged.
func (m *indexMerge) all() []obsindex.Observation { return obsindex.MergeSorted(m.lists...) }
