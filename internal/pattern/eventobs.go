package pattern

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// EventScope presents one telemetry event as the STIX cyber-observable
// objects of an observed-data (the objects patterns test):
//
//	network-traffic   src_ref, dst_ref, src_port, dst_port, protocols, start,
//	                  end, src_byte_count, dst_byte_count, src_packets,
//	                  dst_packets, extensions.'http-request-ext' (request_method,
//	                  request_value, request_header.Host/User-Agent/Referer)
//	ipv4-addr, ipv6-addr  value (source, destination, DNS answers)
//	domain-name       value (DNS query with resolves_to_refs, HTTP host, TLS SNI,
//	                  CNAME answers)
//	url               value (http://host/uri of an HTTP request)
//	x509-certificate  hashes.'SHA-1'/'SHA-256', serial_number (colon hex),
//	                  subject, issuer, validity_not_before, validity_not_after
//	x-ja3, x-ja3s     value
//	file              hashes.MD5/'SHA-1'/'SHA-256', name, size, mime_type
//	email-message     from_ref, sender_ref, to_refs, subject
//	email-addr        value
//
// Hash names in hashes dictionaries are matched without regard to case or
// hyphens (MD5, md5, SHA-256, SHA256). An EventScope is reused from event
// to event: Reset builds the objects without allocating once warm.
type EventScope struct {
	ev   *telemetry.Event
	objs []evObj
	// scratch lists handed out by Get
	protocols []Value
	answers   []Value // ids of DNS answer objects
	toRefs    []Value
	arena     []byte // bytes of strings built for the current event
	scratch   []Object
	// dictionaries inside objects: hashes, http-request-ext, request_header, extensions
	nestedObjs [4]evObj
}

type objKind uint8

const (
	okTraffic objKind = iota
	okSrcIP
	okDstIP
	okQuery
	okAnswer // idx = answer index
	okHost
	okSNI
	okURL
	okCert
	okJA3
	okJA3S
	okFile
	okEmail
	okFrom
	okSender
	okTo // idx = recipient index
	okHashes
	okHTTPExt
	okHTTPHeaders
	okExtensions
)

type evObj struct {
	sc   *EventScope
	kind objKind
	typ  string
	id   string
	idx  int
	str  string // the value of value-like objects
}

func (o *evObj) Type() string { return o.typ }

// maxAnswers bounds the DNS answers presented per event.
const maxAnswers = 64

var answerIDs4, answerIDs6, answerIDsDN, toIDs [maxAnswers]string

func init() {
	for i := range maxAnswers {
		answerIDs4[i] = "ipv4-addr--answer-" + strconv.Itoa(i)
		answerIDs6[i] = "ipv6-addr--answer-" + strconv.Itoa(i)
		answerIDsDN[i] = "domain-name--answer-" + strconv.Itoa(i)
		toIDs[i] = "email-addr--to-" + strconv.Itoa(i)
	}
}

// NewEventScope returns an empty scope; call Reset with each event.
func NewEventScope() *EventScope {
	s := &EventScope{objs: make([]evObj, 0, 2*maxAnswers+32)}
	for i := range s.nestedObjs {
		s.nestedObjs[i] = evObj{sc: s, kind: okHashes + objKind(i)}
	}
	return s
}

func ipType(a netip.Addr) string {
	if a.Is4() || a.Is4In6() {
		return "ipv4-addr"
	}
	return "ipv6-addr"
}

func (s *EventScope) add(kind objKind, typ, id, str string, idx int) {
	if len(s.objs) == cap(s.objs) {
		return // never reallocate: handed-out pointers must stay valid
	}
	s.objs = append(s.objs, evObj{sc: s, kind: kind, typ: typ, id: id, str: str, idx: idx})
}

