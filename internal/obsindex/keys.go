package obsindex

import "fmt"

// KeyPorts is an observation's key with, for an address, the ports of
// its first cited record: all a retro-hunt needs to tell whether any
// indicator matches the value at all (ports bind some address
// indicators, and no other). Reading only
// this of every stored observation, and the whole of the few that
// match, is what makes a retro-hunt over millions of values fast.
type KeyPorts struct {
	Key
	SrcPort, DstPort uint16
}

// FirstPorts reads the ports of the first record of what AppendRecords
// wrote, without decoding the rest; zero ports when there is none.
func FirstPorts(b []byte) (src, dst uint16, err error) {
	d := decoder{b: b}
	if v := d.byte(); v != codecVersion {
		return 0, 0, fmt.Errorf("%w: version %d", ErrBadRecords, v)
	}
	if n := d.uvarint(); n == 0 || d.err != nil {
		return 0, 0, d.wrapped()
	}
	d.uvarint() // source id
	d.varint()  // line
	d.varint()  // offset
	d.varint()  // time
	d.addr()    // src
	d.addr()    // dst
	src, dst = d.port(), d.port()
	return src, dst, d.wrapped()
}

// wrapped is d's error as DecodeRecords words it; nil without one.
func (d *decoder) wrapped() error {
	if d.err == nil {
		return nil
	}
	return fmt.Errorf("%w at byte %d: %v", ErrBadRecords, d.off, d.err)
}
