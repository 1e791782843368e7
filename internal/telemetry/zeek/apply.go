package zeek

import (
	"fmt"
	"strings"

	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/internal/textval"
)

// fieldError is one column that could not be decoded.
type fieldError struct {
	field string
	value string
	what  string
}

func (e *fieldError) Error() string {
	v := e.value
	if len(v) > 64 {
		v = v[:64] + "…"
	}
	return fmt.Sprintf("field %s: %s %q", e.field, e.what, v)
}

func bad(field, value, what string) error {
	// field and value may alias the reader's buffer: copy them
	return &fieldError{field: strings.Clone(field), value: strings.Clone(value), what: what}
}

// setScalar stores one decoded value s of column field into ev.
func setScalar(a *textval.Arena, ev *telemetry.Event, t target, field, s string) error {
	switch t {
	case tTS:
		tm, ok := textval.Time(s)
		if !ok {
			return bad(field, s, "not a timestamp")
		}
		ev.Time = tm
	case tUID:
		ev.UID = s
	case tOrigH, tRespH, tNoticeSrc, tNoticeDst, tHostAddr:
		ip, ok := textval.Addr(s)
		if !ok {
			return bad(field, s, "not an IP address")
		}
		switch t {
		case tOrigH, tHostAddr:
			ev.SrcIP = ip
		case tRespH:
			ev.DstIP = ip
		case tNoticeSrc:
			if !ev.SrcIP.IsValid() {
				ev.SrcIP = ip
			}
		case tNoticeDst:
			if !ev.DstIP.IsValid() {
				ev.DstIP = ip
			}
		}
	case tOrigP, tRespP, tNoticeP, tHostPort:
		p, ok := textval.Port(s)
		if !ok {
			return bad(field, s, "not a port")
		}
		switch t {
		case tOrigP, tHostPort:
			ev.SrcPort = p
		case tRespP:
			ev.DstPort = p
		case tNoticeP:
			if ev.DstPort == 0 {
				ev.DstPort = p
			}
		}
	case tProto:
		ev.Proto = s
	case tService:
		ev.Service = s
	case tDuration:
		d, ok := textval.Seconds(s)
		if !ok {
			return bad(field, s, "not an interval")
		}
		ev.Duration = d
	case tOrigBytes, tRespBytes, tOrigPkts, tRespPkts, tTotalBytes, tSeenBytes, tStatusCode:
		n, ok := textval.Int(s)
		if !ok {
			return bad(field, s, "not a count")
		}
		switch t {
		case tOrigBytes:
			ev.SrcBytes = n
		case tRespBytes:
			ev.DstBytes = n
		case tOrigPkts:
			ev.SrcPackets = n
		case tRespPkts:
			ev.DstPackets = n
		case tTotalBytes:
			ev.FileSize = n
		case tSeenBytes:
			if ev.FileSize == 0 {
				ev.FileSize = n
			}
		case tStatusCode:
			ev.StatusCode = int(n)
		}
	case tConnState:
		ev.ConnState = s
	case tQuery:
		ev.Query = s
	case tQType:
		ev.QType = s
	case tRCode:
		ev.RCode = s
	case tMethod:
		ev.Method = s
	case tHost:
		ev.Host = s
	case tURI:
		ev.URI = s
	case tUserAgent:
		ev.UserAgent = s
	case tReferrer:
		ev.Referrer = s
	case tSNI:
		ev.SNI = s
	case tJA3, tJA3S, tMD5, tSHA1, tSHA256:
		h, ok := textval.Hex(a, s)
		if !ok {
			return bad(field, s, "not hex")
		}
		switch t {
		case tJA3:
			ev.JA3 = h
		case tJA3S:
			ev.JA3S = h
		case tMD5:
			ev.MD5 = h
		case tSHA1:
			ev.SHA1 = h
		case tSHA256:
			ev.SHA256 = h
		}
	case tTLSVersion:
		ev.TLSVersion = s
	case tCertSubject:
		ev.CertSubject = s
	case tCertIssuer:
		ev.CertIssuer = s
	case tFingerprint:
		h, ok := textval.Hex(a, s)
		if !ok {
			return bad(field, s, "not hex")
		}
		setCertHash(ev, h)
	case tSerial:
		h, ok := textval.Serial(a, s)
		if !ok {
			return bad(field, s, "not a hex serial number")
		}
		ev.CertSerial = h
	case tNotBefore, tNotAfter:
		tm, ok := textval.Time(s)
		if !ok {
			return bad(field, s, "not a timestamp")
		}
		if t == tNotBefore {
			ev.NotBefore = tm
		} else {
			ev.NotAfter = tm
		}
	case tFileName:
		ev.FileName = s
	case tMIMEType:
		ev.MIMEType = s
	case tMailFrom:
		ev.MailFrom = s
	case tFrom:
		ev.From = s
	case tSubject:
		ev.Subject = s
	case tSignature:
		ev.Signature = s
	case tLabel:
		ev.Label = s
	case tDetailedLabel:
		ev.DetailedLabel = s
	default:
		if t.isList() {
			return setElem(a, ev, t, field, s)
		}
	}
	return nil
}

// setElem stores one element of a set or vector column.
func setElem(a *textval.Arena, ev *telemetry.Event, t target, field, s string) error {
	switch t {
	case tAnswers:
		ev.Answers = append(ev.Answers, s)
	case tTTLs:
		f, ok := textval.Float(s)
		if !ok {
			return bad(field, s, "not an interval")
		}
		ev.TTLs = append(ev.TTLs, f)
	case tCertChainFps:
		h, ok := textval.Hex(a, s)
		if !ok {
			return bad(field, s, "not hex")
		}
		if len(ev.CertChain) == 0 {
			setCertHash(ev, h)
		}
		ev.CertChain = append(ev.CertChain, h)
	case tSANs:
		ev.CertSANs = append(ev.CertSANs, s)
	case tRcptTo:
		ev.RcptTo = append(ev.RcptTo, s)
	case tTo:
		ev.To = append(ev.To, s)
	case tTxHosts, tRxHosts:
		ip, ok := textval.Addr(s)
		if !ok {
			return bad(field, s, "not an IP address")
		}
		if t == tTxHosts && !ev.SrcIP.IsValid() {
			ev.SrcIP = ip
		} else if t == tRxHosts && !ev.DstIP.IsValid() {
			ev.DstIP = ip
		}
	case tConnUIDs:
		if ev.UID == "" {
			ev.UID = s
		}
	case tFileNames:
		if ev.FileName == "" {
			ev.FileName = s
		}
	case tMIMETypes:
		if ev.MIMEType == "" {
			ev.MIMEType = s
		}
	default:
		// a list where a scalar was expected: keep the first element
		return setScalar(a, ev, t, field, s)
	}
	return nil
}

// setCertHash files a certificate fingerprint by its length.
func setCertHash(ev *telemetry.Event, h string) {
	switch len(h) {
	case 64:
		ev.CertSHA256 = h
	case 40:
		ev.CertSHA1 = h
	}
}