// Reset presents ev. The scope keeps a reference to ev until the next Reset.
func (s *EventScope) Reset(ev *telemetry.Event) {
	s.ev = ev
	s.objs = s.objs[:0]
	s.protocols = s.protocols[:0]
	s.answers = s.answers[:0]
	s.toRefs = s.toRefs[:0]
	s.arena = s.arena[:0]
	if ev.SrcIP.IsValid() || ev.DstIP.IsValid() {
		s.add(okTraffic, "network-traffic", "network-traffic--event", "", 0)
		if ev.Proto != "" {
			s.protocols = append(s.protocols, Value{Kind: KindString, Str: strings.ToLower(ev.Proto)})
		}
		if ev.Service != "" {
			for _, p := range strings.Split(strings.ToLower(ev.Service), ",") {
				if p = strings.TrimSpace(p); p != "" && p != "-" {
					s.protocols = append(s.protocols, Value{Kind: KindString, Str: p})
				}
			}
		}
	}
	if ev.SrcIP.IsValid() {
		t, id := "ipv4-addr", "ipv4-addr--src"
		if ipType(ev.SrcIP) != t {
			t, id = "ipv6-addr", "ipv6-addr--src"
		}
		s.add(okSrcIP, t, id, s.addrString(ev.SrcIP), 0)
	}
	if ev.DstIP.IsValid() {
		t, id := "ipv4-addr", "ipv4-addr--dst"
		if ipType(ev.DstIP) != t {
			t, id = "ipv6-addr", "ipv6-addr--dst"
		}
		s.add(okDstIP, t, id, s.addrString(ev.DstIP), 0)
	}
	if ev.Query != "" {
		s.add(okQuery, "domain-name", "domain-name--query", strings.TrimSuffix(ev.Query, "."), 0)
		for i, a := range ev.Answers {
			if i >= maxAnswers {
				break
			}
			if ip, err := netip.ParseAddr(a); err == nil {
				ip = ip.Unmap()
				id := answerIDs4[i]
				if ip.Is6() {
					id = answerIDs6[i]
				}
				s.add(okAnswer, ipType(ip), id, a, i)
				s.answers = append(s.answers, Value{Kind: KindString, Str: id})
			} else if a != "" {
				s.add(okAnswer, "domain-name", answerIDsDN[i], strings.TrimSuffix(a, "."), i)
				s.answers = append(s.answers, Value{Kind: KindString, Str: answerIDsDN[i]})
			}
		}
	}
	if ev.Host != "" {
		host := ev.Host
		if h, _, ok := strings.Cut(host, ":"); ok && !strings.Contains(h, "]") && strings.Count(host, ":") == 1 {
			host = h
		}
		if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err != nil {
			s.add(okHost, "domain-name", "domain-name--host", host, 0)
		}
		s.add(okURL, "url", "url--event", s.concat("http://", ev.Host, ev.URI), 0)
	}
	if ev.SNI != "" {
		s.add(okSNI, "domain-name", "domain-name--sni", ev.SNI, 0)
	}
	if ev.CertSHA1 != "" || ev.CertSHA256 != "" || ev.CertSerial != "" || ev.CertSubject != "" {
		s.add(okCert, "x509-certificate", "x509-certificate--event", "", 0)
	}
	if ev.JA3 != "" {
		s.add(okJA3, "x-ja3", "x-ja3--event", ev.JA3, 0)
	}
	if ev.JA3S != "" {
		s.add(okJA3S, "x-ja3s", "x-ja3s--event", ev.JA3S, 0)
	}
	if ev.MD5 != "" || ev.SHA1 != "" || ev.SHA256 != "" || ev.FileName != "" {
		s.add(okFile, "file", "file--event", "", 0)
	}
	if ev.From != "" || ev.MailFrom != "" || len(ev.To) > 0 || len(ev.RcptTo) > 0 || ev.Subject != "" {
		s.add(okEmail, "email-message", "email-message--event", "", 0)
		if ev.From != "" {
			s.add(okFrom, "email-addr", "email-addr--from", trimAddr(ev.From), 0)
		}
		if ev.MailFrom != "" {
			s.add(okSender, "email-addr", "email-addr--sender", trimAddr(ev.MailFrom), 0)
		}
		to := ev.To
		if len(to) == 0 {
			to = ev.RcptTo
		}
		for i, a := range to {
			if i >= maxAnswers {
				break
			}
			s.add(okTo, "email-addr", toIDs[i], trimAddr(a), i)
			s.toRefs = append(s.toRefs, Value{Kind: KindString, Str: toIDs[i]})
		}
	}
}

