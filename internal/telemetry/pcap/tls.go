package pcap

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// TLS handshake message types and record content types.
const (
	hsClientHello     = 1
	hsServerHello     = 2
	hsCertificate     = 11
	hsServerHelloDone = 14

	ctChangeCipherSpec = 20
	ctAlert            = 21
	ctHandshake        = 22
	ctApplicationData  = 23
	ctHeartbeat        = 24

	maxRecord = 16384 + 2048 // TLSCiphertext limit

	extServerName        = 0
	extSupportedGroups   = 10
	extECPointFormats    = 11
	extSupportedVersions = 43
)

// tlsDir is one direction of a TLS handshake.
type tlsDir struct {
	rec       []byte // bytes of an incomplete record
	hs        []byte // handshake bytes of an incomplete message
	started   bool
	encrypted bool // after ChangeCipherSpec: handshake records are opaque
	done      bool
}

// tlsApp follows a TLS handshake far enough for the SNI, the JA3 and JA3S
// fingerprints, the negotiated version and the server's certificates.
type tlsApp struct {
	dirs [2]tlsDir

	sawClient, sawServer bool
	helloDone            bool
	clientVersion        uint16
	version              uint16
	sni                  string
	ja3, ja3s            string
	certs                [][]byte
	emitted              bool
}

func (t *tlsApp) data(r *Reader, f *flow, dir int, b []byte) {
	d := &t.dirs[dir]
	if d.done || t.emitted {
		return
	}
	d.rec = append(d.rec, b...)
	p := 0
	for !d.done {
		rest := d.rec[p:]
		if !d.started && dir == fromOrig && len(rest) > 0 && rest[0]&0x80 != 0 {
			// SSLv2-framed ClientHello (two-byte header).
			if len(rest) < 2 {
				break
			}
			n := int(binary.BigEndian.Uint16(rest) & 0x7fff)
			if len(rest) < 2+n {
				if n > maxRecord {
					d.done = true
				}
				break
			}
			t.sslv2Hello(rest[2 : 2+n])
			d.started = true
			p += 2 + n
			continue
		}
		if len(rest) < 5 {
			break
		}
		ct := rest[0]
		n := int(binary.BigEndian.Uint16(rest[3:]))
		if ct < ctChangeCipherSpec || ct > ctHeartbeat || rest[1] != 3 || n > maxRecord {
			d.done = true // not TLS, or we lost the record boundary
			break
		}
		if len(rest) < 5+n {
			break
		}
		d.started = true
		frag := rest[5 : 5+n]
		p += 5 + n
		switch ct {
		case ctHandshake:
			if !d.encrypted {
				t.handshake(r, f, dir, frag)
			}
		case ctChangeCipherSpec:
			d.encrypted = true
		case ctApplicationData:
			d.done = true
		}
	}
	d.rec = append(d.rec[:0], d.rec[p:]...)
	t.maybeEmit(r, f)
}

func (t *tlsApp) gap(r *Reader, f *flow, dir int) {
	t.dirs[dir].done = true
	t.maybeEmit(r, f)
}

func (t *tlsApp) finish(r *Reader, f *flow) {
	if !t.emitted && (t.sawClient || t.sawServer) {
		t.emit(r, f)
	}
}

// serverDone reports that the server sent all it will send in the clear.
func (t *tlsApp) serverDone() bool {
	s := &t.dirs[fromResp]
	return s.done || s.encrypted || t.helloDone || (t.sawServer && t.version == 0x0304)
}

func (t *tlsApp) maybeEmit(r *Reader, f *flow) {
	if !t.emitted && t.sawServer && t.serverDone() {
		t.emit(r, f)
	}
	if t.emitted || (t.dirs[0].done && t.dirs[1].done) {
		if !t.emitted && (t.sawClient || t.sawServer) {
			t.emit(r, f)
		}
		f.stopStreams()
	}
}

// handshake collects handshake messages, which may span records.
func (t *tlsApp) handshake(r *Reader, f *flow, dir int, frag []byte) {
	d := &t.dirs[dir]
	limit := r.opts.MaxStreamBuffer
	d.hs = append(d.hs, frag...)
	for len(d.hs) >= 4 && !d.done {
		typ := d.hs[0]
		n := int(d.hs[1])<<16 | int(d.hs[2])<<8 | int(d.hs[3])
		if len(d.hs) < 4+n {
			if len(d.hs) >= limit {
				// Too large to hold: read the certificates that fit, then stop.
				if typ == hsCertificate && dir == fromResp {
					t.certificates(r, d.hs[4:], true)
				}
				d.done = true
			}
			break
		}
		body := d.hs[4 : 4+n]
		switch {
		case typ == hsClientHello && dir == fromOrig && !t.sawClient:
			if err := t.clientHello(body); err != nil {
				r.recordError(fmt.Errorf("tls: ClientHello: %w", err))
			}
		case typ == hsServerHello && dir == fromResp && !t.sawServer:
			if err := t.serverHello(body); err != nil {
				r.recordError(fmt.Errorf("tls: ServerHello: %w", err))
			}
		case typ == hsCertificate && dir == fromResp && t.certs == nil:
			t.certificates(r, body, false)
		case typ == hsServerHelloDone && dir == fromResp:
			t.helloDone = true
		}
		d.hs = d.hs[4+n:]
	}
	if len(d.hs) == 0 {
		d.hs = nil
	}
}

