package match

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"hash/maphash"
	"unsafe"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// LoadCache rebuilds a Snapshot from a cache file's bytes written by
// WriteCache with the same key. opt must carry the warninglists and the
// pattern compiler the snapshot was built with: the lists are compiled
// again (their digests must equal the stored ones), and so are the STIX
// patterns. Anything wrong — magic, format, key, length, checksum, an
// index out of range — is a *CacheError, and nothing is returned: a cache
// is rebuilt, never trusted.
//
// The snapshot's strings point into data, which the caller must not
// change afterwards.
func LoadCache(data []byte, key [CacheKeyLen]byte, opt Options) (*Snapshot, error) {
	got, err := CacheKey(data)
	if err != nil {
		return nil, err
	}
	if got != key {
		return nil, &CacheError{16, "the key differs: the cache is of other inputs"}
	}
	n := binary.LittleEndian.Uint64(data[48:])
	if n != uint64(len(data)-headerLen) {
		return nil, &CacheError{48, fmt.Sprintf("payload length %d, file holds %d", n, len(data)-headerLen)}
	}
	payload := data[headerLen:]
	if crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(data[56:]) {
		return nil, &CacheError{56, "checksum mismatch"}
	}
	if opt.Suppress != nil {
		return nil, ErrNotCacheable
	}
	return decodePayload(payload, opt)
}

// decodePayload reads the sections appendPayload writes and checks every
// index against the tables it points into, so that a payload that passes
// the checksum but is wrong (another writer's bug) never makes Match panic
// or loop.
func decodePayload(payload []byte, opt Options) (*Snapshot, error) {
	b := NewBuilder(opt)
	if b.err != nil {
		return nil, b.err
	}
	s := b.s
	d := &cdec{s: unsafe.String(unsafe.SliceData(payload), len(payload))}
	s.version = d.str()
	if withPattern := d.byte() == 1; d.err == nil && withPattern != s.withPattern {
		return nil, &CacheError{headerLen + int64(d.off), "built with other pattern options"}
	}
	d.stats(&s.stats)
	nl := d.count(32)
	if d.err == nil && nl != len(s.listDigests) {
		return nil, d.fail("the warninglists differ from the cached ones")
	}
	for i := 0; i < nl && d.err == nil; i++ {
		if !bytes.Equal([]byte(d.raw(32)), s.listDigests[i][:]) {
			return nil, d.fail("the warninglists differ from the cached ones")
		}
	}
	s.seed = maphash.MakeSeed()
	if err := d.sections(s); err != nil {
		return nil, err
	}
	prefixes := d.prefixes(s)
	if d.err != nil {
		return nil, d.err
	}
	s.buildCIDR(prefixes)
	for k := range s.ip4 {
		if s.ip4x16 == nil {
			s.ip4x16 = make([]uint64, 1<<16/64)
		}
		s.ip4x16[k>>22] |= 1 << (k >> 16 & 63)
	}
	if err := s.compileCachedPatterns(opt); err != nil {
		return nil, err
	}
	return s, nil
}

// compileCachedPatterns compiles the stored STIX patterns again; every one
// compiled when the cache was written, so a rejection now means the cache
// is not of this program.
func (s *Snapshot) compileCachedPatterns(opt Options) error {
	if len(s.patternSrc) == 0 {
		s.patternSrc = map[int32]string{}
		return nil
	}
	if opt.Patterns == nil {
		return &CacheError{0, "the cache holds STIX patterns and no pattern compiler is given"}
	}
	idx := sortedKeys(s.patternSrc)
	objs := make([]*intel.Object, len(idx))
	s.patternBy = make(map[string]int32, len(idx))
	for k, i := range idx {
		id := s.inds[i].id
		objs[k] = &intel.Object{ID: id, Type: intel.TypeIndicator,
			Indicator: &intel.IndicatorSpec{Pattern: s.patternSrc[i], PatternType: "stix"}}
		s.patternBy[id] = i
	}
	set, rejected, err := opt.Patterns.CompilePatterns(objs)
	if err != nil {
		return fmt.Errorf("match: compiling cached patterns: %w", err)
	}
	if len(rejected) > 0 {
		return &CacheError{0, fmt.Sprintf("%d cached patterns no longer compile", len(rejected))}
	}
	s.patterns = set
	return nil
}

// cdec reads the payload; the first error sticks and every read after it
// returns zero values.
type cdec struct {
	s   string
	off int
	err error
}

func (d *cdec) fail(msg string) error {
	if d.err == nil {
		d.err = &CacheError{headerLen + int64(d.off), msg}
	}
	return d.err
}

func (d *cdec) raw(n int) string {
	if d.err != nil {
		return ""
	}
	if n < 0 || n > len(d.s)-d.off {
		d.fail("truncated")
		return ""
	}
	v := d.s[d.off : d.off+n]
	d.off += n
	return v
}

func (d *cdec) byte() byte {
	if v := d.raw(1); v != "" {
		return v[0]
	}
	return 0
}

func (d *cdec) u32() uint32 {
	if v := d.raw(4); v != "" {
		return uint32(v[0]) | uint32(v[1])<<8 | uint32(v[2])<<16 | uint32(v[3])<<24
	}
	return 0
}

func (d *cdec) i32() int32 { return int32(d.u32()) }

func (d *cdec) u64() uint64 {
	lo := uint64(d.u32())
	return lo | uint64(d.u32())<<32
}

func (d *cdec) str() string {
	if d.err != nil {
		return ""
	}
	n, w := binary.Uvarint([]byte(d.s[d.off:min(len(d.s), d.off+binary.MaxVarintLen64)]))
	if w <= 0 || n > uint64(len(d.s)-d.off-w) {
		d.fail("bad string length")
		return ""
	}
	d.off += w
	return d.raw(int(n))
}

// section is a decoder of the framed section at the decoder's position
// (offsets stay the payload's, for messages), which it steps over.
func (d *cdec) section() *cdec {
	n := d.u64()
	if d.err == nil && n > uint64(len(d.s)-d.off) {
		d.fail(fmt.Sprintf("section of %d bytes, %d left", n, len(d.s)-d.off))
	}
	if d.err != nil {
		return &cdec{err: d.err}
	}
	sub := &cdec{s: d.s[:d.off+int(n)], off: d.off}
	d.off += int(n)
	return sub
}

// peekCount is the count a section starts with, without reading it.
func (d *cdec) peekCount() int {
	if d.err != nil || len(d.s)-d.off < 4 {
		return 0
	}
	return int(binary.LittleEndian.Uint32([]byte(d.s[d.off : d.off+4])))
}

// count reads a count of records of at least minLen bytes each and checks
// that the payload can hold them before anything is allocated.
func (d *cdec) count(minLen int) int {
	n := d.u32()
	if d.err == nil && uint64(n)*uint64(minLen) > uint64(len(d.s)-d.off) {
		d.fail(fmt.Sprintf("count %d does not fit in what is left", n))
		return 0
	}
	return int(n)
}

// index reads a ref or indicator index below n (or -1 when orNone).
func (d *cdec) index(n int, orNone bool) int32 {
	v := d.i32()
	if d.err == nil && (v >= int32(n) || v < 0 && !(orNone && v == -1)) || n > 1<<31-1 {
		d.fail(fmt.Sprintf("index %d out of range", v))
		return 0
	}
	return v
}
