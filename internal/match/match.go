package match

import (
	"net/netip"
	"sort"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// fieldID names an event field the matcher looks at.
type fieldID uint8

const (
	fSrcIP fieldID = iota
	fDstIP
	fQuery
	fAnswer
	fHost
	fURL
	fURI
	fUserAgent
	fSNI
	fJA3
	fJA3S
	fCertSHA1
	fCertSHA256
	fCertChain
	fCertSerial
	fCertCN
	fCertSAN
	fMD5
	fSHA1
	fSHA256
	fFileName
	fMailFrom
	fRcptTo
	fFrom
	fTo
	fSubject
	numFields
)

var fieldSuffix = [numFields]string{
	"src_ip", "dst_ip", "query", "answer", "host", "url", "uri", "user_agent", "sni", "ja3", "ja3s",
	"cert_sha1", "cert_sha256", "cert_chain", "cert_serial", "cert_cn", "cert_san",
	"md5", "sha1", "sha256", "filename", "mailfrom", "rcptto", "from", "to", "subject",
}

const maxKinds = 16

// fieldNames[kind][field] is "<kind>.<field>", built once so that a hit
// does not format strings.
var fieldNames = func() (t [maxKinds][numFields]string) {
	for k := range t {
		kind := telemetry.Kind(k).String()
		if strings.HasPrefix(kind, "kind(") {
			kind = "other"
		}
		for f := range t[k] {
			t[k][f] = kind + "." + fieldSuffix[f]
		}
	}
	return t
}()

// FieldNames lists every field name Match can report for events of kind k,
// e.g. "dns.query", "conn.dst_ip", "tls.sni".
func FieldNames(k telemetry.Kind) []string {
	if int(k) >= maxKinds {
		k = telemetry.KindOther
	}
	return append([]string(nil), fieldNames[k][:]...)
}

// matchCtx carries one Match call; it lives on the stack.
type matchCtx struct {
	s     *Snapshot
	ev    *telemetry.Event
	emit  func(*Sighting)
	names *[numFields]string
}

// Match calls emit once for every indicator the event matches. The Sighting
// passed to emit, and its strings, are valid only during the call (strings
// may share the reader's buffer): copy what you keep. Match is safe for
// concurrent use and allocates nothing when nothing matches. Indicators that
// need the pattern evaluator are not matched here; use a Matcher.
func (s *Snapshot) Match(ev *telemetry.Event, emit func(*Sighting)) {
	k := int(ev.Kind)
	if k >= maxKinds {
		k = int(telemetry.KindOther)
	}
	c := matchCtx{s: s, ev: ev, emit: emit, names: &fieldNames[k]}

	if ev.SrcIP.IsValid() {
		c.ip(ev.SrcIP, fSrcIP, "src", int(ev.SrcPort))
	}
	if ev.DstIP.IsValid() {
		c.ip(ev.DstIP, fDstIP, "dst", int(ev.DstPort))
	}
	if ev.Query != "" {
		c.domain(ev.Query, fQuery)
	}
	for _, a := range ev.Answers {
		c.host(a, fAnswer, -1)
	}
	if ev.Host != "" || ev.URI != "" {
		c.http()
	}
	if ev.UserAgent != "" {
		c.exact(clsUA, ev.UserAgent, fUserAgent, intel.UserAgent)
	}
	if ev.SNI != "" {
		c.host(ev.SNI, fSNI, int(ev.DstPort))
	}
	if ev.JA3 != "" {
		c.lower(clsJA3, ev.JA3, fJA3)
	}
	if ev.JA3S != "" {
		c.lower(clsJA3S, ev.JA3S, fJA3S)
	}
	if ev.CertSHA1 != "" || ev.CertSHA256 != "" || ev.CertSerial != "" || ev.CertSubject != "" || len(ev.CertSANs) > 0 || len(ev.CertChain) > 0 {
		c.cert()
	}
	if ev.MD5 != "" {
		c.lower(clsHash, ev.MD5, fMD5)
	}
	if ev.SHA1 != "" {
		c.lower(clsHash, ev.SHA1, fSHA1)
	}
	if ev.SHA256 != "" {
		c.lower(clsHash, ev.SHA256, fSHA256)
	}
	if ev.FileName != "" {
		c.lower(clsFileName, ev.FileName, fFileName)
	}
	if ev.MailFrom != "" {
		c.email(ev.MailFrom, fMailFrom)
	}
	for _, a := range ev.RcptTo {
		c.email(a, fRcptTo)
	}
	if ev.From != "" {
		c.email(ev.From, fFrom)
	}
	for _, a := range ev.To {
		c.email(a, fTo)
	}
	if ev.Subject != "" {
		c.exact(clsSubject, ev.Subject, fSubject, intel.EmailSubj)
	}
}

// ip looks a up among exact IPs and CIDRs. port is the event's port on the
// same side, or -1 when the field has none (then port-bound indicators skip).
func (c *matchCtx) ip(a netip.Addr, f fieldID, dir string, port int) {
	s := c.s
	a = a.Unmap()
	head := int32(-1)
	var g int32 = -1
	if a.Is4() {
		k := ip4Key(a)
		if s.ip4x16 != nil && s.ip4x16[k>>22]&(1<<(k>>16&63)) != 0 && s.filters[filterIP4].has(ip4Hash(k)) {
			if h, ok := s.ip4[k]; ok {
				head = h
			}
		}
		if s.cidr4 != nil {
			if blk := k >> cidr4Shift; s.cidr4[blk>>6]&(1<<(blk&63)) != 0 {
				if v, ok := s.cidr.Lookup(a); ok {
					g = v
				}
			}
		}
	} else {
		k := a.As16()
		if len(s.ip6) > 0 && s.filters[filterIP6].has(ip6Hash(k)) {
			if h, ok := s.ip6[k]; ok {
				head = h
			}
		}
		if s.cidr6 {
			if v, ok := s.cidr.Lookup(a); ok {
				g = v
			}
		}
	}
	if head < 0 && g < 0 {
		return
	}
	c.ipHits(a, head, g, f, dir, port)
}

// ipHits is the rare path of ip, kept apart so that ip stays small.
func (c *matchCtx) ipHits(a netip.Addr, head, group int32, f fieldID, dir string, port int) {
	seen := a.String()
	t := intel.IPv4
	if a.Is6() {
		t = intel.IPv6
	}
	for r := head; r >= 0; r = c.s.refs[r].next {
		c.hitPort(r, f, seen, dir, port, t)
	}
	if group >= 0 {
		for _, r := range c.s.cidrGroups[group] {
			c.hitPort(r, f, seen, dir, port, t)
		}
	}
}

func (c *matchCtx) hitPort(r int32, f fieldID, seen, dir string, port int, seenType intel.ValueType) {
	rp := &c.s.refs[r]
	if rp.port != 0 && int(rp.port) != port {
		return
	}
	c.hit(r, f, seen, dir, seenType)
}

// domain reports every indicator domain that equals name or is a parent of
// it at a label boundary.
func (c *matchCtx) domain(name string, f fieldID) {
	t := &c.s.domains
	if t.n == 0 {
		return
	}
	if n := len(name); n > 0 && name[n-1] == '.' {
		name = name[:n-1]
	}
	if len(name) > 2 && name[0] == '*' && name[1] == '.' {
		name = name[2:]
	}
	h := uint64(fnvOffset)
	labels := 0
	for i := len(name) - 1; i >= 0; i-- {
		h = (h ^ uint64(lowerASCII(name[i]))) * fnvPrime
		if i == 0 || name[i-1] == '.' {
			labels++
			if labels > c.s.maxLabels {
				return
			}
			if labels == 1 && !c.s.oneLabel {
				continue
			}
			fh := finish(h)
			if !c.s.filters[filterDomain].has(domainFilterHash(fh)) {
				continue
			}
			if si := t.find(fh, name[i:], c.s.refs); si >= 0 {
				for r := t.slots[si].head; r >= 0; r = c.s.refs[r].next {
					c.hit(r, f, name, "", intel.Domain)
				}
			}
		}
	}
}

// host matches a value that may be a domain, an IP address, or either with
// a port: HTTP Host headers, SNI, DNS answers, certificate names.
func (c *matchCtx) host(v string, f fieldID, port int) {
	if v == "" {
		return
	}
	if v[0] == '[' {
		if j := strings.IndexByte(v, ']'); j > 0 {
			if a, err := netip.ParseAddr(v[1:j]); err == nil {
				c.ip(a, f, "", port)
			}
		}
		return
	}
	if i := strings.IndexByte(v, ':'); i >= 0 {
		if strings.IndexByte(v[i+1:], ':') >= 0 {
			if a, err := netip.ParseAddr(v); err == nil {
				c.ip(a, f, "", port)
			}
			return
		}
		v = v[:i]
		if v == "" {
			return
		}
	}
	if last := v[len(v)-1]; last >= '0' && last <= '9' {
		// top-level domains are never numeric: this is probably an IPv4 address
		if a, err := netip.ParseAddr(v); err == nil {
			c.ip(a, f, "", port)
			return
		}
	}
	c.domain(v, f)
}

// http matches the Host header (or the host of an absolute request URI),
// the URL and the URI path.
func (c *matchCtx) http() {
	ev := c.ev
	host, uri := ev.Host, ev.URI
	hostField := fHost
	if hasSchemePrefix(uri) {
		if host == "" {
			host = intel.URLHost(uri)
			hostField = fURI
		}
	}
	if host != "" {
		c.host(host, hostField, int(ev.DstPort))
	}
	if len(c.s.urlHosts) > 0 && (host != "" || hasSchemePrefix(uri)) {
		c.url(host, uri)
	}
	if m := c.s.strs[clsURIPath]; len(m) > 0 && uri != "" {
		path := uri
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
			if h, ok := m[uri]; ok {
				c.chain(h, fURI, uri, intel.URIPath)
			}
		}
		if h, ok := m[path]; ok {
			c.chain(h, fURI, uri, intel.URIPath)
		}
	}
}

