package pattern

import "errors"

// errTooComplex is returned when an evaluation exceeds its work budget.
var errTooComplex = errors.New("pattern is too complex to evaluate against this data (search budget exceeded)")

// maxTypeCombinations bounds the assignments tried for a comparison
// expression over several object types.
const maxTypeCombinations = 1 << 16

// match reports whether one observation satisfies the leaf.
//
// Comparisons on one object type must hold on one and the same object
// ([file:name = 'a' AND file:size > 5] needs a file with both). When a
// comparison expression names several types, each type is bound to one
// object of the observation and the expression is evaluated on that
// assignment: [network-traffic:dst_port = 22 AND user-account:user_id =
// 'root'] needs both objects in the same observation.
//
// In thorough mode every comparison is evaluated on every object so that
// data errors surface (the batch matcher); otherwise evaluation stops as
// soon as the answer is known and data errors count as "no match".
func (lf *leaf) match(sc scope, thorough bool) (bool, error) {
	if len(lf.types) == 1 && !thorough {
		for _, o := range sc.ObjectsOf(lf.types[0]) {
			if lf.evalTree(lf.tree, o, sc) {
				return true, nil
			}
		}
		return false, nil
	}
	// Truth vectors of each object per type, deduplicated.
	n := len(lf.comps)
	perType := make([][][]bool, len(lf.types))
	for ti, typ := range lf.types {
		seen := map[string]bool{}
		var evalErr error
		for _, o := range sc.ObjectsOf(typ) {
			vec := make([]bool, n)
			key := make([]byte, n)
			for i, cc := range lf.comps {
				if lf.compType[i] != ti {
					continue
				}
				r, err := cc.evalOn(o, sc)
				if err != nil {
					if thorough {
						evalErr = err
						break
					}
					r = false
				}
				vec[i] = r
				if r {
					key[i] = 1
				}
			}
			if evalErr != nil {
				break
			}
			if !seen[string(key)] {
				seen[string(key)] = true
				perType[ti] = append(perType[ti], vec)
			}
		}
		if evalErr != nil {
			return false, evalErr
		}
		if len(perType[ti]) == 0 {
			// no object of this type: its comparisons are false
			perType[ti] = [][]bool{make([]bool, n)}
		}
	}
	combos := 1
	for _, vs := range perType {
		combos *= len(vs)
		if combos > maxTypeCombinations {
			return false, errTooComplex
		}
	}
	choice := make([]int, len(lf.types))
	for {
		if lf.tree.eval(func(i int) bool { return perType[lf.compType[i]][choice[lf.compType[i]]][i] }) {
			return true, nil
		}
		// next combination
		k := 0
		for k < len(choice) {
			choice[k]++
			if choice[k] < len(perType[k]) {
				break
			}
			choice[k] = 0
			k++
		}
		if k == len(choice) {
			return false, nil
		}
	}
}

// evalTree evaluates the comparison tree on one object, stopping as soon
// as the answer is known; data errors count as false.
func (lf *leaf) evalTree(n *compNode, o Object, sc scope) bool {
	if n.comp >= 0 {
		r, err := lf.comps[n.comp].evalOn(o, sc)
		return err == nil && r
	}
	if n.and {
		return lf.evalTree(n.left, o, sc) && lf.evalTree(n.right, o, sc)
	}
	return lf.evalTree(n.left, o, sc) || lf.evalTree(n.right, o, sc)
}
