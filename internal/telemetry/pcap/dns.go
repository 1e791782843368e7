package pcap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// maxPendingQueries bounds the unanswered queries remembered per flow.
const maxPendingQueries = 64

// maxAnswers bounds the answers kept from one response.
const maxAnswers = 256

type dnsQuery struct {
	id       uint16
	name     string
	qtype    uint16
	t        time.Time
	num, off int64
}

// dnsFlow pairs queries with responses within one flow.
type dnsFlow struct {
	pending []dnsQuery
}

// dnsMsg is a parsed DNS message: the first question and the answers.
type dnsMsg struct {
	id       uint16
	response bool
	rcode    uint16
	hasQ     bool
	qname    string
	qtype    uint16
	answers  []string
	ttls     []float64
}

var (
	errDNSShort   = errors.New("message shorter than its header")
	errNameLoop   = errors.New("name compression loops")
	errNameLong   = errors.New("name longer than 255 bytes")
	errNamePtr    = errors.New("name compression pointer out of the message")
	errNameLabel  = errors.New("reserved label type")
	errNameTrunc  = errors.New("name runs past the message")
	errRDataShort = errors.New("record data length does not fit its type")
)

// dnsMessage parses one DNS message of flow f and pairs it with its query.
func (r *Reader) dnsMessage(f *flow, b []byte) {
	var m dnsMsg
	if err := parseDNS(b, &m, &r.dnsTexts); err != nil {
		r.recordError(fmt.Errorf("dns: %w", err))
		return
	}
	if f.dnsState == nil {
		f.dnsState = &dnsFlow{}
	}
	st := f.dnsState
	if !m.response {
		if !m.hasQ {
			return
		}
		if len(st.pending) >= maxPendingQueries {
			r.emitUnanswered(f, st.pending[0])
			st.pending = st.pending[1:]
		}
		st.pending = append(st.pending, dnsQuery{id: m.id, name: m.qname, qtype: m.qtype, t: r.pkt.Time, num: r.pkt.Num, off: r.pkt.Offset})
		return
	}
	ev := r.emit(f, telemetry.KindDNS, "dns")
	ev.Time = r.pkt.Time
	ev.Query = m.qname
	if m.hasQ {
		ev.QType = qtypeName(m.qtype)
	}
	for i, q := range st.pending {
		if q.id == m.id && (!m.hasQ || strings.EqualFold(q.name, m.qname)) {
			ev.Time = q.t
			if !m.hasQ {
				ev.Query, ev.QType = q.name, qtypeName(q.qtype)
			}
			st.pending = append(st.pending[:i], st.pending[i+1:]...)
			break
		}
	}
	ev.RCode = rcodeName(m.rcode)
	ev.Answers, ev.TTLs = m.answers, m.ttls
}

func (r *Reader) emitUnanswered(f *flow, q dnsQuery) {
	num, off := r.pkt.Num, r.pkt.Offset
	r.pkt.Num, r.pkt.Offset = q.num, q.off
	ev := r.emit(f, telemetry.KindDNS, "dns")
	r.pkt.Num, r.pkt.Offset = num, off
	ev.Time = q.t
	ev.Query, ev.QType = q.name, qtypeName(q.qtype)
}

// flushDNS emits the queries of f that never got an answer.
func (r *Reader) flushDNS(f *flow) {
	for _, q := range f.dnsState.pending {
		r.emitUnanswered(f, q)
	}
	f.dnsState.pending = nil
}