func hasSchemePrefix(s string) bool {
	return len(s) > 7 && (s[4] == ':' || s[5] == ':') && strings.Contains(s[:8], "://")
}

// url matches the request's URL. It only builds the URL when the host is
// one that some URL indicator names, so the common path costs one lookup.
func (c *matchCtx) url(host, uri string) {
	var hostPart string
	if hasSchemePrefix(uri) {
		rest := uri[strings.Index(uri, "://")+3:]
		if i := strings.IndexAny(rest, "/?"); i >= 0 {
			rest = rest[:i]
		}
		hostPart = rest
	} else {
		hostPart = host
	}
	if strings.HasSuffix(hostPart, ":80") || strings.HasSuffix(hostPart, ":443") {
		hostPart = hostPart[:strings.LastIndexByte(hostPart, ':')]
	}
	if n := len(hostPart); n > 0 && hostPart[n-1] == '.' {
		hostPart = hostPart[:n-1]
	}
	if len(hostPart) == 0 || len(hostPart) > 260 {
		return
	}
	var buf [260]byte
	b := buf[:len(hostPart)]
	for i := 0; i < len(hostPart); i++ {
		b[i] = lowerASCII(hostPart[i])
	}
	if !c.s.filters[clsURLHost].has(bytesHash(c.s.seed, clsURLHost, b)) {
		return
	}
	if _, ok := c.s.urlHosts[string(b)]; !ok {
		return
	}
	raw := uri
	if !hasSchemePrefix(uri) {
		raw = "http://" + host + uri
	}
	norm, err := intel.NormalizeURL(raw)
	if err != nil {
		return
	}
	if h, ok := c.s.strs[clsURL][urlKeyOfNormalized(norm)]; ok {
		c.chain(h, fURL, raw, intel.URL)
	}
}

