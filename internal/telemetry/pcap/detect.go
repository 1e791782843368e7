package pcap

import (
	"bytes"
	"fmt"
)

// app parses the application layer of one TCP flow. data gets the bytes of
// one direction in sequence order; gap says bytes were lost before the
// next data; finish is called once when the flow ends. An app that needs
// nothing more calls f.stopStreams.
type app interface {
	data(r *Reader, f *flow, dir int, b []byte)
	gap(r *Reader, f *flow, dir int)
	finish(r *Reader, f *flow)
}

// maxDetect is how many chunks of payload are looked at to recognise the
// application protocol before the flow is left to byte counting.
const maxDetect = 4

// appData hands in-order stream bytes to the flow's parser, choosing one
// first if need be.
func (r *Reader) appData(f *flow, dir int, b []byte) {
	if f.appDone || len(b) == 0 {
		return
	}
	if f.app == nil {
		f.app = r.detect(f, dir, b)
		if f.app == nil {
			f.detect++
			if f.detect >= maxDetect {
				f.stopStreams()
			}
			return
		}
	}
	f.app.data(r, f, dir, b)
}

func (r *Reader) streamGap(f *flow, dir int) {
	if f.app != nil && !f.appDone {
		f.app.gap(r, f, dir)
	}
}

// detect recognises the protocol of a TCP flow from its first payload, with
// the ports as a hint only where content is ambiguous.
func (r *Reader) detect(f *flow, dir int, b []byte) app {
	origPort, respPort := f.key.ports(f.flipped)
	switch {
	case respPort == 53 || origPort == 53:
		f.service = "dns"
		return &dnsTCP{}
	case looksTLS(b, dir):
		f.service = "ssl"
		return &tlsApp{}
	case dir == fromOrig && looksHTTPRequest(b):
		f.service = "http"
		return &httpApp{}
	case dir == fromOrig && looksSMTPClient(b):
		f.service = "smtp"
		return &smtpApp{}
	case dir == fromResp && bytes.HasPrefix(b, []byte("220")) && smtpBanner(b, respPort):
		f.service = "smtp"
		return &smtpApp{}
	}
	return nil
}

// looksTLS accepts a TLS handshake record carrying a ClientHello (from the
// originator) or a ServerHello (from the responder), and an SSLv2-framed
// ClientHello.
func looksTLS(b []byte, dir int) bool {
	if len(b) >= 6 && b[0] == 22 && b[1] == 3 && b[2] <= 4 {
		if dir == fromOrig {
			return b[5] == hsClientHello
		}
		return b[5] == hsServerHello
	}
	if dir == fromOrig && len(b) >= 5 && b[0]&0x80 != 0 && b[2] == 1 && (b[3] == 3 || b[3] == 2 || b[3] == 0) {
		return true
	}
	return false
}

var httpMethods = []string{"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "TRACE", "PATCH",
	"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "REPORT", "MKACTIVITY",
	"CHECKOUT", "MERGE", "SUBSCRIBE", "UNSUBSCRIBE", "NOTIFY", "MSEARCH", "BPROPFIND", "BPROPPATCH", "POLL", "BMOVE", "BDELETE"}

func isHTTPMethod(m []byte) bool {
	for _, k := range httpMethods {
		if string(m) == k {
			return true
		}
	}
	return false
}

// looksHTTPRequest accepts "METHOD SP target" with a known method, or with
// any upper-case token when the line goes on to name an HTTP/1 version.
func looksHTTPRequest(b []byte) bool {
	sp := bytes.IndexByte(b, ' ')
	if sp <= 0 || sp > 20 || sp+1 >= len(b) || b[sp+1] == ' ' {
		return false
	}
	if isHTTPMethod(b[:sp]) {
		return true
	}
	if !methodToken(b[:sp]) {
		return false
	}
	line := b
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		line = b[:i]
	}
	return bytes.Contains(line, []byte("HTTP/1."))
}

// methodToken accepts the upper-case tokens servers see as methods.
func methodToken(m []byte) bool {
	if len(m) < 3 {
		return false
	}
	for _, c := range m {
		if !(c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func looksSMTPClient(b []byte) bool {
	if len(b) < 5 {
		return false
	}
	cmd := bytes.ToUpper(b[:5])
	return string(cmd) == "EHLO " || string(cmd) == "HELO "
}

func smtpBanner(b []byte, port uint16) bool {
	if port == 25 || port == 587 || port == 2525 {
		return true
	}
	line := b
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		line = b[:i]
	}
	return bytes.Contains(bytes.ToUpper(line), []byte("SMTP"))
}

// udpPacket handles the application layer of UDP datagrams: DNS.
func (r *Reader) udpPacket(f *flow, dir int, pi *packetInfo) {
	origPort, respPort := f.key.ports(f.flipped)
	if !dnsPort(origPort) && !dnsPort(respPort) {
		return
	}
	if len(pi.payload) == 0 {
		return
	}
	f.service = "dns"
	if checkUDP(pi) == sumBad {
		r.recordError(fmt.Errorf("dns: wrong UDP checksum 0x%04x; datagram ignored", pi.udpSum))
		return
	}
	if len(pi.payload) < pi.payloadLen {
		r.recordError(fmt.Errorf("dns: message cut by the capture (%d of %d bytes)", len(pi.payload), pi.payloadLen))
		return
	}
	r.dnsMessage(f, pi.payload)
}

func dnsPort(p uint16) bool { return p == 53 || p == 5353 || p == 5355 }
