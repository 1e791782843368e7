// Package match compiles indicators into an immutable, self-contained matcher
// snapshot and matches telemetry events against it, yielding Sightings that
// name the exact event field that matched.
//
// A Snapshot holds exact IPs in hash maps, CIDRs in a prefix table, domains in
// a suffix hash set (evil.com matches a.b.evil.com, not notevil.com), and
// hashes, fingerprints, URLs, e-mail addresses, JA3/JA3S and user agents in
// hash maps. It is safe for concurrent use; Match does not allocate unless an
// indicator matches. Indicators that need the STIX pattern evaluator run in a
// per-worker Matcher (see NewMatcher).
package match

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gaissmai/bart"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/warninglist"
)

// value classes kept in exact-match string maps.
const (
	clsHash     = iota // md5, sha1, sha256, sha512, x509 fingerprints (lower-case hex)
	clsJA3             // JA3 client fingerprints
	clsJA3S            // JA3S server fingerprints
	clsURL             // URL keys (see urlKey)
	clsEmail           // e-mail addresses
	clsUA              // user agents, as given
	clsSerial          // x509 serials, with optional issuer on the ref
	clsFileName        // file names, lower-case
	clsSubject         // e-mail subjects, as given
	clsURIPath         // URL paths without host
	clsURLHost         // hosts of URL indicators (filter only; the set is urlHosts)
	numClasses
)

// Snapshot is a compiled, immutable set of indicators. Build one with
// Compile or a Builder; share it between goroutines freely.
type Snapshot struct {
	version string
	inds    []indicator
	refs    []ref

	ip4        map[uint32]int32
	ip6        map[[16]byte]int32
	cidr       *bart.Table[int32] // value: index into cidrGroups
	cidrGroups [][]int32          // refs of a prefix and all its supernets
	ip4x16     []uint64           // bitmap of IPv4 /16s holding an exact indicator (8 KiB)
	cidr4      []uint64           // bitmap of IPv4 /20 blocks some CIDR overlaps
	cidr6      bool               // some CIDR is IPv6
	domains    suffixSet
	maxLabels  int  // most labels of any indicator domain; longer suffixes are not looked up
	oneLabel   bool // some indicator domain is a single label ("com")
	strs       [numClasses]map[string]int32
	urlHosts   map[string]struct{} // hosts (with non-default port) that URL indicators name

	// filters answer "certainly not in this table", one per table so that
	// the filter an event touches is as small (and as cached) as its table;
	// seed keys the string hashes.
	filters [numFilters]filter
	seed    maphash.Seed

	issuers map[int32]string // ref → normalised issuer of an x509 serial
	lists   map[int32]string // ref → first warninglist its value is on

	patterns    PatternSet
	patternBy   map[string]int32 // indicator id → index into inds
	patternText map[int32]string // indicator index → pattern
	patternSrc  map[int32]string // indicator index → whole pattern, for the snapshot cache
	suppress    Suppressor
	wlSet       *warninglist.Set         // compiled Options.Warninglists (or a Suppress that is one)
	listSkips   []*warninglist.SkipError // entries NewSet could not compile
	listDigests [][32]byte               // content hashes of the compiled lists, canonical order
	opaque      bool                     // built with an opaque Suppressor: never cached
	withPattern bool                     // built with Options.Patterns (part of the version)
	stats       Stats
}

// indicator is one compiled indicator object.
type indicator struct {
	id          string
	from, until int64 // unix nanoseconds; 0 = unbounded
	dead        bool  // replaced by a newer version of the same id
}

// ref is one observable of one indicator; refs with the same key are
// chained. Rare attributes (issuer, warninglist) live in side maps so that
// a ref stays at 32 bytes.
type ref struct {
	ind   int32
	next  int32 // next ref with the same key, -1 at the end
	port  uint16
	typ   vtype
	flags uint8  // hasIssuer, listed
	value string // normalised value: the key of its table
}

const (
	flagIssuer = 1 << iota
	flagListed
)

