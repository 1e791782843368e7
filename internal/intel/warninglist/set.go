package warninglist

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"

	"github.com/gaissmai/bart"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// MaxLists bounds how many lists one Set holds (MISP ships about 140).
const MaxLists = 1024

// bitset marks list indexes; it lives on the stack of Check.
type bitset [MaxLists / 64]uint64

func (b *bitset) set(i uint16)      { b[i>>6] |= 1 << (i & 63) }
func (b *bitset) has(i uint16) bool { return b[i>>6]&(1<<(i&63)) != 0 }

// List describes one list of a Set.
type List struct {
	Name      string
	MatchType string
	Category  string
	Entries   int
}

type listInfo struct {
	List
	types typeMask
}

type regexEntry struct {
	re   *regexp.Regexp
	list uint16
}

// Set is a compiled, immutable collection of warninglists. It is safe for
// concurrent use. Check costs a few map look-ups, one longest-prefix match
// and one pass of an Aho–Corasick automaton over the value, and allocates
// nothing when the value is on no list.
type Set struct {
	lists []listInfo

	exact map[string][]uint16 // string lists
	// string-list entries with a leading dot (".google.com") match every
	// subdomain, as MISP reads them; keyed without the dot
	suffix map[string][]uint16
	hosts  map[string][]uint16 // hostname lists: the value or any parent domain
	cidr   *bart.Table[uint32] // cidr lists: index into cidrIDs
	// cidrIDs[i] lists every list that covers the prefix stored with i,
	// including the lists of all its supernets, so one longest-prefix match
	// answers for every enclosing range.
	cidrIDs [][]uint16
	subs    *substrings
	regexes []regexEntry

	// which value types each structure has a list for, to skip the rest
	exactTypes, hostTypes, cidrTypes, subTypes, regexTypes typeMask
}

// SkipError is one list entry that could not be compiled into a Set.
type SkipError struct {
	List  string
	Entry string
	Err   error
}

func (e *SkipError) Error() string {
	return fmt.Sprintf("warninglist %s: entry %q skipped: %v", e.List, e.Entry, e.Err)
}

func (e *SkipError) Unwrap() error { return e.Err }

// NewSet compiles lists into a Set. Entries that cannot be compiled (a
// regex RE2 does not support, a malformed prefix) are left out and
// returned, never silently dropped. It fails only when there are more than
// MaxLists lists.
func NewSet(lists []*intel.Warninglist) (*Set, []*SkipError, error) {
	if len(lists) > MaxLists {
		return nil, nil, fmt.Errorf("warninglist: %d lists, at most %d fit in one set", len(lists), MaxLists)
	}
	size := map[string]int{}
	for _, w := range lists {
		size[w.MatchType] += len(w.Entries)
	}
	s := &Set{
		exact:  make(map[string][]uint16, size[TypeString]),
		suffix: map[string][]uint16{},
		hosts:  make(map[string][]uint16, size[TypeHostname]),
		cidr:   new(bart.Table[uint32]),
	}
	var skipped []*SkipError
	var subPatterns []string
	var subIDs []uint16
	cidrSets := make(map[netip.Prefix][]uint16, size[TypeCIDR])
	for i, w := range lists {
		id := uint16(i)
		m := maskFor(w)
		s.lists = append(s.lists, listInfo{List: List{Name: w.Name, MatchType: w.MatchType, Category: w.Category, Entries: len(w.Entries)}, types: m})
		for _, raw := range w.Entries {
			e, err := compiledEntry(w.MatchType, raw)
			if err != nil {
				skipped = append(skipped, &SkipError{List: w.Name, Entry: raw, Err: err})
				continue
			}
			switch w.MatchType {
			case TypeString:
				if len(e) > 1 && e[0] == '.' {
					s.suffix[e[1:]] = appendID(s.suffix[e[1:]], id)
				} else {
					s.exact[e] = appendID(s.exact[e], id)
				}
				s.exactTypes |= m
			case TypeHostname:
				s.hosts[e] = appendID(s.hosts[e], id)
				s.hostTypes |= m
			case TypeCIDR:
				p, err := netip.ParsePrefix(e)
				if err != nil {
					skipped = append(skipped, &SkipError{List: w.Name, Entry: raw, Err: err})
					continue
				}
				p = p.Masked()
				cidrSets[p] = appendID(cidrSets[p], id)
				s.cidrTypes |= m
			case TypeSubstring:
				subPatterns = append(subPatterns, e)
				subIDs = append(subIDs, id)
				s.subTypes |= m
			case TypeRegex:
				re, err := compileRegex(e)
				if err != nil {
					skipped = append(skipped, &SkipError{List: w.Name, Entry: raw, Err: err})
					continue
				}
				s.regexes = append(s.regexes, regexEntry{re: re, list: id})
				s.regexTypes |= m
			default:
				skipped = append(skipped, &SkipError{List: w.Name, Entry: raw, Err: fmt.Errorf("unknown match type %q", w.MatchType)})
			}
		}
	}
	s.buildCIDR(cidrSets)
	if len(subPatterns) > 0 {
		s.subs = newSubstrings(subPatterns, subIDs)
	}
	return s, skipped, nil
}