// reader is a bounds-checked cursor over a handshake message.
type reader struct {
	b   []byte
	bad bool
}

func (c *reader) take(n int) []byte {
	if c.bad || n > len(c.b) {
		c.bad = true
		return nil
	}
	v := c.b[:n]
	c.b = c.b[n:]
	return v
}

func (c *reader) u8() int {
	v := c.take(1)
	if v == nil {
		return 0
	}
	return int(v[0])
}

func (c *reader) u16() int {
	v := c.take(2)
	if v == nil {
		return 0
	}
	return int(binary.BigEndian.Uint16(v))
}

func (c *reader) u24() int {
	v := c.take(3)
	if v == nil {
		return 0
	}
	return int(v[0])<<16 | int(v[1])<<8 | int(v[2])
}

// grease reports the reserved GREASE values (RFC 8701), which JA3 skips.
func grease(v int) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

func appendList(sb *strings.Builder, vals []int) {
	first := true
	for _, v := range vals {
		if grease(v) {
			continue
		}
		if !first {
			sb.WriteByte('-')
		}
		first = false
		sb.WriteString(strconv.Itoa(v))
	}
}

func (t *tlsApp) clientHello(body []byte) error {
	c := reader{b: body}
	version := c.u16()
	c.take(32)
	c.take(c.u8())
	cs := c.take(c.u16())
	c.take(c.u8())
	if c.bad || len(cs)%2 != 0 {
		return fmt.Errorf("cut short")
	}
	var ciphers, exts, groups, formats []int
	for i := 0; i+1 < len(cs); i += 2 {
		ciphers = append(ciphers, int(binary.BigEndian.Uint16(cs[i:])))
	}
	if len(c.b) >= 2 {
		ext := reader{b: c.take(c.u16())}
		for len(ext.b) > 0 && !ext.bad {
			typ := ext.u16()
			val := reader{b: ext.take(ext.u16())}
			if ext.bad {
				break
			}
			exts = append(exts, typ)
			switch typ {
			case extServerName:
				list := reader{b: val.take(val.u16())}
				for len(list.b) > 0 && !list.bad {
					kind := list.u8()
					name := list.take(list.u16())
					if kind == 0 && !list.bad && t.sni == "" {
						var sb strings.Builder
						writeEscaped(&sb, name)
						t.sni = sb.String()
					}
				}
			case extSupportedGroups:
				g := val.take(val.u16())
				for i := 0; i+1 < len(g); i += 2 {
					groups = append(groups, int(binary.BigEndian.Uint16(g[i:])))
				}
			case extECPointFormats:
				for _, v := range val.take(val.u8()) {
					formats = append(formats, int(v))
				}
			}
		}
		if ext.bad || c.bad {
			return fmt.Errorf("extensions cut short")
		}
	}
	var sb strings.Builder
	sb.WriteString(strconv.Itoa(version))
	sb.WriteByte(',')
	appendList(&sb, ciphers)
	sb.WriteByte(',')
	appendList(&sb, exts)
	sb.WriteByte(',')
	appendList(&sb, groups)
	sb.WriteByte(',')
	appendList(&sb, formats)
	t.ja3 = md5hex(sb.String())
	t.clientVersion = uint16(version)
	t.sawClient = true
	return nil
}

// sslv2Hello reads the version of an SSLv2-framed ClientHello. JA3 is not
// defined for it.
func (t *tlsApp) sslv2Hello(msg []byte) {
	if len(msg) < 3 || msg[0] != 1 {
		return
	}
	t.clientVersion = binary.BigEndian.Uint16(msg[1:])
	t.sawClient = true
}

func (t *tlsApp) serverHello(body []byte) error {
	c := reader{b: body}
	version := c.u16()
	c.take(32)
	c.take(c.u8())
	cipher := c.u16()
	c.take(1)
	if c.bad {
		return fmt.Errorf("cut short")
	}
	var exts []int
	selected := 0
	if len(c.b) >= 2 {
		ext := reader{b: c.take(c.u16())}
		for len(ext.b) > 0 && !ext.bad {
			typ := ext.u16()
			val := reader{b: ext.take(ext.u16())}
			if ext.bad {
				break
			}
			exts = append(exts, typ)
			if typ == extSupportedVersions && len(val.b) == 2 {
				selected = val.u16()
			}
		}
		if ext.bad || c.bad {
			return fmt.Errorf("extensions cut short")
		}
	}
	var sb strings.Builder
	sb.WriteString(strconv.Itoa(version))
	sb.WriteByte(',')
	sb.WriteString(strconv.Itoa(cipher))
	sb.WriteByte(',')
	appendList(&sb, exts)
	t.ja3s = md5hex(sb.String())
	t.version = uint16(version)
	if selected != 0 {
		t.version = uint16(selected)
	}
	t.sawServer = true
	return nil
}