// vtype is an intel.ValueType as an index into intel.ValueTypes.
type vtype uint8

func vtypeOf(t intel.ValueType) vtype {
	for i, x := range intel.ValueTypes {
		if x == t {
			return vtype(i)
		}
	}
	return 0
}

func (t vtype) ValueType() intel.ValueType { return intel.ValueTypes[t] }

// Stats describes what Compile kept and skipped.
type Stats struct {
	Indicators  int                     // indicator objects that can match
	Observables map[intel.ValueType]int // compiled observables by type
	Patterns    int                     // indicators handed to the pattern evaluator
	Suppressed  int                     // observables whose own value is warninglisted
	// Skipped counts indicators or observables left out, by reason:
	// not-indicator, revoked, context, host-only, older-version,
	// unsupported:<type>, bad-value:<type>, needs-pattern-evaluator,
	// pattern-rejected, no-observable.
	Skipped map[string]int
	// Rejected holds the first few pattern or value errors verbatim.
	Rejected []string
}

const maxRejected = 20

// Version is a content hash (32 hex characters) of everything that decides
// the snapshot's answers: every live indicator (id, validity window,
// observables with port and issuer, the warninglists it names, or its
// pattern), the content of every warninglist in Options.Warninglists
// (name, match type, category, attributes, entries) and the options (whether
// STIX patterns are compiled). It does not depend on the order of any of
// these, nor on the per-process seed of the snapshot's hash tables, so a
// worker that builds from the same Inputs stream gets the same version and
// the same sightings. A snapshot built with the deprecated opaque
// Options.Suppress has a version no other build shares.
func (s *Snapshot) Version() string { return s.version }

// Warninglists is the compiled set of Options.Warninglists (or the
// Options.Suppress given, when it is a *warninglist.Set), for the
// behaviour analytics to ask the same lists the matcher asked; nil when
// there are none.
func (s *Snapshot) Warninglists() *warninglist.Set { return s.wlSet }

// WarninglistSkips lists the warninglist entries that could not be
// compiled (a regex RE2 does not support, a malformed prefix).
func (s *Snapshot) WarninglistSkips() []*warninglist.SkipError { return s.listSkips }

// Stats returns what the snapshot holds and what was skipped.
func (s *Snapshot) Stats() Stats { return s.stats }

// Len is the number of indicators that can match.
func (s *Snapshot) Len() int { return s.stats.Indicators }

// Compile builds a snapshot from indicator objects. Objects that are not
// indicators, revoked, for context only or answerable only from host
// telemetry are skipped and counted. When an id occurs more than once the
// version with the latest Modified wins.
func Compile(indicators []*intel.Object, opt Options) (*Snapshot, error) {
	b := NewBuilder(opt)
	b.Grow(len(indicators))
	for _, o := range indicators {
		b.Add(o)
	}
	return b.Build()
}

// Builder compiles indicators one at a time, so a caller can stream them from
// the store without holding every intel.Object in memory.
type Builder struct {
	opt      Options
	s        *Snapshot
	idHashes []idHash   // one per indicator, sorted at Build to find repeated ids
	digests  [][16]byte // per indicator, for the version hash
	prefixes map[netip.Prefix]int32
	modified []int64         // per indicator: Modified, to keep the newest version of an id
	pending  []*intel.Object // indicators for the pattern evaluator
	pendIdx  []int32         // their indices
	scratch  []byte          // digest input
	// observables counts compiled observables by vtype, for Stats
	observables [256]int
	built       bool
	// listDigests are the content hashes of Options.Warninglists, sorted;
	// nonce stands for an opaque Options.Suppress in the version.
	listDigests [][32]byte
	nonce       []byte
	err         error // from NewBuilder, returned by Build
}