// cert matches the certificate fields of TLS and x509 events.
func (c *matchCtx) cert() {
	ev := c.ev
	if ev.CertSHA1 != "" {
		c.lower(clsHash, ev.CertSHA1, fCertSHA1)
	}
	if ev.CertSHA256 != "" {
		c.lower(clsHash, ev.CertSHA256, fCertSHA256)
	}
	for _, fp := range ev.CertChain {
		// the leaf is usually also in CertSHA1/CertSHA256: report it once
		if fp != "" && !strings.EqualFold(fp, ev.CertSHA1) && !strings.EqualFold(fp, ev.CertSHA256) {
			c.lower(clsHash, fp, fCertChain)
		}
	}
	if ev.CertSerial != "" {
		c.serial(ev.CertSerial)
	}
	cn := commonName(ev.CertSubject)
	if cn != "" {
		c.host(cn, fCertCN, -1)
	}
	for _, san := range ev.CertSANs {
		if !strings.EqualFold(san, cn) {
			c.host(san, fCertSAN, -1)
		}
	}
}

// serial matches x509 serial numbers, checking the issuer when the
// indicator names one.
func (c *matchCtx) serial(v string) {
	m := c.s.strs[clsSerial]
	if len(m) == 0 || len(v) > 128 {
		return
	}
	var buf [128]byte
	n := 0
	for i := 0; i < len(v); i++ {
		ch := v[i]
		if ch == ':' || ch == ' ' || ch == '0' && n == 0 {
			continue
		}
		buf[n] = lowerASCII(ch)
		n++
	}
	if n == 0 {
		buf[0] = '0'
		n = 1
	}
	h, ok := m[string(buf[:n])]
	if !ok {
		return
	}
	issuer := normalizeDN(c.ev.CertIssuer)
	for r := h; r >= 0; r = c.s.refs[r].next {
		rp := &c.s.refs[r]
		if rp.flags&flagIssuer != 0 && c.s.issuers[r] != issuer {
			continue
		}
		c.hit(r, fCertSerial, v, "", intel.X509Serial)
	}
}