// buildCIDR stores every prefix with the union of its own lists and those of
// all its supernets: the prefixes that contain an address are nested, so the
// longest match knows every list that covers the address. Prefixes are
// added shortest first, so a prefix's nearest supernet is already stored
// with its own union.
func (s *Set) buildCIDR(sets map[netip.Prefix][]uint16) {
	prefixes := make([]netip.Prefix, 0, len(sets))
	for p := range sets {
		prefixes = append(prefixes, p)
	}
	sort.Slice(prefixes, func(i, j int) bool {
		if prefixes[i].Bits() != prefixes[j].Bits() {
			return prefixes[i].Bits() < prefixes[j].Bits()
		}
		return prefixes[i].Addr().Less(prefixes[j].Addr())
	})
	intern := map[string]uint32{}
	var key []byte
	for _, p := range prefixes {
		union := sets[p]
		if p.Bits() > 0 {
			parent := netip.PrefixFrom(p.Addr(), p.Bits()-1).Masked()
			if _, idx, ok := s.cidr.LookupPrefixLPM(parent); ok {
				union = append([]uint16(nil), s.cidrIDs[idx]...)
				for _, id := range sets[p] {
					union = appendID(union, id)
				}
			}
		}
		key = key[:0]
		for _, id := range union {
			key = append(key, byte(id>>8), byte(id))
		}
		idx, ok := intern[string(key)]
		if !ok {
			idx = uint32(len(s.cidrIDs))
			s.cidrIDs = append(s.cidrIDs, union)
			intern[string(key)] = idx
		}
		s.cidr.Insert(p, idx)
	}
}