// NewBuilder returns an empty Builder.
func NewBuilder(opt Options) *Builder {
	s := &Snapshot{
		ip4:         map[uint32]int32{},
		ip6:         map[[16]byte]int32{},
		urlHosts:    map[string]struct{}{},
		issuers:     map[int32]string{},
		lists:       map[int32]string{},
		patternText: map[int32]string{},
		seed:        maphash.MakeSeed(),
		suppress:    opt.Suppress,
		stats:       Stats{Observables: map[intel.ValueType]int{}, Skipped: map[string]int{}},
	}
	for i := range s.strs {
		s.strs[i] = map[string]int32{}
	}
	s.withPattern = opt.Patterns != nil
	b := &Builder{opt: opt, s: s, prefixes: map[netip.Prefix]int32{}}
	b.setSuppression()
	return b
}

// setSuppression compiles Options.Warninglists (in a canonical order, so
// that the same lists always give the same set and the same first list of
// a value) or takes an opaque Options.Suppress.
func (b *Builder) setSuppression() {
	if ws, ok := b.opt.Suppress.(*warninglist.Set); ok && ws == nil {
		b.opt.Suppress = nil // a typed nil: no lists
	}
	switch {
	case len(b.opt.Warninglists) > 0 && b.opt.Suppress != nil:
		b.err = fmt.Errorf("match: Options.Suppress and Options.Warninglists are both set")
	case len(b.opt.Warninglists) > 0:
		lists, digests := canonicalLists(b.opt.Warninglists)
		set, skips, err := warninglist.NewSet(lists)
		if err != nil {
			b.err = fmt.Errorf("match: %w", err)
			return
		}
		b.listDigests, b.s.listDigests = digests, digests
		b.opt.Suppress, b.s.suppress, b.s.wlSet, b.s.listSkips = set, set, set, skips
	case b.opt.Suppress != nil:
		b.nonce = randomNonce()
		b.s.opaque = true
		b.s.wlSet, _ = b.opt.Suppress.(*warninglist.Set)
	}
}

// Grow tells the Builder how many more indicators to expect, so that its
// tables are sized once instead of growing step by step.
func (b *Builder) Grow(n int) {
	if b.built || n <= 0 {
		return
	}
	b.idHashes = slices.Grow(b.idHashes, n)
	if len(b.s.ip4) == 0 {
		b.s.ip4 = make(map[uint32]int32, n/3)
	}
	if len(b.s.strs[clsHash]) == 0 {
		b.s.strs[clsHash] = make(map[string]int32, n/5)
	}
	b.s.refs = slices.Grow(b.s.refs, n)
	b.s.inds = slices.Grow(b.s.inds, n)
	b.digests = slices.Grow(b.digests, n)
	b.modified = slices.Grow(b.modified, n)
}

func (b *Builder) skip(reason string) { b.s.stats.Skipped[reason]++ }

func (b *Builder) reject(msg string) {
	if len(b.s.stats.Rejected) < maxRejected {
		b.s.stats.Rejected = append(b.s.stats.Rejected, msg)
	}
}

