package warninglist

import "sort"

// substrings finds every pattern that occurs in a text, in one pass over the
// text (Aho–Corasick). Patterns and texts are compared in ASCII lower case.
// The automaton is built once and read-only afterwards.
type substrings struct {
	root      [256]int32 // goto of the root, complete (missing edges lead back to 0)
	edgeStart []int32    // node i's edges are edgeByte/edgeTo[edgeStart[i]:edgeStart[i+1]]
	edgeByte  []byte
	edgeTo    []int32
	fail      []int32
	dict      []int32 // nearest node on the fail chain (itself included) with output, or -1
	out       [][]uint16
}

type buildNode struct {
	next map[byte]int32
	out  []uint16
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// newSubstrings builds the automaton; patterns[i] belongs to lists ids[i].
func newSubstrings(patterns []string, ids []uint16) *substrings {
	nodes := []buildNode{{next: map[byte]int32{}}}
	for i, p := range patterns {
		if p == "" {
			continue
		}
		n := int32(0)
		for j := 0; j < len(p); j++ {
			c := lowerASCII(p[j])
			nx, ok := nodes[n].next[c]
			if !ok {
				nx = int32(len(nodes))
				nodes = append(nodes, buildNode{next: map[byte]int32{}})
				nodes[n].next[c] = nx
			}
			n = nx
		}
		nodes[n].out = appendID(nodes[n].out, ids[i])
	}
	a := &substrings{
		edgeStart: make([]int32, len(nodes)+1),
		fail:      make([]int32, len(nodes)),
		dict:      make([]int32, len(nodes)),
		out:       make([][]uint16, len(nodes)),
	}
	// Flatten the edges, sorted by byte, so that a lookup is a short scan.
	for i := range nodes {
		a.edgeStart[i] = int32(len(a.edgeByte))
		keys := make([]int, 0, len(nodes[i].next))
		for c := range nodes[i].next {
			keys = append(keys, int(c))
		}
		sort.Ints(keys)
		for _, c := range keys {
			a.edgeByte = append(a.edgeByte, byte(c))
			a.edgeTo = append(a.edgeTo, nodes[i].next[byte(c)])
		}
		a.out[i] = nodes[i].out
	}
	a.edgeStart[len(nodes)] = int32(len(a.edgeByte))
	for c := 0; c < 256; c++ {
		a.root[c] = 0
	}
	for c, to := range nodes[0].next {
		a.root[c] = to
	}
	// Breadth-first: fail links point to the longest proper suffix in the trie.
	queue := make([]int32, 0, len(nodes))
	a.dict[0] = -1
	for _, to := range nodes[0].next {
		a.fail[to] = 0
		queue = append(queue, to)
	}
	sort.Slice(queue, func(i, j int) bool { return queue[i] < queue[j] })
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if len(a.out[n]) > 0 {
			a.dict[n] = n
		} else {
			a.dict[n] = a.dict[a.fail[n]]
		}
		for k := a.edgeStart[n]; k < a.edgeStart[n+1]; k++ {
			c, to := a.edgeByte[k], a.edgeTo[k]
			f := a.fail[n]
			for {
				if nx, ok := a.step(f, c); ok {
					a.fail[to] = nx
					break
				}
				if f == 0 {
					a.fail[to] = 0
					break
				}
				f = a.fail[f]
			}
			queue = append(queue, to)
		}
	}
	return a
}

// step follows the edge c out of node n, if there is one.
func (a *substrings) step(n int32, c byte) (int32, bool) {
	if n == 0 {
		to := a.root[c]
		return to, to != 0
	}
	for k := a.edgeStart[n]; k < a.edgeStart[n+1]; k++ {
		if b := a.edgeByte[k]; b == c {
			return a.edgeTo[k], true
		} else if b > c {
			break
		}
	}
	return 0, false
}

// scan marks in hits the lists of every pattern found in text.
func (a *substrings) scan(text string, hits *bitset) {
	n := int32(0)
	for i := 0; i < len(text); i++ {
		c := lowerASCII(text[i])
		for {
			if nx, ok := a.step(n, c); ok {
				n = nx
				break
			}
			if n == 0 {
				break
			}
			n = a.fail[n]
		}
		for d := a.dict[n]; d > 0; d = a.dict[a.fail[d]] {
			for _, id := range a.out[d] {
				hits.set(id)
			}
		}
	}
}

func appendID(ids []uint16, id uint16) []uint16 {
	for _, x := range ids {
		if x == id {
			return ids
		}
	}
	return append(ids, id)
}