// Strings built for one event live in an arena reused by the next event:
// nothing that outlives the event (stream state keeps only provenance)
// may hold them.
func (s *EventScope) arenaString(start int) string {
	b := s.arena[start:]
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func (s *EventScope) concat(parts ...string) string {
	start := len(s.arena)
	for _, p := range parts {
		s.arena = append(s.arena, p...)
	}
	return s.arenaString(start)
}

func (s *EventScope) addrString(a netip.Addr) string {
	start := len(s.arena)
	s.arena = a.Unmap().WithZone("").AppendTo(s.arena)
	return s.arenaString(start)
}

func (s *EventScope) timeString(t time.Time) string {
	start := len(s.arena)
	s.arena = t.UTC().AppendFormat(s.arena, "2006-01-02T15:04:05.000000Z")
	return s.arenaString(start)
}

func trimAddr(a string) string {
	a = strings.TrimSpace(a)
	if i := strings.LastIndexByte(a, '<'); i >= 0 {
		if j := strings.IndexByte(a[i:], '>'); j > 0 {
			return a[i+1 : i+j]
		}
	}
	return a
}

// ObjectsOf implements scope.
func (s *EventScope) ObjectsOf(typ string) []Object {
	s.scratch = s.scratch[:0]
	for i := range s.objs {
		if s.objs[i].typ == typ {
			s.scratch = append(s.scratch, &s.objs[i])
		}
	}
	return s.scratch
}

// Resolve implements Resolver.
func (s *EventScope) Resolve(id string) (Object, bool) {
	for i := range s.objs {
		if s.objs[i].id == id {
			return &s.objs[i], true
		}
	}
	return nil, false
}

// hasType reports whether the event presents an object of the type.
func (s *EventScope) hasType(typ string) bool {
	for i := range s.objs {
		if s.objs[i].typ == typ {
			return true
		}
	}
	return false
}

func str(v string) (Value, bool) {
	if v == "" {
		return Value{}, false
	}
	return Value{Kind: KindString, Str: v}, true
}

func num(n int64, ok bool) (Value, bool) {
	if !ok {
		return Value{}, false
	}
	return Value{Kind: KindInt, Int: n}, true
}

// nested returns one of the dictionaries inside event objects.
func (s *EventScope) nested(kind objKind) Value {
	return Value{Kind: KindObject, Obj: &s.nestedObjs[kind-okHashes]}
}

// Get implements Object.
func (o *evObj) Get(key string) (Value, bool) {
	ev := o.sc.ev
	switch o.kind {
	case okSrcIP, okDstIP, okQuery, okHost, okSNI, okURL, okJA3, okJA3S, okFrom, okSender, okTo:
		if key == "value" {
			return str(o.str)
		}
		if key == "type" {
			return str(o.typ)
		}
	case okAnswer:
		switch key {
		case "value":
			return str(o.str)
		case "type":
			return str(o.typ)
		}
	case okTraffic:
		switch key {
		case "type":
			return str(o.typ)
		case "src_ref":
			if ev.SrcIP.IsValid() {
				if ipType(ev.SrcIP) == "ipv4-addr" {
					return str("ipv4-addr--src")
				}
				return str("ipv6-addr--src")
			}
		case "dst_ref":
			if ev.DstIP.IsValid() {
				if ipType(ev.DstIP) == "ipv4-addr" {
					return str("ipv4-addr--dst")
				}
				return str("ipv6-addr--dst")
			}
		case "src_port":
			return num(int64(ev.SrcPort), ev.SrcPort != 0)
		case "dst_port":
			return num(int64(ev.DstPort), ev.DstPort != 0)
		case "protocols":
			if len(o.sc.protocols) > 0 {
				return Value{Kind: KindList, List: o.sc.protocols}, true
			}
		case "start":
			if !ev.Time.IsZero() {
				return str(o.sc.timeString(ev.Time))
			}
		case "end":
			if !ev.Time.IsZero() && ev.Duration > 0 {
				return str(o.sc.timeString(ev.Time.Add(ev.Duration)))
			}
		case "src_byte_count":
			return num(ev.SrcBytes, ev.SrcBytes > 0)
		case "dst_byte_count":
			return num(ev.DstBytes, ev.DstBytes > 0)
		case "src_packets":
			return num(ev.SrcPackets, ev.SrcPackets > 0)
		case "dst_packets":
			return num(ev.DstPackets, ev.DstPackets > 0)
		case "extensions":
			if ev.Method != "" || ev.URI != "" || ev.UserAgent != "" {
				return o.sc.nested(okExtensions), true
			}
		}
	case okExtensions:
		if key == "http-request-ext" {
			return o.sc.nested(okHTTPExt), true
		}
	case okHTTPExt:
		switch key {
		case "request_method":
			return str(strings.ToLower(ev.Method))
		case "request_value":
			return str(ev.URI)
		case "request_header":
			return o.sc.nested(okHTTPHeaders), true
		}
	case okHTTPHeaders:
		switch strings.ToLower(key) {
		case "host":
			return str(ev.Host)
		case "user-agent":
			return str(ev.UserAgent)
		case "referer":
			return str(ev.Referrer)
		}
	}
	switch o.kind {
	case okQuery:
		if key == "resolves_to_refs" && len(o.sc.answers) > 0 {
			return Value{Kind: KindList, List: o.sc.answers}, true
		}
	case okCert:
		switch key {
		case "type":
			return str(o.typ)
		case "hashes":
			return o.sc.nested(okHashes), true
		case "serial_number":
			if ev.CertSerial != "" {
				return str(o.sc.colonHex(ev.CertSerial))
			}
		case "subject":
			return str(ev.CertSubject)
		case "issuer":
			return str(ev.CertIssuer)
		case "validity_not_before":
			if !ev.NotBefore.IsZero() {
				return str(o.sc.timeString(ev.NotBefore))
			}
		case "validity_not_after":
			if !ev.NotAfter.IsZero() {
				return str(o.sc.timeString(ev.NotAfter))
			}
		}
	case okFile:
		switch key {
		case "type":
			return str(o.typ)
		case "hashes":
			if ev.MD5 != "" || ev.SHA1 != "" || ev.SHA256 != "" {
				return o.sc.nested(okHashes), true
			}
		case "name":
			return str(ev.FileName)
		case "size":
			return num(ev.FileSize, ev.FileSize > 0)
		case "mime_type":
			return str(ev.MIMEType)
		}
	case okHashes:
		// shared by file and certificate: the event has at most one of each
		switch normHashName(key) {
		case "MD5":
			return str(ev.MD5)
		case "SHA1":
			if ev.CertSHA1 != "" && ev.SHA1 == "" {
				return str(ev.CertSHA1)
			}
			return str(ev.SHA1)
		case "SHA256":
			if ev.CertSHA256 != "" && ev.SHA256 == "" {
				return str(ev.CertSHA256)
			}
			return str(ev.SHA256)
		}
	case okEmail:
		switch key {
		case "type":
			return str(o.typ)
		case "from_ref":
			if ev.From != "" {
				return str("email-addr--from")
			}
		case "sender_ref":
			if ev.MailFrom != "" {
				return str("email-addr--sender")
			}
		case "to_refs":
			if len(o.sc.toRefs) > 0 {
				return Value{Kind: KindList, List: o.sc.toRefs}, true
			}
		case "subject":
			return str(ev.Subject)
		}
	}
	return Value{}, false
}

// colonHex renders a hex serial number as colon-separated byte pairs, the
// form STIX examples use (4c:0b:1d:…).
func (s *EventScope) colonHex(h string) string {
	start := len(s.arena)
	n := 0
	for i := 0; i < len(h); i++ {
		if h[i] != ':' {
			n++
		}
	}
	pending := n%2 == 1 // an odd number of digits gets a leading zero
	if pending {
		s.arena = append(s.arena, '0')
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c == ':' {
			continue
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		s.arena = append(s.arena, c)
		if (len(s.arena)-start)%3 == 2 && i < len(h)-1 {
			s.arena = append(s.arena, ':')
		}
	}
	return strings.TrimSuffix(s.arenaString(start), ":")
}