// Add compiles one object. It keeps no reference to o.
func (b *Builder) Add(o *intel.Object) {
	if b.built {
		panic("match: Builder.Add after Build")
	}
	if o == nil || o.Type != intel.TypeIndicator || o.Indicator == nil {
		b.skip("not-indicator")
		return
	}
	spec := o.Indicator
	switch {
	case o.Revoked:
		b.skip("revoked")
		return
	case spec.Context:
		b.skip("context")
		return
	case spec.HostOnly:
		b.skip("host-only")
		return
	}
	ind := indicator{id: o.ID}
	ind.from, ind.until = unixNano(spec.ValidFrom), unixNano(spec.ValidUntil)
	idx := int32(len(b.s.inds))
	dig := append(b.scratch[:0], o.ID...)
	dig = append(dig, 0)
	dig = strconv.AppendInt(dig, ind.from, 10)
	dig = append(dig, 0)
	dig = strconv.AppendInt(dig, ind.until, 10)
	dig = append(dig, 0)

	added := 0
	if len(spec.Observables) > 0 {
		for _, ob := range spec.Observables {
			if b.addObservable(idx, o.ID, ob, spec.Warninglists) {
				added++
				dig = append(append(dig, ob.Type...), 0)
				dig = append(append(dig, ob.Value...), 0)
				dig = append(strconv.AppendInt(dig, int64(ob.Port), 10), 0)
				dig = append(append(dig, ob.Issuer...), 0)
			}
		}
		if added == 0 {
			return // every observable was skipped and counted
		}
		dig = appendListNames(dig, spec.Warninglists)
	} else if spec.Pattern != "" && (spec.PatternType == "stix" || spec.PatternType == "") {
		if b.opt.Patterns == nil {
			b.skip("needs-pattern-evaluator")
			return
		}
		b.pending = append(b.pending, o)
		b.pendIdx = append(b.pendIdx, idx)
		b.s.patternText[idx] = patternExcerpt(spec.Pattern)
		dig = append(append(dig, "pattern\x00"...), spec.Pattern...)
	} else {
		b.skip("no-observable")
		return
	}
	b.scratch = dig
	sum := sha256.Sum256(dig)
	var d [16]byte
	copy(d[:], sum[:16])
	b.s.inds = append(b.s.inds, ind)
	b.digests = append(b.digests, d)
	b.modified = append(b.modified, unixNano(o.Modified))
	b.idHashes = append(b.idHashes, idHash{maphash.String(b.s.seed, o.ID), idx})
	b.s.stats.Indicators++
}

type idHash struct {
	h   uint64
	idx int32
}

// dedupe keeps the newest version (latest Modified; on a tie the smaller
// digest, so that the order of adding never decides) of every id that was
// added more than once. The refs of the others stay in the tables but are
// dead and never match.
func (b *Builder) dedupe() {
	hs := b.idHashes
	// by hash; a stable sort keeps equal hashes in index order
	radixSort[idHash, byHash](hs)
	inds := b.s.inds
	for i := 0; i < len(hs); {
		j := i + 1
		for j < len(hs) && hs[j].h == hs[i].h {
			j++
		}
		if j-i > 1 {
			run := hs[i:j]
			for k := range run {
				if inds[run[k].idx].dead {
					continue
				}
				best := run[k].idx
				for l := k + 1; l < len(run); l++ {
					o := run[l].idx
					if inds[o].dead || inds[o].id != inds[best].id {
						continue
					}
					loser := o
					if newer(b.modified[o], b.digests[o], b.modified[best], b.digests[best]) {
						best, loser = o, best
					}
					inds[loser].dead = true
					b.s.stats.Indicators--
					b.s.stats.Skipped["older-version"]++
				}
			}
		}
		i = j
	}
	b.idHashes = nil
}

