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
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/gaissmai/bart"
	"github.com/whodunit-project/whodunit/internal/intel"
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
	domains    suffixSet
	strs       [numClasses]map[string]int32
	urlHosts   map[string]struct{} // hosts (with non-default port) that URL indicators name

	patterns  PatternSet
	patternBy map[string]int32 // indicator id → index into inds
	suppress  Suppressor
	stats     Stats
}

// indicator is one compiled indicator object.
type indicator struct {
	id          string
	pattern     string
	from, until int64 // unix nanoseconds; 0 = unbounded
	dead        bool  // replaced by a newer version of the same id
}

// ref is one observable of one indicator; refs with the same key are chained.
type ref struct {
	ind    int32
	next   int32 // next ref with the same key, -1 at the end
	port   uint16
	typ    intel.ValueType
	value  string // normalised value: the key of its table
	issuer string // normalised issuer for x509 serials, "" = any issuer
	list   string // first warninglist the indicator's value is on, "" = none
}

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

// Version is a content hash of the compiled indicator set: the same set of
// indicators (ids, observables, patterns, validity) gives the same version
// whatever the order they were added in.
func (s *Snapshot) Version() string { return s.version }

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
	byID     map[string]int32
	digests  [][16]byte // per indicator, for the version hash
	prefixes map[netip.Prefix]int32
	modified []int64          // per indicator: Modified, to keep the newest version of an id
	pending  []*intel.Object // indicators for the pattern evaluator
	built    bool
}

// NewBuilder returns an empty Builder.
func NewBuilder(opt Options) *Builder {
	s := &Snapshot{
		ip4:      map[uint32]int32{},
		ip6:      map[[16]byte]int32{},
		urlHosts: map[string]struct{}{},
		suppress: opt.Suppress,
		stats:    Stats{Observables: map[intel.ValueType]int{}, Skipped: map[string]int{}},
	}
	for i := range s.strs {
		s.strs[i] = map[string]int32{}
	}
	return &Builder{opt: opt, s: s, byID: map[string]int32{}, prefixes: map[netip.Prefix]int32{}}
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
	if prev, ok := b.byID[o.ID]; ok {
		// keep the newest version of an id; refs of the old one stay in the
		// tables but are dead and never match.
		if !b.newer(o, prev) {
			b.skip("older-version")
			return
		}
		if !b.s.inds[prev].dead {
			b.s.inds[prev].dead = true
			b.s.stats.Indicators--
		}
	}
	ind := indicator{id: o.ID, pattern: spec.Pattern}
	ind.from, ind.until = unixNano(spec.ValidFrom), unixNano(spec.ValidUntil)
	idx := int32(len(b.s.inds))
	dig := sha256.New()
	fmt.Fprintf(dig, "%s\x00%d\x00%d\x00", o.ID, ind.from, ind.until)

	added := 0
	if len(spec.Observables) > 0 {
		for _, ob := range spec.Observables {
			if b.addObservable(idx, ob, spec.Warninglists) {
				added++
				fmt.Fprintf(dig, "%s\x00%s\x00%d\x00%s\x00", ob.Type, ob.Value, ob.Port, ob.Issuer)
			}
		}
		if added == 0 {
			return // every observable was skipped and counted
		}
	} else if spec.Pattern != "" && (spec.PatternType == "stix" || spec.PatternType == "") {
		if b.opt.Patterns == nil {
			b.skip("needs-pattern-evaluator")
			return
		}
		b.pending = append(b.pending, o)
		fmt.Fprintf(dig, "pattern\x00%s\x00", spec.Pattern)
	} else {
		b.skip("no-observable")
		return
	}
	var d [16]byte
	copy(d[:], dig.Sum(nil))
	b.s.inds = append(b.s.inds, ind)
	b.digests = append(b.digests, d)
	b.modified = append(b.modified, unixNano(o.Modified))
	b.byID[o.ID] = idx
	b.s.stats.Indicators++
}

// newer reports whether o replaces the indicator already compiled at prev.
func (b *Builder) newer(o *intel.Object, prev int32) bool {
	return unixNano(o.Modified) > b.modified[prev]
}

