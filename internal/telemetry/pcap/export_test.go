package pcap

// ReassemblyBytes is, for tests, what all flows buffer out of order now.
func (r *Reader) ReassemblyBytes() int { return r.reasm.bytes }

// ReassemblyPeak is the most it buffered at once.
func (r *Reader) ReassemblyPeak() int { return r.reasm.peak }