// addObservable compiles one observable of indicator idx; it reports whether
// the observable can match.
func (b *Builder) addObservable(idx int32, id string, ob intel.Observable, lists []string) bool {
	s := b.s
	if ob.Port < 0 || ob.Port > 65535 {
		b.skip("bad-value:" + string(ob.Type))
		b.reject(fmt.Sprintf("%s: port %d out of range", id, ob.Port))
		return false
	}
	r := ref{ind: idx, next: -1, typ: vtypeOf(ob.Type), port: uint16(ob.Port)}
	var err error
	switch ob.Type {
	case intel.IPv4, intel.IPv6, intel.CIDR, intel.Domain, intel.URL, intel.MD5, intel.SHA1, intel.SHA256,
		intel.SHA512, intel.X509SHA1, intel.X509SHA256, intel.X509Serial, intel.JA3, intel.JA3S, intel.Email,
		intel.UserAgent, intel.Software, intel.FileName, intel.EmailSubj, intel.URIPath:
		r.value, err = normalize(ob.Type, ob.Value)
	default:
		b.skip("unsupported:" + string(ob.Type))
		return false
	}
	if err != nil {
		b.skip("bad-value:" + string(ob.Type))
		b.reject(fmt.Sprintf("%s: %v", id, err))
		return false
	}
	if ob.Type == intel.FileName {
		r.value = strings.ToLower(r.value)
	}
	ri := int32(len(s.refs))
	if ob.Type == intel.X509Serial && ob.Issuer != "" {
		s.issuers[ri] = normalizeDN(ob.Issuer)
		r.flags |= flagIssuer
	}
	if list := b.firstList(ob.Type, r.value, lists); list != "" {
		s.lists[ri] = list
		r.flags |= flagListed
		s.stats.Suppressed++
	}
	s.refs = append(s.refs, r)
	rp := &s.refs[ri]

	switch ob.Type {
	case intel.IPv4, intel.IPv6:
		a := netip.MustParseAddr(r.value)
		if a.Is4() {
			k := ip4Key(a)
			if h, ok := s.ip4[k]; ok {
				rp.next = h
			}
			s.ip4[k] = ri
			if s.ip4x16 == nil {
				s.ip4x16 = make([]uint64, 1<<16/64)
			}
			s.ip4x16[k>>22] |= 1 << (k >> 16 & 63)
		} else {
			k := a.As16()
			if h, ok := s.ip6[k]; ok {
				rp.next = h
			}
			s.ip6[k] = ri
		}
	case intel.CIDR:
		p := netip.MustParsePrefix(r.value)
		if h, ok := b.prefixes[p]; ok {
			rp.next = h
		}
		b.prefixes[p] = ri
	case intel.Domain:
		rp.value = strings.TrimPrefix(rp.value, "*.")
		rp.next = s.domains.insert(rp.value, ri, s.refs)
		labels := strings.Count(rp.value, ".") + 1
		s.maxLabels = max(s.maxLabels, labels)
		s.oneLabel = s.oneLabel || labels == 1
	case intel.URL:
		key := urlKeyOfNormalized(r.value)
		host := key
		if i := strings.IndexAny(host, "/?"); i >= 0 {
			host = host[:i]
		}
		s.urlHosts[host] = struct{}{}
		b.chainString(clsURL, key, ri)
	case intel.MD5, intel.SHA1, intel.SHA256, intel.SHA512, intel.X509SHA1, intel.X509SHA256:
		b.chainString(clsHash, r.value, ri)
	case intel.JA3:
		b.chainString(clsJA3, r.value, ri)
	case intel.JA3S:
		b.chainString(clsJA3S, r.value, ri)
	case intel.Email:
		b.chainString(clsEmail, r.value, ri)
	case intel.UserAgent, intel.Software:
		// Zeek's Intel::SOFTWARE is seen in HTTP User-Agent headers
		b.chainString(clsUA, r.value, ri)
	case intel.X509Serial:
		b.chainString(clsSerial, r.value, ri)
	case intel.FileName:
		b.chainString(clsFileName, r.value, ri)
	case intel.EmailSubj:
		b.chainString(clsSubject, r.value, ri)
	case intel.URIPath:
		b.chainString(clsURIPath, r.value, ri)
	}
	if t := r.typ.ValueType(); t == ob.Type {
		b.observables[r.typ]++ // a map update per observable costs more
	} else {
		s.stats.Observables[ob.Type]++
	}
	return true
}

func (b *Builder) chainString(cls int, key string, ri int32) {
	m := b.s.strs[cls]
	if h, ok := m[key]; ok {
		b.s.refs[ri].next = h
	}
	m[key] = ri
}

// firstList returns the first (sorted) warninglist naming the value.
func (b *Builder) firstList(t intel.ValueType, v string, given []string) string {
	if len(given) == 0 && b.opt.Suppress == nil {
		return ""
	}
	var lists []string
	lists = append(lists, given...)
	if b.opt.Suppress != nil {
		lists = append(lists, b.opt.Suppress.Check(t, v)...)
	}
	if len(lists) == 0 {
		return ""
	}
	sort.Strings(lists)
	return lists[0]
}