// compiledEntry is NormalizeEntry with a fast path for entries that are
// already in normal form (as the Importer stores them); regexes are
// compiled later anyway.
func compiledEntry(matchType, e string) (string, error) {
	switch matchType {
	case TypeCIDR:
		if p, err := netip.ParsePrefix(e); err == nil && p == p.Masked() {
			return e, nil
		}
	case TypeRegex:
		if strings.TrimSpace(e) != "" {
			return e, nil
		}
	case TypeHostname:
		if e != "" && !strings.ContainsAny(e, " \t/*ABCDEFGHIJKLMNOPQRSTUVWXYZ") && e[0] != '.' && e[len(e)-1] != '.' {
			return e, nil
		}
	default:
		if e != "" && strings.TrimSpace(e) == e && !hasUpper(e) {
			return e, nil
		}
	}
	return NormalizeEntry(matchType, e)
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// Lists describes the lists of the Set in the order Check reports them.
func (s *Set) Lists() []List {
	out := make([]List, len(s.lists))
	for i, l := range s.lists {
		out[i] = l.List
	}
	return out
}

// Check returns the names of the lists that value, read as type t, is on.
// t = intel.UnknownType tests the value against every list. Values are
// compared as the lists store them: case-insensitively for string,
// substring and hostname lists, a host name or any of its parent domains
// for hostname lists, containment for cidr lists. A URL is also tested by
// its host. Check allocates only to return names.
func (s *Set) Check(t intel.ValueType, value string) []string {
	var hits bitset
	if !s.mark(t, value, &hits) {
		return nil
	}
	return s.names(t, &hits, nil)
}

// AppendCheck is Check appending to dst, for callers that reuse a buffer.
func (s *Set) AppendCheck(dst []string, t intel.ValueType, value string) []string {
	var hits bitset
	if !s.mark(t, value, &hits) {
		return dst
	}
	return s.names(t, &hits, dst)
}

// Hit reports whether value, read as type t, is on any list.
func (s *Set) Hit(t intel.ValueType, value string) bool {
	var hits bitset
	if !s.mark(t, value, &hits) {
		return false
	}
	for i, l := range s.lists {
		if hits.has(uint16(i)) && l.types.has(t) {
			return true
		}
	}
	return false
}

// CheckValue guesses the type of a bare value (intel.Detect), normalises it
// and checks it: what `whodunit intel check VALUE` needs.
func (s *Set) CheckValue(value string) (intel.ValueType, []string) {
	t := intel.Detect(value)
	v := strings.TrimSpace(value)
	if t != intel.UnknownType {
		if n, err := intel.Normalize(t, v); err == nil {
			v = n
		}
	}
	return t, s.Check(t, v)
}

func (s *Set) names(t intel.ValueType, hits *bitset, dst []string) []string {
	for i, l := range s.lists {
		if hits.has(uint16(i)) && l.types.has(t) {
			dst = append(dst, l.Name)
		}
	}
	return dst
}

// mark sets in hits every list whose entries match; it reports whether any did.
func (s *Set) mark(t intel.ValueType, value string, hits *bitset) bool {
	v := strings.TrimSpace(value)
	if v == "" || s == nil {
		return false
	}
	any := false
	add := func(ids []uint16) {
		for _, id := range ids {
			hits.set(id)
			any = true
		}
	}
	var buf [256]byte
	lv := lowerInto(buf[:0], v)
	if s.exactTypes.has(t) {
		if ids, ok := s.exact[string(lv)]; ok {
			add(ids)
		}
		if len(s.suffix) > 0 && s.markSuffix(lv, hits) {
			any = true
		}
	}
	if s.cidrTypes.has(t) && (t == intel.IPv4 || t == intel.IPv6 || t == intel.CIDR || t == intel.UnknownType) {
		if a, err := netip.ParseAddr(v); err == nil {
			if idx, ok := s.cidr.Lookup(a.Unmap()); ok {
				add(s.cidrIDs[idx])
			}
		} else if p, err := netip.ParsePrefix(v); err == nil {
			if _, idx, ok := s.cidr.LookupPrefixLPM(p.Masked()); ok {
				add(s.cidrIDs[idx])
			}
		}
	}
	if s.hostTypes.has(t) {
		if s.markHosts(lv, hits) {
			any = true
		}
		if t == intel.URL || t == intel.UnknownType {
			if h := urlHost(lv); len(h) > 0 && s.markHosts(h, hits) {
				any = true
			}
		}
	}
	if s.exactTypes.has(t) && (t == intel.URL || t == intel.UnknownType) {
		if h := urlHost(lv); len(h) > 0 && len(h) < len(lv) {
			if ids, ok := s.exact[string(h)]; ok {
				add(ids)
			}
			if len(s.suffix) > 0 && s.markSuffix(h, hits) {
				any = true
			}
		}
	}
	if s.subs != nil && s.subTypes.has(t) {
		before := *hits
		s.subs.scan(v, hits)
		if before != *hits {
			any = true
		}
	}
	if s.regexTypes.has(t) {
		for _, r := range s.regexes {
			if hits.has(r.list) || !s.lists[r.list].types.has(t) {
				continue
			}
			if r.re.MatchString(v) {
				hits.set(r.list)
				any = true
			}
		}
	}
	return any
}

// markHosts marks the lists that hold host or any of its parent domains.
func (s *Set) markHosts(host []byte, hits *bitset) bool {
	found := false
	for h := host; len(h) > 0; {
		if ids, ok := s.hosts[string(h)]; ok {
			for _, id := range ids {
				hits.set(id)
			}
			found = true
		}
		i := indexByte(h, '.')
		if i < 0 {
			break
		}
		h = h[i+1:]
	}
	return found
}

// markSuffix marks the string lists that hold ".parent" for a proper
// parent domain of host.
func (s *Set) markSuffix(host []byte, hits *bitset) bool {
	found := false
	for h := host; ; {
		i := indexByte(h, '.')
		if i < 0 {
			return found
		}
		h = h[i+1:]
		if ids, ok := s.suffix[string(h)]; ok {
			for _, id := range ids {
				hits.set(id)
			}
			found = true
		}
	}
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// lowerInto appends the ASCII lower case of s to dst (a stack buffer when s
// is short enough, so that nothing escapes).
func lowerInto(dst []byte, s string) []byte {
	trimDot := len(s) > 1 && s[len(s)-1] == '.'
	if trimDot {
		s = s[:len(s)-1]
	}
	for i := 0; i < len(s); i++ {
		dst = append(dst, lowerASCII(s[i]))
	}
	return dst
}

// urlHost returns the host of a URL (without scheme, user, port, path).
func urlHost(u []byte) []byte {
	if i := indexSubstr(u, "://"); i >= 0 {
		u = u[i+3:]
	} else {
		return nil
	}
	for i, c := range u {
		if c == '/' || c == '?' || c == '#' {
			u = u[:i]
			break
		}
	}
	if i := lastIndexByte(u, '@'); i >= 0 {
		u = u[i+1:]
	}
	if len(u) > 0 && u[0] == '[' {
		if j := indexByte(u, ']'); j > 0 {
			return u[1:j]
		}
	}
	if i := lastIndexByte(u, ':'); i >= 0 && indexByte(u, ':') == i {
		u = u[:i]
	}
	return u
}

func lastIndexByte(b []byte, c byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == c {
			return i
		}
	}
	return -1
}

func indexSubstr(b []byte, sub string) int {
	for i := 0; i+len(sub) <= len(b); i++ {
		if string(b[i:i+len(sub)]) == sub {
			return i
		}
	}
	return -1
}
