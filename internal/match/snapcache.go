package match

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"slices"
)

// The snapshot cache format: a compiled Snapshot written to a file so that
// a process whose intelligence is unchanged loads it instead of compiling.
// All integers are little-endian.
//
//	header (64 bytes):
//	  magic    [8]  "WDMSNAP\x00"
//	  format   u32  cacheFormat
//	  reserved u32  0
//	  key      [32] the caller's key (e.g. a hash of the store's sources)
//	  length   u64  payload bytes
//	  crc      u32  CRC-32C of the payload
//	  reserved u32  0
//	payload: the sections written by appendPayload, in order; strings are a
//	uvarint length and the bytes, counts are u32. From the indicators on,
//	every section is preceded by its length (u64), and the loader decodes
//	them in parallel.
//
// The Bloom filters and hash maps are rebuilt at load (their seed is per
// process); the domain suffix table, whose hash is fixed, is stored as it
// is. STIX patterns are stored as text and compiled again at load.
const (
	cacheMagic  = "WDMSNAP\x00"
	cacheFormat = 2
	headerLen   = 64
	// CacheKeyLen is the length of the key a cache file carries.
	CacheKeyLen = 32
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrNotCacheable is returned by WriteCache for a snapshot built with an
// opaque Options.Suppress: its answers depend on lists it cannot name.
var ErrNotCacheable = errors.New("match: a snapshot built with an opaque Suppressor cannot be cached")

// CacheError is a cache file that cannot be trusted: wrong magic or
// format, a bad checksum, a length or index out of range. Off is the
// byte offset in the file where the problem was found.
type CacheError struct {
	Off int64
	Msg string
}

func (e *CacheError) Error() string {
	return fmt.Sprintf("match: snapshot cache at byte %d: %s", e.Off, e.Msg)
}

// WriteCache writes s, tagged with key, in the snapshot cache format.
func (s *Snapshot) WriteCache(w io.Writer, key [CacheKeyLen]byte) error {
	if s.opaque {
		return ErrNotCacheable
	}
	payload := s.appendPayload(make([]byte, 0, 64*len(s.refs)+1024))
	h := make([]byte, 0, headerLen)
	h = append(h, cacheMagic...)
	h = binary.LittleEndian.AppendUint32(h, cacheFormat)
	h = binary.LittleEndian.AppendUint32(h, 0)
	h = append(h, key[:]...)
	h = binary.LittleEndian.AppendUint64(h, uint64(len(payload)))
	h = binary.LittleEndian.AppendUint32(h, crc32.Checksum(payload, crcTable))
	h = binary.LittleEndian.AppendUint32(h, 0)
	if _, err := w.Write(h); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

// CacheKey returns the key a cache file's header carries, after checking
// the magic and the format (not the checksum: that is LoadCache's).
func CacheKey(head []byte) ([CacheKeyLen]byte, error) {
	var k [CacheKeyLen]byte
	if len(head) < headerLen {
		return k, &CacheError{int64(len(head)), "truncated header"}
	}
	if string(head[:8]) != cacheMagic {
		return k, &CacheError{0, "not a snapshot cache (bad magic)"}
	}
	if f := binary.LittleEndian.Uint32(head[8:]); f != cacheFormat {
		return k, &CacheError{8, fmt.Sprintf("format %d, want %d", f, cacheFormat)}
	}
	if binary.LittleEndian.Uint32(head[12:]) != 0 || binary.LittleEndian.Uint32(head[60:]) != 0 {
		return k, &CacheError{12, "reserved header bytes are not zero"}
	}
	copy(k[:], head[16:48])
	return k, nil
}

func putStr(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func putU32(b []byte, v int) []byte { return binary.LittleEndian.AppendUint32(b, uint32(v)) }

func putI64(b []byte, v int64) []byte { return binary.LittleEndian.AppendUint64(b, uint64(v)) }

// sortedKeys gives map keys in order, so the same snapshot always writes
// the same bytes.
func sortedKeys[K interface{ ~int32 | ~string }, V any](m map[K]V) []K {
	return slices.Sorted(maps.Keys(m))
}

func (s *Snapshot) appendPayload(b []byte) []byte {
	b = putStr(b, s.version)
	b = append(b, boolByte(s.withPattern))
	b = s.appendStats(b)
	b = putU32(b, len(s.listDigests))
	for _, d := range s.listDigests {
		b = append(b, d[:]...)
	}
	b = framed(b, func(b []byte) []byte {
		b = putU32(b, len(s.inds))
		for _, in := range s.inds {
			b = putStr(b, in.id)
			b = putI64(putI64(b, in.from), in.until)
			b = append(b, boolByte(in.dead))
		}
		return b
	})
	b = framed(b, func(b []byte) []byte {
		b = putU32(b, len(s.refs))
		for _, r := range s.refs {
			b = putU32(putU32(b, int(r.ind)), int(r.next))
			b = binary.LittleEndian.AppendUint16(b, r.port)
			b = append(b, byte(r.typ), r.flags)
			b = putStr(b, r.value)
		}
		return b
	})
	return s.appendTables(b)
}

// framed appends what fill appends after its length (u64), so that a
// loader can hand each section to a goroutine of its own.
func framed(b []byte, fill func([]byte) []byte) []byte {
	at := len(b)
	b = fill(append(b, make([]byte, 8)...))
	binary.LittleEndian.PutUint64(b[at:], uint64(len(b)-at-8))
	return b
}

func (s *Snapshot) appendStats(b []byte) []byte {
	st := s.stats
	b = putU32(putU32(putU32(b, st.Indicators), st.Patterns), st.Suppressed)
	obs := slices.Sorted(maps.Keys(st.Observables))
	b = putU32(b, len(obs))
	for _, t := range obs {
		b = putU32(putStr(b, string(t)), st.Observables[t])
	}
	b = putU32(b, len(st.Skipped))
	for _, k := range sortedKeys(st.Skipped) {
		b = putU32(putStr(b, k), st.Skipped[k])
	}
	b = putU32(b, len(st.Rejected))
	for _, r := range st.Rejected {
		b = putStr(b, r)
	}
	return b
}

func (s *Snapshot) appendTables(b []byte) []byte {
	b = framed(b, func(b []byte) []byte {
		ip4 := slices.Sorted(maps.Keys(s.ip4))
		b = putU32(b, len(ip4))
		for _, k := range ip4 {
			b = putU32(putU32(b, int(k)), int(s.ip4[k]))
		}
		return b
	})
	b = framed(b, func(b []byte) []byte {
		b = putU32(b, len(s.ip6))
		for _, k := range slices.SortedFunc(maps.Keys(s.ip6), func(x, y [16]byte) int { return slices.Compare(x[:], y[:]) }) {
			b = putU32(append(b, k[:]...), int(s.ip6[k]))
		}
		return b
	})
	b = framed(b, func(b []byte) []byte {
		b = putU32(putU32(b, len(s.domains.slots)), s.domains.n)
		for _, sl := range s.domains.slots {
			b = putU32(binary.LittleEndian.AppendUint64(b, sl.h), int(sl.head))
		}
		return append(putU32(b, s.maxLabels), boolByte(s.oneLabel))
	})
	for _, m := range s.strs {
		b = framed(b, func(b []byte) []byte {
			b = putU32(b, len(m))
			for _, k := range sortedKeys(m) {
				b = putU32(putStr(b, k), int(m[k]))
			}
			return b
		})
	}
	b = framed(b, func(b []byte) []byte {
		b = putU32(b, len(s.urlHosts))
		for _, k := range slices.Sorted(maps.Keys(s.urlHosts)) {
			b = putStr(b, k)
		}
		return b
	})
	for _, m := range []map[int32]string{s.issuers, s.lists, s.patternText, s.patternSrc} {
		b = framed(b, func(b []byte) []byte {
			b = putU32(b, len(m))
			for _, k := range sortedKeys(m) {
				b = putStr(putU32(b, int(k)), m[k])
			}
			return b
		})
	}
	return b
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}