// normalize is intel.Normalize without its allocations for values that
// are canonical already (the common case: importers normalise).
func normalize(t intel.ValueType, v string) (string, error) {
	switch t {
	case intel.IPv4, intel.IPv6:
		a, err := netip.ParseAddr(v)
		if err == nil && !a.Is4In6() && a.Zone() == "" && (t == intel.IPv4) == a.Is4() {
			var buf [64]byte
			if string(a.AppendTo(buf[:0])) == v {
				return v, nil
			}
		}
	case intel.Domain:
		if isCanonicalDomain(v) {
			return v, nil
		}
	case intel.MD5, intel.SHA1, intel.SHA256, intel.SHA512, intel.X509SHA1, intel.X509SHA256, intel.JA3, intel.JA3S:
		if len(v) == hexLen(t) && isLowerHex(v) {
			return v, nil
		}
	}
	return intel.Normalize(t, v)
}

// isCanonicalDomain reports whether intel.NormalizeDomain would return v
// unchanged: lower-case ASCII labels, no empty label, no trailing dot.
func isCanonicalDomain(v string) bool {
	if v == "" || len(v) > 253 || v[0] == '.' || v[len(v)-1] == '.' {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '*' || c == '.') {
			return false
		}
		if c == '.' && v[i-1] == '.' {
			return false
		}
	}
	return true
}

// hexLen is the length in hex digits of a digest type.
func hexLen(t intel.ValueType) int {
	switch t {
	case intel.MD5, intel.JA3, intel.JA3S:
		return 32
	case intel.SHA1, intel.X509SHA1:
		return 40
	case intel.SHA256, intel.X509SHA256:
		return 64
	case intel.SHA512:
		return 128
	}
	return -1
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return s != ""
}