// parseDNS checks the whole message and keeps the first question and the
// answer section, their texts from t.
func parseDNS(b []byte, m *dnsMsg, t *dnsTexts) error {
	if len(b) < 12 {
		return errDNSShort
	}
	m.id = binary.BigEndian.Uint16(b)
	flags := binary.BigEndian.Uint16(b[2:])
	m.response = flags&0x8000 != 0
	m.rcode = flags & 0x000f
	qd := int(binary.BigEndian.Uint16(b[4:]))
	counts := [3]int{int(binary.BigEndian.Uint16(b[6:])), int(binary.BigEndian.Uint16(b[8:])), int(binary.BigEndian.Uint16(b[10:]))}
	off := 12
	if n := min(counts[0], maxAnswers); n > 0 {
		// one allocation each, not one per doubling
		m.answers, m.ttls = make([]string, 0, n), make([]float64, 0, n)
	}
	var name []byte
	var nameBuf [256]byte
	for i := 0; i < qd; i++ {
		var err error
		name, off, err = readName(b, off, nameBuf[:0])
		if err != nil {
			return fmt.Errorf("question %d: %w", i+1, err)
		}
		if off+4 > len(b) {
			return fmt.Errorf("question %d runs past the message", i+1)
		}
		if i == 0 {
			m.hasQ = true
			m.qname = t.name(name)
			m.qtype = binary.BigEndian.Uint16(b[off:])
		}
		off += 4
	}
	for sec, n := range counts {
		for i := 0; i < n; i++ {
			var err error
			if _, off, err = readName(b, off, nameBuf[:0]); err != nil {
				return fmt.Errorf("%s record %d: %w", sectionNames[sec], i+1, err)
			}
			if off+10 > len(b) {
				return fmt.Errorf("%s record %d runs past the message", sectionNames[sec], i+1)
			}
			typ := binary.BigEndian.Uint16(b[off:])
			ttl := binary.BigEndian.Uint32(b[off+4:])
			rdlen := int(binary.BigEndian.Uint16(b[off+8:]))
			off += 10
			if off+rdlen > len(b) {
				return fmt.Errorf("%s record %d (%s): data length %d runs past the message", sectionNames[sec], i+1, qtypeName(typ), rdlen)
			}
			// the records not kept are checked, but not made into text
			keep := sec == 0 && len(m.answers) < maxAnswers
			var text *dnsTexts
			if keep {
				text = t
			}
			ans, err := rdataText(b, off, rdlen, typ, text)
			if err != nil {
				return fmt.Errorf("%s record %d (%s): %w", sectionNames[sec], i+1, qtypeName(typ), err)
			}
			if keep && ans != "" {
				m.answers = append(m.answers, ans)
				m.ttls = append(m.ttls, float64(ttl))
			}
			off += rdlen
		}
	}
	if len(m.answers) == 0 {
		m.answers, m.ttls = nil, nil // as before the capacity was set
	}
	return nil
}

var sectionNames = [3]string{"answer", "authority", "additional"}

// readName reads a possibly compressed name at off, appending its wire
// labels (length-prefixed) to buf, and returns the offset after it.
func readName(b []byte, off int, buf []byte) ([]byte, int, error) {
	end := -1
	jumps := 0
	wire := 0
	for {
		if off >= len(b) {
			return nil, 0, errNameTrunc
		}
		l := int(b[off])
		switch l & 0xc0 {
		case 0x00:
			if l == 0 {
				if end < 0 {
					end = off + 1
				}
				return buf, end, nil
			}
			if off+1+l > len(b) {
				return nil, 0, errNameTrunc
			}
			wire += l + 1
			if wire > 255 {
				return nil, 0, errNameLong
			}
			buf = append(buf, b[off:off+1+l]...)
			off += 1 + l
		case 0xc0:
			if off+2 > len(b) {
				return nil, 0, errNameTrunc
			}
			ptr := int(binary.BigEndian.Uint16(b[off:]) & 0x3fff)
			if ptr >= len(b) {
				return nil, 0, errNamePtr
			}
			if end < 0 {
				end = off + 2
			}
			jumps++
			if jumps > 64 {
				return nil, 0, errNameLoop
			}
			off = ptr
		default:
			return nil, 0, errNameLabel
		}
	}
}

// nameText renders wire labels as a dotted name in lower case (as Zeek
// logs them), escaping bytes that are not printable and dots inside labels.
func nameText(wire []byte) string {
	if len(wire) == 0 {
		return ""
	}
	var sb strings.Builder
	sb.Grow(len(wire))
	for len(wire) > 0 {
		l := int(wire[0])
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		for _, c := range wire[1 : 1+l] {
			switch {
			case c == '.' || c == '\\':
				sb.WriteByte('\\')
				sb.WriteByte(c)
			case c < 0x21 || c > 0x7e:
				sb.WriteString(`\x`)
				sb.WriteByte(hexDigits[c>>4])
				sb.WriteByte(hexDigits[c&0xf])
			case c >= 'A' && c <= 'Z':
				sb.WriteByte(c + 'a' - 'A')
			default:
				sb.WriteByte(c)
			}
		}
		wire = wire[1+l:]
	}
	return sb.String()
}