// commonName returns the CN attribute of a distinguished name, "" if none.
func commonName(dn string) string {
	for i := 0; i+3 <= len(dn); i++ {
		if (dn[i] == 'C' || dn[i] == 'c') && (dn[i+1] == 'N' || dn[i+1] == 'n') && dn[i+2] == '=' &&
			(i == 0 || dn[i-1] == ',' || dn[i-1] == '/' || dn[i-1] == ' ') {
			v := dn[i+3:]
			for j := 0; j < len(v); j++ {
				if v[j] == ',' && (j == 0 || v[j-1] != '\\') || v[j] == '/' {
					v = v[:j]
					break
				}
			}
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// email matches an address ("Name <a@b>" or "a@b") and its domain.
func (c *matchCtx) email(v string, f fieldID) {
	if i := strings.LastIndexByte(v, '<'); i >= 0 {
		v = v[i+1:]
		if j := strings.IndexByte(v, '>'); j >= 0 {
			v = v[:j]
		}
	}
	v = strings.TrimSpace(v)
	at := strings.LastIndexByte(v, '@')
	if at <= 0 || at == len(v)-1 {
		return
	}
	c.lower(clsEmail, v, f)
	c.domain(v[at+1:], f)
}

// lower looks up v in a class whose keys are lower-case.
func (c *matchCtx) lower(cls int, v string, f fieldID) {
	m := c.s.strs[cls]
	if len(m) == 0 {
		return
	}
	upper := false
	for i := 0; i < len(v); i++ {
		if v[i]-'A' < 26 {
			upper = true
			break
		}
	}
	var h int32
	var ok bool
	switch {
	case !upper:
		if !c.s.filters[cls].has(strHash(c.s.seed, cls, v)) {
			return
		}
		h, ok = m[v]
	case len(v) <= 256:
		var buf [256]byte
		b := buf[:len(v)]
		for i := 0; i < len(v); i++ {
			b[i] = lowerASCII(v[i])
		}
		if !c.s.filters[cls].has(bytesHash(c.s.seed, cls, b)) {
			return
		}
		h, ok = m[string(b)]
	default:
		h, ok = m[strings.ToLower(v)]
	}
	if ok {
		c.chain(h, f, v, classType(cls))
	}
}

// exact looks up v as it is.
func (c *matchCtx) exact(cls int, v string, f fieldID, t intel.ValueType) {
	m := c.s.strs[cls]
	if len(m) == 0 || !c.s.filters[cls].has(strHash(c.s.seed, cls, v)) {
		return
	}
	if h, ok := m[v]; ok {
		c.chain(h, f, v, t)
	}
}

func classType(cls int) intel.ValueType {
	switch cls {
	case clsJA3:
		return intel.JA3
	case clsJA3S:
		return intel.JA3S
	case clsEmail:
		return intel.Email
	case clsFileName:
		return intel.FileName
	}
	return intel.UnknownType
}

func (c *matchCtx) chain(h int32, f fieldID, seen string, seenType intel.ValueType) {
	for r := h; r >= 0; r = c.s.refs[r].next {
		c.hit(r, f, seen, "", seenType)
	}
}

// hit checks liveness and validity, then emits one Sighting.
func (c *matchCtx) hit(r int32, f fieldID, seen, dir string, seenType intel.ValueType) {
	s := c.s
	rp := &s.refs[r]
	ind := &s.inds[rp.ind]
	if ind.dead || !valid(ind, c.ev) {
		return
	}
	var list string
	if rp.flags&flagListed != 0 {
		list = s.lists[r]
	}
	if list == "" && s.suppress != nil && seenType != intel.UnknownType && !strings.EqualFold(seen, rp.value) {
		list = firstOf(s.suppress.Check(seenType, strings.ToLower(seen)))
	}
	ev := c.ev
	sg := Sighting{
		IndicatorID: ind.id,
		Snapshot:    s.version,
		Type:        rp.typ.ValueType(),
		Indicator:   rp.value,
		Field:       c.names[f],
		Value:       seen,
		Direction:   dir,
		Suppressed:  list != "",
		Warninglist: list,
	}
	sg.fillEvent(ev)
	c.emit(&sg)
}

func (sg *Sighting) fillEvent(ev *telemetry.Event) {
	sg.Time, sg.Kind, sg.File, sg.Line, sg.Offset, sg.UID = ev.Time, ev.Kind, ev.File, ev.Line, ev.Offset, ev.UID
	sg.SrcIP, sg.DstIP, sg.SrcPort, sg.DstPort = ev.SrcIP, ev.DstIP, ev.SrcPort, ev.DstPort
}

// valid reports whether the event's own time lies in the indicator's
// validity window [from, until). An event without a time is not filtered.
func valid(ind *indicator, ev *telemetry.Event) bool {
	if ind.from == 0 && ind.until == 0 || ev.Time.IsZero() {
		return true
	}
	t := ev.Time.UnixNano()
	return (ind.from == 0 || t >= ind.from) && (ind.until == 0 || t < ind.until)
}

func firstOf(lists []string) string {
	switch len(lists) {
	case 0:
		return ""
	case 1:
		return lists[0]
	}
	l := append([]string(nil), lists...)
	sort.Strings(l)
	return l[0]
}

// Matcher is one worker's matcher: the shared Snapshot plus this worker's
// stream of the pattern evaluator. Not safe for concurrent use; make one
// per goroutine with MatcherGroup.NewMatcher.
type Matcher struct {
	s      *Snapshot
	stream PatternStream
	ev     *telemetry.Event
	emit   func(*Sighting)
	hitFn  func(PatternHit)
}

// MatcherGroup makes the Matchers of one scan. Their pattern evaluators
// share what they remember, so a pattern over several events matches
// whichever goroutines read those events.
type MatcherGroup struct {
	s *Snapshot
	g PatternGroup
}

// NewMatcherGroup returns the group for one scan.
func (s *Snapshot) NewMatcherGroup() *MatcherGroup {
	g := &MatcherGroup{s: s}
	if s.patterns != nil {
		g.g = s.patterns.NewGroup()
	}
	return g
}

// NewMatcher returns a Matcher for one goroutine of the group. It is safe
// for concurrent use.
func (g *MatcherGroup) NewMatcher() *Matcher {
	m := &Matcher{s: g.s}
	if g.g != nil {
		m.stream = g.g.NewStream()
		m.hitFn = m.onPatternHit
	}
	return m
}

// NewMatcher returns a Matcher in a group of its own, for a goroutine that
// reads the whole input.
func (s *Snapshot) NewMatcher() *Matcher { return s.NewMatcherGroup().NewMatcher() }

// Snapshot returns the snapshot m matches against.
func (m *Matcher) Snapshot() *Snapshot { return m.s }

// Match is Snapshot.Match followed by the pattern evaluator.
func (m *Matcher) Match(ev *telemetry.Event, emit func(*Sighting)) {
	m.s.Match(ev, emit)
	if m.stream != nil {
		m.ev, m.emit = ev, emit
		m.stream.Observe(ev, m.hitFn)
		m.ev, m.emit = nil, nil
	}
}

// Flush reports pattern matches decided only at the end of the input.
func (m *Matcher) Flush(emit func(*Sighting)) {
	if m.stream != nil {
		m.emit = emit
		m.stream.Flush(m.hitFn)
		m.emit = nil
	}
}

func (m *Matcher) onPatternHit(h PatternHit) {
	idx, ok := m.s.patternBy[h.IndicatorID]
	if !ok || m.emit == nil {
		return
	}
	ev := h.Event
	if ev == nil {
		ev = m.ev
	}
	if ev == nil {
		return
	}
	ind := &m.s.inds[idx]
	if ind.dead || !valid(ind, ev) {
		return
	}
	sg := Sighting{
		IndicatorID: ind.id,
		Snapshot:    m.s.version,
		Indicator:   m.s.patternText[idx],
		Field:       h.Field,
		Value:       h.Value,
	}
	sg.fillEvent(ev)
	m.emit(&sg)
}
