package match

import (
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// The sections of a snapshot cache payload, read in the order
// appendPayload writes them.

func (d *cdec) stats(st *Stats) {
	st.Indicators, st.Patterns, st.Suppressed = int(d.u32()), int(d.u32()), int(d.u32())
	n := d.count(5)
	for i := 0; i < n && d.err == nil; i++ {
		t := intel.ValueType(d.str())
		st.Observables[t] = int(d.u32())
	}
	n = d.count(5)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.str()
		st.Skipped[k] = int(d.u32())
	}
	n = d.count(1)
	for i := 0; i < n && d.err == nil; i++ {
		st.Rejected = append(st.Rejected, d.str())
	}
}

// sections reads the framed sections, each on a decoder of its own, the
// largest first, on as many goroutines as there are processors: building
// the lookup maps is most of a load, and each map is its own.
func (d *cdec) sections(s *Snapshot) error {
	inds, refs := d.section(), d.section()
	nInds, nr := inds.peekCount(), refs.peekCount()
	tasks := []sectionTask{
		{inds, func(c *cdec) { c.indicators(s) }},
		{refs, func(c *cdec) { c.refs(s, nInds) }},
		{d.section(), func(c *cdec) { c.ip4(s, nr) }},
		{d.section(), func(c *cdec) { c.ip6(s, nr) }},
		{d.section(), func(c *cdec) { c.domains(s, nr) }},
	}
	for cls := range s.strs {
		tasks = append(tasks, sectionTask{d.section(), func(c *cdec) { s.strs[cls] = c.stringTable(s, cls, nr) }})
	}
	tasks = append(tasks, sectionTask{d.section(), func(c *cdec) { c.urlHosts(s) }})
	for _, m := range []*map[int32]string{&s.issuers, &s.lists} {
		tasks = append(tasks, sectionTask{d.section(), func(c *cdec) { *m = c.refStrings(nr) }})
	}
	for _, m := range []*map[int32]string{&s.patternText, &s.patternSrc} {
		tasks = append(tasks, sectionTask{d.section(), func(c *cdec) { *m = c.refStrings(nInds) }})
	}
	if d.err == nil && d.off != len(d.s) {
		d.fail("bytes after the last section")
	}
	if d.err != nil {
		return d.err
	}
	runSections(tasks)
	for _, t := range tasks {
		if t.d.err != nil {
			return t.d.err
		}
	}
	return nil
}

// sectionTask is a section's decoder and what it decodes.
type sectionTask struct {
	d      *cdec
	decode func(*cdec)
}

// runSections decodes every task; each must read its section to its end.
func runSections(tasks []sectionTask) {
	order := slices.Clone(tasks)
	slices.SortStableFunc(order, func(a, b sectionTask) int { return (len(b.d.s) - b.d.off) - (len(a.d.s) - a.d.off) })
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(order)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(len(order)); i = next.Add(1) - 1 {
				t := order[i]
				t.decode(t.d)
				if t.d.err == nil && t.d.off != len(t.d.s) {
					t.d.fail("bytes after the section's content")
				}
			}
		}()
	}
	wg.Wait()
}

func (d *cdec) indicators(s *Snapshot) {
	n := d.count(18)
	s.inds = make([]indicator, n)
	for i := 0; i < n && d.err == nil; i++ {
		in := &s.inds[i]
		in.id = d.str()
		in.from, in.until = int64(d.u64()), int64(d.u64())
		in.dead = d.byte() == 1
	}
}

// refs reads the refs; a ref's next is always an earlier ref (chains are
// built by pushing on a head), which also rules out a cycle.
func (d *cdec) refs(s *Snapshot, nInds int) {
	n := d.count(13)
	s.refs = make([]ref, n)
	for i := 0; i < n && d.err == nil; i++ {
		r := &s.refs[i]
		r.ind = d.index(nInds, false)
		r.next = d.index(i, true)
		r.port = uint16(d.byte()) | uint16(d.byte())<<8
		r.typ, r.flags = vtype(d.byte()), d.byte()
		r.value = d.str()
		if int(r.typ) >= len(intel.ValueTypes) {
			d.fail(fmt.Sprintf("value type %d out of range", r.typ))
		}
	}
}