const hexDigits = "0123456789abcdef"

// DNS record types named in events.
const (
	typeA     = 1
	typeNS    = 2
	typeCNAME = 5
	typeSOA   = 6
	typePTR   = 12
	typeMX    = 15
	typeTXT   = 16
	typeAAAA  = 28
	typeSRV   = 33
	typeDNAME = 39
	typeOPT   = 41
	typeSVCB  = 64
	typeHTTPS = 65
)

// rdataText checks the record data of the types it knows and renders
// answers the way Zeek's dns.log does: addresses, names, and "TXT n text".
// Types it does not render give "".
//
// With t nil the record is only checked: its text is "" (an answer not
// kept, or a record of another section).
func rdataText(b []byte, off, rdlen int, typ uint16, t *dnsTexts) (string, error) {
	rd := b[off : off+rdlen]
	var nameBuf [256]byte
	nameAt := func(at int) (string, int, error) {
		// Names in record data may point anywhere before, so parse in b.
		name, next, err := readName(b, at, nameBuf[:0])
		if err != nil {
			return "", 0, err
		}
		if next > off+rdlen {
			return "", 0, errRDataShort
		}
		return t.name(name), next, nil
	}
	switch typ {
	case typeA, typeAAAA:
		if typ == typeA && rdlen != 4 || typ == typeAAAA && rdlen != 16 {
			return "", errRDataShort
		}
		return t.addr(rd), nil
	case typeNS, typeCNAME, typePTR, typeDNAME:
		name, next, err := nameAt(off)
		if err != nil {
			return "", err
		}
		if next != off+rdlen {
			return "", fmt.Errorf("record data length %d does not match the name (%d)", rdlen, next-off)
		}
		return name, nil
	case typeMX:
		if rdlen < 3 {
			return "", errRDataShort
		}
		name, next, err := nameAt(off + 2)
		if err != nil {
			return "", err
		}
		if next != off+rdlen {
			return "", fmt.Errorf("record data length %d does not match the exchange name", rdlen)
		}
		return name, nil
	case typeSRV:
		if rdlen < 7 {
			return "", errRDataShort
		}
		name, next, err := nameAt(off + 6)
		if err != nil {
			return "", err
		}
		if next != off+rdlen {
			return "", fmt.Errorf("record data length %d does not match the target name", rdlen)
		}
		return name, nil
	case typeSOA:
		mname, next, err := nameAt(off)
		if err != nil {
			return "", err
		}
		_, next, err = nameAt(next)
		if err != nil {
			return "", err
		}
		if next+20 != off+rdlen {
			return "", fmt.Errorf("record data length %d does not match the SOA fields", rdlen)
		}
		return mname, nil
	case typeTXT:
		var sb strings.Builder
		for p := 0; p < rdlen; {
			l := int(rd[p])
			if p+1+l > rdlen {
				return "", fmt.Errorf("TXT string of %d bytes runs past the record data", l)
			}
			if t == nil {
				p += 1 + l
				continue
			}
			if sb.Len() > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString("TXT ")
			sb.WriteString(strconv.Itoa(l))
			sb.WriteByte(' ')
			writeEscaped(&sb, rd[p+1:p+1+l])
			p += 1 + l
		}
		return sb.String(), nil
	case typeSVCB, typeHTTPS:
		if rdlen < 3 {
			return "", errRDataShort
		}
		target, next, err := nameAt(off + 2)
		if err != nil {
			return "", err
		}
		p := next - off
		for p < rdlen {
			if p+4 > rdlen {
				return "", fmt.Errorf("service parameter header runs past the record data")
			}
			vlen := int(binary.BigEndian.Uint16(rd[p+2:]))
			p += 4 + vlen
			if p > rdlen {
				return "", fmt.Errorf("service parameter of %d bytes runs past the record data (%d bytes)", vlen, rdlen)
			}
		}
		return target, nil
	}
	return "", nil
}

