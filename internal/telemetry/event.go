// Package telemetry defines Event, the one normalised shape of every network
// record whodunit reads, and the registry that picks a reader for a file by
// sniffing its content.
package telemetry

import (
	"fmt"
	"net/netip"
	"time"
)

// Kind says what an event records.
type Kind uint8

// Event kinds.
const (
	KindOther  Kind = iota
	KindConn        // a connection or flow summary
	KindDNS         // a DNS query and its answers
	KindHTTP        // an HTTP request
	KindTLS         // a TLS handshake (with or without certificate)
	KindX509        // a certificate seen on the wire
	KindFile        // a file transferred
	KindSMTP        // an e-mail transfer
	KindAlert       // an IDS alert
	KindNotice      // a sensor's own notice or anomaly
	KindSSH
)

var kindNames = [...]string{"other", "conn", "dns", "http", "tls", "x509", "file", "smtp", "alert", "notice", "ssh"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// ParseKind reads a kind name as String prints it.
func ParseKind(s string) (Kind, bool) {
	for i, n := range kindNames {
		if n == s {
			return Kind(i), true
		}
	}
	return 0, false
}

// Event is one normalised telemetry record. Readers reuse one Event and its
// slices across calls: string fields may share the reader's buffer and are
// valid only until the next call to Next. Call Clone to keep an event.
type Event struct {
	Kind Kind
	Time time.Time

	// Provenance: the file, and the line (text formats) or packet number
	// (pcap) or byte offset where the record starts.
	File   string
	Line   int64
	Offset int64
	Log    string // sub-log: Zeek _path or log name, EVE event_type

	UID              string // the sensor's connection id, when it has one
	SrcIP, DstIP     netip.Addr
	SrcPort, DstPort uint16
	Proto            string // tcp, udp, icmp …
	Service          string

	// Connection summary (KindConn), also filled by other kinds when known.
	Duration   time.Duration
	SrcBytes   int64
	DstBytes   int64
	SrcPackets int64
	DstPackets int64
	ConnState  string

	// DNS
	Query   string
	QType   string
	RCode   string
	Answers []string // addresses and names, in order (CNAME chains included)
	TTLs    []float64

	// HTTP
	Method     string
	Host       string
	URI        string // path and query as sent
	UserAgent  string
	Referrer   string
	StatusCode int

	// TLS and certificates. Certificate fields describe the server's leaf.
	SNI         string
	JA3, JA3S   string
	TLSVersion  string
	CertSHA1    string // lower-case hex
	CertSHA256  string
	CertSerial  string // lower-case hex without leading zeros
	CertSubject string
	CertIssuer  string
	CertSANs    []string
	CertChain   []string // fingerprint of every certificate in the chain, leaf first: SHA-1 (40 hex) or SHA-256 (64 hex, Zeek ≥ 6 cert_chain_fps)
	NotBefore   time.Time
	NotAfter    time.Time

	// Files
	MD5, SHA1, SHA256 string
	FileName          string
	MIMEType          string
	FileSize          int64

	// E-mail
	MailFrom string
	RcptTo   []string
	From     string
	To       []string
	Subject  string

	// Alerts and notices
	Signature   string
	SignatureID int64
	Severity    int

	// Label and DetailedLabel carry ground truth from labelled datasets
	// (Stratosphere's label / detailed-label columns), for evaluation only.
	Label         string
	DetailedLabel string
}

// Reset clears ev for reuse, keeping slice capacity.
func (ev *Event) Reset() {
	answers, ttls, sans, chain, rcpt, to := ev.Answers[:0], ev.TTLs[:0], ev.CertSANs[:0], ev.CertChain[:0], ev.RcptTo[:0], ev.To[:0]
	*ev = Event{}
	ev.Answers, ev.TTLs, ev.CertSANs, ev.CertChain, ev.RcptTo, ev.To = answers, ttls, sans, chain, rcpt, to
}

// Clone returns a deep copy that owns all its memory.
func (ev *Event) Clone() *Event {
	c := *ev
	for _, p := range []*string{&c.File, &c.Log, &c.UID, &c.Proto, &c.Service, &c.ConnState, &c.Query, &c.QType, &c.RCode,
		&c.Method, &c.Host, &c.URI, &c.UserAgent, &c.Referrer, &c.SNI, &c.JA3, &c.JA3S, &c.TLSVersion,
		&c.CertSHA1, &c.CertSHA256, &c.CertSerial, &c.CertSubject, &c.CertIssuer, &c.MD5, &c.SHA1, &c.SHA256,
		&c.FileName, &c.MIMEType, &c.MailFrom, &c.From, &c.Subject, &c.Signature, &c.Label, &c.DetailedLabel} {
		*p = cloneString(*p)
	}
	c.Answers = cloneStrings(ev.Answers)
	c.TTLs = append([]float64(nil), ev.TTLs...)
	c.CertSANs = cloneStrings(ev.CertSANs)
	c.CertChain = cloneStrings(ev.CertChain)
	c.RcptTo = cloneStrings(ev.RcptTo)
	c.To = cloneStrings(ev.To)
	return &c
}

func cloneString(s string) string {
	if s == "" {
		return ""
	}
	return string(append([]byte(nil), s...))
}

func cloneStrings(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = cloneString(s)
	}
	return out
}

// Position renders the provenance as "file:line" (line or packet number),
// or "file@offset" when only a byte offset is known.
func (ev *Event) Position() string {
	if ev.Line > 0 {
		return fmt.Sprintf("%s:%d", ev.File, ev.Line)
	}
	return fmt.Sprintf("%s@%d", ev.File, ev.Offset)
}
