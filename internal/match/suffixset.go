package match

// suffixSet is an open-addressing hash set of lower-case domain names that
// answers "which suffixes of this name, cut at dots, are in the set" with one
// right-to-left pass over the name: the hash of every suffix is a prefix of
// the same running hash, so a name of k labels costs k probes and no
// allocation. Each slot keeps the full 64-bit hash and the head of the ref
// chain; the key string itself is the value of that head ref.
type suffixSet struct {
	slots []dslot
	mask  uint64
	n     int
}

type dslot struct {
	h    uint64 // 0 = empty
	head int32
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// lowerASCII maps A–Z to a–z and leaves every other byte alone.
func lowerASCII(c byte) byte {
	if c-'A' < 26 {
		return c + 'a' - 'A'
	}
	return c
}

// finish turns a running hash into a slot hash (never 0).
func finish(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h | 1<<63
}

// hashName hashes the whole name as lookups hash its suffixes.
func hashName(s string) uint64 {
	h := uint64(fnvOffset)
	for i := len(s) - 1; i >= 0; i-- {
		h = (h ^ uint64(lowerASCII(s[i]))) * fnvPrime
	}
	return finish(h)
}

// find returns the slot index holding h with key equal to s, or -1.
func (t *suffixSet) find(h uint64, s string, refs []ref) int {
	if len(t.slots) == 0 {
		return -1
	}
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		sl := &t.slots[i]
		if sl.h == 0 {
			return -1
		}
		if sl.h == h && equalFoldASCII(s, refs[sl.head].value) {
			return int(i)
		}
	}
}

// insert sets the chain head for key s (lower-case); it returns the previous
// head or -1 when s is new.
func (t *suffixSet) insert(s string, head int32, refs []ref) int32 {
	if (t.n+1)*2 > len(t.slots) {
		t.grow()
	}
	h := hashName(s)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		sl := &t.slots[i]
		if sl.h == 0 {
			*sl = dslot{h: h, head: head}
			t.n++
			return -1
		}
		if sl.h == h && refs[sl.head].value == s {
			prev := sl.head
			sl.head = head
			return prev
		}
	}
}

func (t *suffixSet) grow() {
	size := 2 * len(t.slots)
	if size < 64 {
		size = 64
	}
	old := t.slots
	t.slots = make([]dslot, size)
	t.mask = uint64(size - 1)
	for _, sl := range old {
		if sl.h == 0 {
			continue
		}
		i := sl.h & t.mask
		for t.slots[i].h != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = sl
	}
}

// equalFoldASCII compares a (any case) with b (lower case).
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != b[i] {
			return false
		}
	}
	return true
}