// ip4 reads the IPv4 table. Here and in the other tables the Bloom
// filters are filled as the keys are read: cheaper than buildFilters'
// walk over the finished maps.
func (d *cdec) ip4(s *Snapshot, nr int) {
	n := d.count(8)
	s.ip4 = make(map[uint32]int32, n)
	s.filters[filterIP4] = newFilter(n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.u32()
		s.ip4[k] = d.index(nr, false)
		s.filters[filterIP4].add(ip4Hash(k))
	}
}

func (d *cdec) ip6(s *Snapshot, nr int) {
	n := d.count(20)
	s.ip6 = make(map[[16]byte]int32, n)
	s.filters[filterIP6] = newFilter(n)
	for i := 0; i < n && d.err == nil; i++ {
		var k [16]byte
		copy(k[:], d.raw(16))
		s.ip6[k] = d.index(nr, false)
		s.filters[filterIP6].add(ip6Hash(k))
	}
}

func (d *cdec) urlHosts(s *Snapshot) {
	n := d.count(1)
	s.urlHosts = make(map[string]struct{}, n)
	s.filters[clsURLHost] = newFilter(n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.str()
		s.urlHosts[k] = struct{}{}
		s.filters[clsURLHost].add(strHash(s.seed, clsURLHost, k))
	}
}

func (d *cdec) domains(s *Snapshot, nr int) {
	n := d.count(12)
	used := int(d.u32())
	if d.err == nil && (n&(n-1) != 0 || used > n) {
		d.fail(fmt.Sprintf("domain table of %d slots holding %d", n, used))
		return
	}
	s.domains = suffixSet{slots: make([]dslot, n), n: used}
	if n > 0 {
		s.domains.mask = uint64(n - 1)
	}
	free := n
	for i := 0; i < n && d.err == nil; i++ {
		h := d.u64()
		s.domains.slots[i] = dslot{h: h, head: d.index(nr, false)}
		if h != 0 {
			free--
		}
	}
	if d.err == nil && (n > 0 && free == 0 || n-free != used) {
		d.fail("domain table has no free slot or a wrong count") // a probe would never end
	}
	s.filters[filterDomain] = newFilter(used)
	for _, sl := range s.domains.slots {
		if sl.h != 0 {
			s.filters[filterDomain].add(domainFilterHash(sl.h))
		}
	}
	s.maxLabels = int(d.u32())
	s.oneLabel = d.byte() == 1
}

func (d *cdec) stringTable(s *Snapshot, cls, nr int) map[string]int32 {
	n := d.count(5)
	m := make(map[string]int32, n)
	if cls != clsURLHost {
		s.filters[cls] = newFilter(n)
	}
	for i := 0; i < n && d.err == nil; i++ {
		k := d.str()
		m[k] = d.index(nr, false)
		if cls != clsURLHost {
			s.filters[cls].add(strHash(s.seed, cls, k))
		}
	}
	return m
}

func (d *cdec) refStrings(limit int) map[int32]string {
	n := d.count(5)
	m := make(map[int32]string, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.index(limit, false)
		m[k] = d.str()
	}
	return m
}

// prefixes recovers the CIDR chain heads from the refs (the last ref of a
// prefix is its head), once every section is read.
func (d *cdec) prefixes(s *Snapshot) map[netip.Prefix]int32 {
	if d.err != nil {
		return nil
	}
	cidr := vtypeOf(intel.CIDR)
	var ps map[netip.Prefix]int32
	for i := range s.refs {
		r := &s.refs[i]
		if r.typ != cidr {
			continue
		}
		p, err := netip.ParsePrefix(r.value)
		if err != nil {
			d.fail(fmt.Sprintf("ref %d: %v", i, err))
			return nil
		}
		if ps == nil {
			ps = map[netip.Prefix]int32{}
		}
		ps[p] = int32(i)
	}
	return ps
}