// certificates copies the DER certificates of a TLS 1.0–1.2 Certificate
// message; partial says the message was cut and its last entry may be too.
func (t *tlsApp) certificates(r *Reader, body []byte, partial bool) {
	c := reader{b: body}
	total := c.u24()
	if !partial && total != len(c.b) {
		r.recordError(fmt.Errorf("tls: Certificate message length %d does not match its list (%d)", len(c.b), total))
	}
	t.certs = [][]byte{}
	for len(c.b) >= 3 && len(t.certs) < 16 {
		der := c.take(c.u24())
		if c.bad {
			if !partial {
				r.recordError(fmt.Errorf("tls: certificate %d runs past its message", len(t.certs)+1))
			}
			return
		}
		t.certs = append(t.certs, append([]byte(nil), der...))
	}
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// emit produces the ssl event: client and server hello facts and the leaf
// certificate's fields, with the SHA-1 of every certificate in the chain.
func (t *tlsApp) emit(r *Reader, f *flow) {
	t.emitted = true
	// Read the leaf before emitting so that its error comes out first.
	var leaf *leafFacts
	var leafSum [32]byte
	if len(t.certs) > 0 {
		leafSum = sha256.Sum256(t.certs[0])
		if leaf = r.leaves.of(t.certs[0], leafSum); leaf.err != nil {
			r.recordError(fmt.Errorf("tls: server certificate: %w", leaf.err))
		}
	}
	ev := r.emit(f, telemetry.KindTLS, "ssl")
	ev.SNI = t.sni
	ev.JA3, ev.JA3S = t.ja3, t.ja3s
	v := t.version
	if v == 0 {
		v = t.clientVersion
	}
	ev.TLSVersion = versionName(v)
	for i, der := range t.certs {
		s1 := sha1.Sum(der)
		ev.CertChain = append(ev.CertChain, hex.EncodeToString(s1[:]))
		if i == 0 {
			ev.CertSHA1 = ev.CertChain[0]
			ev.CertSHA256 = hex.EncodeToString(leafSum[:])
		}
	}
	if leaf != nil && leaf.err == nil {
		ev.CertSerial, ev.CertSubject, ev.CertIssuer = leaf.serial, leaf.subject, leaf.issuer
		ev.NotBefore, ev.NotAfter = leaf.notBefore, leaf.notAfter
		ev.CertSANs = append(ev.CertSANs, leaf.sans...)
	}
}

// leafFacts is what an event carries of a leaf certificate, or why it
// could not be parsed.
type leafFacts struct {
	serial, subject, issuer string
	notBefore, notAfter     time.Time
	sans                    []string
	err                     error
}

// leafCache parses each distinct leaf certificate once: servers present
// the same certificate in every handshake, and parsing it was most of the
// cost of a TLS flow. Bounded by maxLeaves (emptied when full).
type leafCache map[[32]byte]*leafFacts

const maxLeaves = 4096

// of is the facts of der, whose SHA-256 is sum.
func (c *leafCache) of(der []byte, sum [32]byte) *leafFacts {
	if lf, ok := (*c)[sum]; ok {
		return lf
	}
	if *c == nil || len(*c) >= maxLeaves {
		*c = make(leafCache)
	}
	lf := parseLeaf(der)
	(*c)[sum] = lf
	return lf
}

func parseLeaf(der []byte) *leafFacts {
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return &leafFacts{err: err}
	}
	lf := &leafFacts{serial: strings.ToLower(leaf.SerialNumber.Text(16)), subject: dnString(leaf.RawSubject),
		issuer: dnString(leaf.RawIssuer), notBefore: leaf.NotBefore.UTC(), notAfter: leaf.NotAfter.UTC()}
	lf.sans = append(lf.sans, leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		lf.sans = append(lf.sans, ip.String())
	}
	return lf
}

func versionName(v uint16) string {
	switch v {
	case 0:
		return ""
	case 0x0002:
		return "SSLv2"
	case 0x0300:
		return "SSLv3"
	case 0x0301:
		return "TLSv10"
	case 0x0302:
		return "TLSv11"
	case 0x0303:
		return "TLSv12"
	case 0x0304:
		return "TLSv13"
	case 0xfeff:
		return "DTLSv10"
	case 0xfefd:
		return "DTLSv12"
	}
	if v>>8 == 0x7f {
		return "TLSv13-draft" + strconv.Itoa(int(v&0xff))
	}
	return "unknown-" + strconv.Itoa(int(v))
}
