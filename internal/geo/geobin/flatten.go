package geobin

import (
	"net/netip"
	"slices"
)

// Span is an inclusive address range with a value, as upstream CSV files
// list them. IPv4 spans use the low 32 bits of Lo.
type Span struct {
	First, Last U128
	Value       uint32
}

// FromAddr converts an address to its number: IPv4 as a 32-bit value in Lo,
// IPv6 as all 128 bits.
func FromAddr(a netip.Addr) U128 {
	if a.Is4() {
		b := a.As4()
		return U128{Lo: uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])}
	}
	b := a.As16()
	var hi, lo uint64
	for i := 0; i < 8; i++ {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[8+i])
	}
	return U128{Hi: hi, Lo: lo}
}

func (a U128) cmp(b U128) int {
	switch {
	case a.Less(b):
		return -1
	case b.Less(a):
		return 1
	}
	return 0
}

// Largest IPv4 and IPv6 addresses, as Flatten's max.
var (
	MaxV4 = U128{Lo: 0xffffffff}
	MaxV6 = U128{Hi: ^uint64(0), Lo: ^uint64(0)}
)

// Flatten turns possibly overlapping spans into a range table of increasing
// starts. Where spans overlap, the more specific one wins: upstream data
// sometimes lists a geofeed sub-range inside its WHOIS block without cutting
// the block. Addresses covered by no span get value 0, adjacent ranges with
// equal values are merged, and no start above max is emitted (max is
// 0xffffffff for IPv4, all ones for IPv6).
func Flatten(spans []Span, max U128) ([]U128, []uint32) {
	sorted := slices.Clone(spans)
	// Wider spans first among equal starts, so the narrower one is pushed
	// later and wins; the sort is stable so a later duplicate wins too.
	slices.SortStableFunc(sorted, func(a, b Span) int {
		if c := a.First.cmp(b.First); c != 0 {
			return c
		}
		return b.Last.cmp(a.Last)
	})
	var starts []U128
	var values []uint32
	emit := func(at U128, v uint32) {
		if max.Less(at) {
			return
		}
		if len(values) == 0 && v == 0 {
			return // Find already answers 0 before the first start
		}
		if len(values) > 0 && values[len(values)-1] == v {
			return
		}
		starts = append(starts, at)
		values = append(values, v)
	}
	var stack []Span
	cursor := U128{} // first address not yet assigned
	exhausted := false
	// closeSpan assigns the rest of top (from cursor) to top's value.
	closeSpan := func(top Span) {
		if exhausted || top.Last.Less(cursor) {
			return
		}
		emit(cursor, top.Value)
		next, over := top.Last.add(U128{Lo: 1})
		cursor, exhausted = next, over
	}
	for _, s := range sorted {
		if s.Last.Less(s.First) {
			continue
		}
		for len(stack) > 0 && stack[len(stack)-1].Last.Less(s.First) {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			closeSpan(top)
		}
		if !exhausted && cursor.Less(s.First) {
			v := uint32(0)
			if len(stack) > 0 {
				v = stack[len(stack)-1].Value
			}
			emit(cursor, v)
		}
		cursor = s.First // never moves back: popped spans all ended before s
		stack = append(stack, s)
	}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		closeSpan(top)
	}
	if !exhausted {
		emit(cursor, 0)
	}
	return starts, values
}

// Flatten4 is Flatten for IPv4 spans, returning 32-bit starts.
func Flatten4(spans []Span) Ranges4 {
	return Ranges4FromU128(Flatten(spans, MaxV4))
}

// Flatten6 is Flatten for IPv6 spans.
func Flatten6(spans []Span) Ranges6 {
	starts, values := Flatten(spans, MaxV6)
	return Ranges6{Starts: starts, Values: values}
}

// Overlay combines two range tables over the same address family into one
// whose value at every address is f(value in a, value in b). Both inputs
// have increasing starts (as Flatten returns them); so does the result,
// with adjacent equal values merged.
func Overlay(as []U128, av []uint32, bs []U128, bv []uint32, f func(a, b uint32) uint32) ([]U128, []uint32) {
	var starts []U128
	var values []uint32
	var ca, cb uint32
	i, j := 0, 0
	for i < len(as) || j < len(bs) {
		var p U128
		if j >= len(bs) || (i < len(as) && !bs[j].Less(as[i])) {
			p = as[i]
		} else {
			p = bs[j]
		}
		for i < len(as) && as[i] == p {
			ca = av[i]
			i++
		}
		for j < len(bs) && bs[j] == p {
			cb = bv[j]
			j++
		}
		v := f(ca, cb)
		if (len(values) == 0 && v == 0) || (len(values) > 0 && values[len(values)-1] == v) {
			continue
		}
		starts = append(starts, p)
		values = append(values, v)
	}
	return starts, values
}

// Ranges4FromU128 narrows Flatten or Overlay output to an IPv4 table.
func Ranges4FromU128(starts []U128, values []uint32) Ranges4 {
	r := Ranges4{Starts: make([]uint32, len(starts)), Values: values}
	for i, s := range starts {
		r.Starts[i] = uint32(s.Lo)
	}
	return r
}