func writeEscaped(sb *strings.Builder, s []byte) {
	for _, c := range s {
		if c < 0x20 || c > 0x7e || c == '\\' {
			sb.WriteString(`\x`)
			sb.WriteByte(hexDigits[c>>4])
			sb.WriteByte(hexDigits[c&0xf])
			continue
		}
		sb.WriteByte(c)
	}
}

var qtypeNames = map[uint16]string{
	1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 13: "HINFO", 15: "MX", 16: "TXT", 17: "RP", 18: "AFSDB",
	24: "SIG", 25: "KEY", 28: "AAAA", 29: "LOC", 33: "SRV", 35: "NAPTR", 37: "CERT", 39: "DNAME", 41: "OPT",
	43: "DS", 44: "SSHFP", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 50: "NSEC3", 51: "NSEC3PARAM", 52: "TLSA",
	59: "CDS", 60: "CDNSKEY", 61: "OPENPGPKEY", 64: "SVCB", 65: "HTTPS", 99: "SPF", 249: "TKEY", 250: "TSIG",
	251: "IXFR", 252: "AXFR", 255: "*", 256: "URI", 257: "CAA",
}

func qtypeName(t uint16) string {
	if n, ok := qtypeNames[t]; ok {
		return n
	}
	return "query-" + strconv.Itoa(int(t))
}

var rcodeNames = [...]string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"}

func rcodeName(c uint16) string {
	if int(c) < len(rcodeNames) {
		return rcodeNames[c]
	}
	return "rcode-" + strconv.Itoa(int(c))
}

// dnsTCP reads length-prefixed DNS messages from both directions.
type dnsTCP struct {
	buf    [2][]byte
	broken [2]bool
}

func (d *dnsTCP) data(r *Reader, f *flow, dir int, b []byte) {
	if d.broken[dir] {
		return
	}
	buf := append(d.buf[dir], b...)
	for len(buf) >= 2 {
		n := int(binary.BigEndian.Uint16(buf))
		if len(buf) < 2+n {
			break
		}
		r.dnsMessage(f, buf[2:2+n])
		buf = buf[2+n:]
	}
	// Keep the partial message at the front of a bounded buffer.
	d.buf[dir] = append(d.buf[dir][:0], buf...)
	if cap(d.buf[dir]) > 2*65537 {
		d.buf[dir] = append([]byte(nil), d.buf[dir]...)
	}
}

func (d *dnsTCP) gap(r *Reader, f *flow, dir int) {
	// Framing is lost: nothing after a hole can be trusted.
	d.broken[dir] = true
	d.buf[dir] = nil
	if d.broken[0] && d.broken[1] {
		f.stopStreams()
	}
}

func (d *dnsTCP) finish(r *Reader, f *flow) {}

// dnsTexts makes the texts of names and addresses in DNS messages, once
// for each distinct one: traffic repeats the same few names and
// addresses, and a looked-up text costs no allocation. Bounded by
// maxDNSTexts; a nil *dnsTexts makes none (the records only checked).
type dnsTexts struct {
	m   map[string]string // kind byte + wire bytes → text
	key []byte
}

const maxDNSTexts = 1 << 16

// name is the text of a name in wire form (length-prefixed labels).
func (t *dnsTexts) name(wire []byte) string {
	if t == nil {
		return ""
	}
	return t.text('n', wire, nameText)
}

// addr is the text of a 4- or 16-byte address.
func (t *dnsTexts) addr(b []byte) string {
	if t == nil {
		return ""
	}
	return t.text('a', b, addrText)
}

func addrText(b []byte) string {
	if len(b) == 4 {
		return netip.AddrFrom4([4]byte(b)).String()
	}
	return netip.AddrFrom16([16]byte(b)).String()
}

func (t *dnsTexts) text(kind byte, raw []byte, build func([]byte) string) string {
	t.key = append(append(t.key[:0], kind), raw...)
	if s, ok := t.m[string(t.key)]; ok {
		return s
	}
	if t.m == nil || len(t.m) >= maxDNSTexts {
		t.m = make(map[string]string)
	}
	s := build(raw)
	t.m[string(t.key)] = s
	return s
}