// addObservable compiles one observable of indicator idx; it reports whether
// the observable can match.
func (b *Builder) addObservable(idx int32, ob intel.Observable, lists []string) bool {
	s := b.s
	if ob.Port < 0 || ob.Port > 65535 {
		b.skip("bad-value:" + string(ob.Type))
		b.reject(fmt.Sprintf("%s: port %d out of range", s.indID(idx), ob.Port))
		return false
	}
	r := ref{ind: idx, next: -1, typ: ob.Type, port: uint16(ob.Port)}
	var err error
	switch ob.Type {
	case intel.IPv4, intel.IPv6, intel.CIDR, intel.Domain, intel.URL, intel.MD5, intel.SHA1, intel.SHA256,
		intel.SHA512, intel.X509SHA1, intel.X509SHA256, intel.X509Serial, intel.JA3, intel.JA3S, intel.Email,
		intel.UserAgent, intel.FileName, intel.EmailSubj, intel.URIPath:
		r.value, err = intel.Normalize(ob.Type, ob.Value)
	default:
		b.skip("unsupported:" + string(ob.Type))
		return false
	}
	if err != nil {
		b.skip("bad-value:" + string(ob.Type))
		b.reject(fmt.Sprintf("%s: %v", s.indID(idx), err))
		return false
	}
	if ob.Type == intel.FileName {
		r.value = strings.ToLower(r.value)
	}
	if ob.Type == intel.X509Serial && ob.Issuer != "" {
		r.issuer = normalizeDN(ob.Issuer)
	}
	r.list = b.firstList(ob.Type, r.value, lists)
	if r.list != "" {
		s.stats.Suppressed++
	}
	ri := int32(len(s.refs))
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
	case intel.UserAgent:
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
	s.stats.Observables[ob.Type]++
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

func (s *Snapshot) indID(i int32) string {
	if int(i) < len(s.inds) {
		return s.inds[i].id
	}
	return "indicator"
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
	s := b.s
	if len(b.prefixes) > 0 {
		s.cidr = new(bart.Table[int32])
		ps := make([]netip.Prefix, 0, len(b.prefixes))
		for p := range b.prefixes {
			ps = append(ps, p)
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i].Bits() < ps[j].Bits() || ps[i].Bits() == ps[j].Bits() && ps[i].Addr().Less(ps[j].Addr()) })
		groupOf := make(map[netip.Prefix]int32, len(ps))
		for i, p := range ps {
			s.cidr.Insert(p, int32(i))
			groupOf[p] = int32(i)
		}
		s.cidrGroups = make([][]int32, len(ps))
		for i, p := range ps {
			var g []int32
			for sp := range s.cidr.Supernets(p) {
				for r := b.prefixes[sp]; r >= 0; r = s.refs[r].next {
					g = append(g, r)
				}
			}
			s.cidrGroups[i] = g
		}
	}
	if len(b.pending) > 0 {
		set, rejected, err := b.opt.Patterns.CompilePatterns(b.pending)
		if err != nil {
			return nil, fmt.Errorf("match: compiling patterns: %w", err)
		}
		s.patterns = set
		s.patternBy = make(map[string]int32, len(b.pending))
		ids := make([]string, 0, len(rejected))
		for id := range rejected {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			b.reject(fmt.Sprintf("%s: %v", id, rejected[id]))
		}
		for _, o := range b.pending {
			idx := b.byID[o.ID]
			if _, bad := rejected[o.ID]; bad {
				s.inds[idx].dead = true
				s.stats.Indicators--
				s.stats.Skipped["pattern-rejected"]++
				continue
			}
			if s.inds[idx].dead {
				continue
			}
			s.patternBy[o.ID] = idx
			s.stats.Patterns++
		}
		if len(s.patternBy) == 0 {
			s.patterns = nil
		}
		b.pending = nil
	}
	s.version = b.version()
	b.byID, b.prefixes, b.digests, b.modified = nil, nil, nil, nil
	return s, nil
}

func (b *Builder) version() string {
	live := make([][16]byte, 0, len(b.digests))
	for i, d := range b.digests {
		if !b.s.inds[i].dead {
			live = append(live, d)
		}
	}
	sort.Slice(live, func(i, j int) bool {
		return string(live[i][:]) < string(live[j][:])
	})
	h := sha256.New()
	h.Write([]byte("whodunit-match-v1\x00"))
	for _, d := range live {
		h.Write(d[:])
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

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