// unixNano is t in unix nanoseconds, 0 for the zero time (unbounded).
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func ip4Key(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

// Build finishes the snapshot: prefix table, pattern set and version. The
// Builder cannot be used afterwards.
func (b *Builder) Build() (*Snapshot, error) {
	if b.built {
		return nil, fmt.Errorf("match: Build called twice")
	}
	b.built = true
	if b.err != nil {
		return nil, b.err
	}
	s := b.s
	for t, n := range b.observables {
		if n > 0 {
			s.stats.Observables[vtype(t).ValueType()] += n
		}
	}
	b.dedupe()
	s.buildCIDR(b.prefixes)
	var pending []*intel.Object
	var pendIdx []int32
	for k, o := range b.pending {
		if !s.inds[b.pendIdx[k]].dead {
			pending = append(pending, o)
			pendIdx = append(pendIdx, b.pendIdx[k])
		}
	}
	b.pending, b.pendIdx = nil, nil
	if len(pending) > 0 {
		set, rejected, err := b.opt.Patterns.CompilePatterns(pending)
		if err != nil {
			return nil, fmt.Errorf("match: compiling patterns: %w", err)
		}
		s.patterns = set
		s.patternBy = make(map[string]int32, len(pending))
		s.patternSrc = make(map[int32]string, len(pending))
		ids := make([]string, 0, len(rejected))
		for id := range rejected {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			b.reject(fmt.Sprintf("%s: %v", id, rejected[id]))
		}
		for k, o := range pending {
			idx := pendIdx[k]
			if _, bad := rejected[o.ID]; bad {
				s.inds[idx].dead = true
				s.stats.Indicators--
				s.stats.Skipped["pattern-rejected"]++
				continue
			}
			s.patternBy[o.ID] = idx
			s.patternSrc[idx] = o.Indicator.Pattern
			s.stats.Patterns++
		}
		if len(s.patternBy) == 0 {
			s.patterns = nil
		}
	}
	s.buildFilters()
	s.version = b.version()
	b.prefixes, b.digests, b.modified = nil, nil, nil
	return s, nil
}

// Filter slots: one per string class, then these.
const (
	filterIP4 = numClasses + iota
	filterIP6
	filterDomain
	numFilters
)

// buildFilters fills the Bloom filters with every key of every exact table.
func (s *Snapshot) buildFilters() {
	s.filters[filterIP4] = newFilter(len(s.ip4))
	for k := range s.ip4 {
		s.filters[filterIP4].add(ip4Hash(k))
	}
	s.filters[filterIP6] = newFilter(len(s.ip6))
	for k := range s.ip6 {
		s.filters[filterIP6].add(ip6Hash(k))
	}
	s.filters[filterDomain] = newFilter(s.domains.n)
	for _, sl := range s.domains.slots {
		if sl.h != 0 {
			s.filters[filterDomain].add(domainFilterHash(sl.h))
		}
	}
	for cls, m := range s.strs {
		if cls == clsURLHost {
			continue
		}
		s.filters[cls] = newFilter(len(m))
		for k := range m {
			s.filters[cls].add(strHash(s.seed, cls, k))
		}
	}
	s.filters[clsURLHost] = newFilter(len(s.urlHosts))
	for k := range s.urlHosts {
		s.filters[clsURLHost].add(strHash(s.seed, clsURLHost, k))
	}
}

// radixSort sorts a stably by key, eleven bits a pass: for the million
// entries of a large snapshot several times faster than a comparison sort.
// key must be a plain field read (it is called twice per entry and pass).
func radixSort[T any, K interface{ key(T) uint64 }](a []T) {
	var k K
	if len(a) < 256 {
		slices.SortStableFunc(a, func(x, y T) int { return cmp.Compare(k.key(x), k.key(y)) })
		return
	}
	const bitsPerPass = 11
	tmp := make([]T, len(a))
	src, dst := a, tmp
	var count [1 << bitsPerPass]int
	for shift := 0; shift < 64; shift += bitsPerPass {
		clear(count[:])
		for i := range src {
			count[k.key(src[i])>>shift&(1<<bitsPerPass-1)]++
		}
		if count[k.key(src[0])>>shift&(1<<bitsPerPass-1)] == len(src) {
			continue // every key has the same digit here: nothing moves
		}
		sum := 0
		for d, c := range count {
			count[d] = sum
			sum += c
		}
		for i := range src {
			d := k.key(src[i]) >> shift & (1<<bitsPerPass - 1)
			dst[count[d]] = src[i]
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
}

// byHash and byHi are the keys radixSort sorts idHash and digestKey by.
type byHash struct{}

func (byHash) key(x idHash) uint64 { return x.h }

type byHi struct{}

func (byHi) key(x digestKey) uint64 { return x.hi }

// urlKeyOfNormalized turns a URL as intel.NormalizeURL writes it into the key
// the matcher uses: scheme dropped (HTTP logs do not record it), ports 80 and
// 443 dropped, host lower-case, path and query as they are.
func urlKeyOfNormalized(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	end := strings.IndexAny(u, "/?")
	if end < 0 {
		end = len(u)
	}
	host, rest := u[:end], u[end:]
	if strings.HasSuffix(host, ":80") || strings.HasSuffix(host, ":443") {
		host = host[:strings.LastIndexByte(host, ':')]
	}
	if rest == "" {
		rest = "/"
	}
	return strings.ToLower(host) + rest
}

// normalizeDN canonicalises an X.509 distinguished name for comparison:
// attributes split on unescaped commas or slashes, trimmed, lower-cased,
// sorted, so "C=US, O=Evil" equals "O=Evil,C=US" and "/C=US/O=Evil".
func normalizeDN(dn string) string {
	var parts []string
	var cur strings.Builder
	flush := func() {
		p := strings.TrimSpace(cur.String())
		if p != "" {
			if i := strings.IndexByte(p, '='); i > 0 {
				p = strings.ToLower(strings.TrimSpace(p[:i])) + "=" + strings.ToLower(strings.TrimSpace(p[i+1:]))
			} else {
				p = strings.ToLower(p)
			}
			parts = append(parts, p)
		}
		cur.Reset()
	}
	for i := 0; i < len(dn); i++ {
		c := dn[i]
		switch {
		case c == '\\' && i+1 < len(dn):
			cur.WriteByte(dn[i+1])
			i++
		case c == ',' || c == '/' || c == ';':
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	sort.Strings(parts)
	return strings.Join(parts, ",")
}
