package pcap

// reassembly is the reader-wide account of out-of-order TCP data: how many
// bytes all flows hold, and the flows holding some in the order they began
// to wait, so that the reader can give up the oldest holes first when the
// total passes Options.MaxReassembly.
type reassembly struct {
	bytes     int
	peak      int     // the most bytes held at once, for the memory tests
	holding   []*flow // may hold flows that no longer wait (skipped when met)
	compactAt int
}

// hold records that f buffers out-of-order data.
func (a *reassembly) hold(f *flow) {
	if f.holding {
		return
	}
	f.holding = true
	a.holding = append(a.holding, f)
	if len(a.holding) >= a.compactAt {
		a.compact()
	}
}

// compact drops the flows that no longer wait, so that the queue stays
// as long as the flows that do, not as the flows that ever did.
func (a *reassembly) compact() {
	live := a.holding[:0]
	for _, f := range a.holding {
		if f.waiting() {
			live = append(live, f)
		} else {
			f.holding = false
		}
	}
	clear(a.holding[len(live):])
	a.holding = live
	a.compactAt = max(4096, 2*len(live))
}

// waiting reports whether f holds out-of-order data in either direction.
func (f *flow) waiting() bool {
	return len(f.streams[0].ooo) > 0 || len(f.streams[1].ooo) > 0
}

// evictOldestHole makes the flow that began to wait first give up its
// holes: what it buffered is delivered after a gap, as when its own
// buffer fills. It reports false when no flow waits.
func (r *Reader) evictOldestHole() bool {
	a := &r.reasm
	for len(a.holding) > 0 {
		f := a.holding[0]
		a.holding[0] = nil
		a.holding = a.holding[1:]
		f.holding = false
		if !f.waiting() {
			continue
		}
		for dir := range f.streams {
			r.flushStream(f, dir)
		}
		return true
	}
	return false
}
