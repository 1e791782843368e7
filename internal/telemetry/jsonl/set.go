package jsonl

import (
	"fmt"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/internal/textval"
)

// compile resolves the field names of m.
func (m Mapping) compile() ([]Entry, error) {
	if m.Empty() {
		return nil, fmt.Errorf("no field mapping given")
	}
	out := make([]Entry, len(m.Entries))
	for i, e := range m.Entries {
		id, ok := fieldNames[e.Field]
		if !ok {
			return nil, fmt.Errorf("unknown event field %q in mapping", e.Field)
		}
		e.id = id
		out[i] = e
	}
	return out, nil
}

func bad(e *Entry, s, what string) error {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return fmt.Errorf("%s (from %s): %s %q", e.Field, e.Source, what, strings.Clone(s))
}

// set stores the text s of entry e into ev. List fields append; a scalar
// field given several values keeps the first.
func set(a *textval.Arena, ev *telemetry.Event, e *Entry, s string, kindSet *bool) error {
	if s == "" {
		return nil
	}
	switch e.id {
	case fTime, fNotBefore, fNotAfter:
		t, ok := parseTime(s)
		if !ok {
			return bad(e, s, "not a timestamp")
		}
		switch e.id {
		case fTime:
			ev.Time = t
		case fNotBefore:
			ev.NotBefore = t
		default:
			ev.NotAfter = t
		}
	case fKind:
		k, ok := kindByName(strings.ToLower(s))
		if !ok {
			return bad(e, s, "not an event kind")
		}
		ev.Kind = k
		*kindSet = true
	case fLog:
		ev.Log = s
	case fUID:
		ev.UID = s
	case fSrcIP, fDstIP:
		ip, ok := textval.Addr(s)
		if !ok {
			return bad(e, s, "not an IP address")
		}
		if e.id == fSrcIP {
			ev.SrcIP = ip
		} else {
			ev.DstIP = ip
		}
	case fSrcPort, fDstPort:
		p, ok := textval.Port(s)
		if !ok {
			return bad(e, s, "not a port")
		}
		if e.id == fSrcPort {
			ev.SrcPort = p
		} else {
			ev.DstPort = p
		}
	case fProto:
		ev.Proto = textval.Lower(a, s)
	case fService:
		ev.Service = s
	case fDuration:
		d, ok := textval.Seconds(s)
		if !ok {
			return bad(e, s, "not a duration in seconds")
		}
		ev.Duration = d
	case fSrcBytes, fDstBytes, fSrcPackets, fDstPackets, fFileSize, fStatusCode, fSignatureID, fSeverity:
		n, ok := textval.Int(s)
		if !ok {
			return bad(e, s, "not an integer")
		}
		switch e.id {
		case fSrcBytes:
			ev.SrcBytes = n
		case fDstBytes:
			ev.DstBytes = n
		case fSrcPackets:
			ev.SrcPackets = n
		case fDstPackets:
			ev.DstPackets = n
		case fFileSize:
			ev.FileSize = n
		case fStatusCode:
			ev.StatusCode = int(n)
		case fSignatureID:
			ev.SignatureID = n
		case fSeverity:
			ev.Severity = int(n)
		}
	case fConnState:
		ev.ConnState = s
	case fQuery:
		ev.Query = s
	case fQType:
		ev.QType = s
	case fRCode:
		ev.RCode = s
	case fAnswers:
		ev.Answers = append(ev.Answers, s)
	case fTTLs:
		f, ok := textval.Float(s)
		if !ok {
			return bad(e, s, "not a number")
		}
		ev.TTLs = append(ev.TTLs, f)
	case fMethod:
		ev.Method = s
	case fHost:
		ev.Host = s
	case fURI:
		ev.URI = s
	case fURL:
		host, uri := splitURL(s)
		if ev.Host == "" {
			ev.Host = host
		}
		if ev.URI == "" {
			ev.URI = uri
		}
	case fUserAgent:
		ev.UserAgent = s
	case fReferrer:
		ev.Referrer = s
	case fSNI:
		ev.SNI = s
	case fJA3, fJA3S, fCertSHA1, fCertSHA256, fMD5, fSHA1, fSHA256, fCertChain:
		h, ok := textval.Hex(a, s)
		if !ok {
			return bad(e, s, "not hex")
		}
		switch e.id {
		case fJA3:
			ev.JA3 = h
		case fJA3S:
			ev.JA3S = h
		case fCertSHA1:
			ev.CertSHA1 = h
		case fCertSHA256:
			ev.CertSHA256 = h
		case fMD5:
			ev.MD5 = h
		case fSHA1:
			ev.SHA1 = h
		case fSHA256:
			ev.SHA256 = h
		case fCertChain:
			ev.CertChain = append(ev.CertChain, h)
		}
	case fTLSVersion:
		ev.TLSVersion = s
	case fCertSerial:
		h, ok := textval.Serial(a, s)
		if !ok {
			return bad(e, s, "not a hex serial number")
		}
		ev.CertSerial = h
	case fCertSubject:
		ev.CertSubject = s
	case fCertIssuer:
		ev.CertIssuer = s
	case fCertSANs:
		ev.CertSANs = append(ev.CertSANs, s)
	case fFileName:
		ev.FileName = s
	case fMIMEType:
		ev.MIMEType = s
	case fMailFrom:
		ev.MailFrom = s
	case fRcptTo:
		ev.RcptTo = append(ev.RcptTo, s)
	case fFrom:
		ev.From = s
	case fTo:
		ev.To = append(ev.To, s)
	case fSubject:
		ev.Subject = s
	case fSignature:
		ev.Signature = s
	case fLabel:
		ev.Label = s
	case fDetailedLabel:
		ev.DetailedLabel = s
	}
	return nil
}

// splitURL splits "scheme://host:port/path?q" into host and path+query.
func splitURL(s string) (host, uri string) {
	rest := s
	if i := strings.Index(s, "://"); i >= 0 {
		rest = s[i+3:]
	} else if strings.HasPrefix(s, "/") {
		return "", s
	}
	host, uri = rest, "/"
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host, uri = rest[:i], rest[i:]
		if uri[0] != '/' {
			uri = rest[i:]
		}
	}
	if at := strings.LastIndexByte(host, '@'); at >= 0 {
		host = host[at+1:]
	}
	if strings.HasPrefix(host, "[") {
		if j := strings.IndexByte(host, ']'); j > 0 {
			return host[1:j], uri
		}
	}
	if j := strings.LastIndexByte(host, ':'); j >= 0 && strings.Count(host, ":") == 1 {
		host = host[:j]
	}
	return host, uri
}

// parseTime reads ISO 8601 or epoch time. Epoch numbers are taken as
// seconds, or milli-, micro- or nanoseconds when too large to be seconds.
func parseTime(s string) (time.Time, bool) {
	if len(s) >= 10 && s[4] == '-' {
		return textval.ISOTime(s)
	}
	f, ok := textval.Float(s)
	if !ok {
		return time.Time{}, false
	}
	switch {
	case f > 1e17 || f < -1e17:
		if n, ok := textval.Int(s); ok {
			return time.Unix(0, n).UTC(), true
		}
		return time.Unix(0, int64(f)).UTC(), true
	case f > 1e14 || f < -1e14:
		return time.UnixMicro(int64(f)).UTC(), true
	case f > 1e11 || f < -1e11:
		return time.UnixMilli(int64(f)).UTC(), true
	}
	return textval.EpochTime(s)
}

// kindByName accepts kind names as telemetry prints them plus the log
// names of common sensors.
func kindByName(s string) (telemetry.Kind, bool) {
	if k, ok := telemetry.ParseKind(s); ok {
		return k, true
	}
	switch s {
	case "flow", "netflow", "connection", "traffic":
		return telemetry.KindConn, true
	case "ssl":
		return telemetry.KindTLS, true
	case "files", "fileinfo":
		return telemetry.KindFile, true
	case "email", "mail":
		return telemetry.KindSMTP, true
	case "weird", "anomaly":
		return telemetry.KindNotice, true
	}
	return 0, false
}

// inferKind guesses the kind from the fields a record filled, when the
// mapping does not name one.
func inferKind(ev *telemetry.Event) telemetry.Kind {
	switch {
	case ev.Signature != "" || ev.SignatureID != 0:
		return telemetry.KindAlert
	case ev.Query != "":
		return telemetry.KindDNS
	case ev.SNI != "" || ev.JA3 != "" || ev.JA3S != "" || ev.CertSHA1 != "" || ev.CertSHA256 != "" || ev.CertSerial != "":
		return telemetry.KindTLS
	case ev.Method != "" || ev.URI != "" || ev.UserAgent != "" || ev.Host != "":
		return telemetry.KindHTTP
	case ev.MD5 != "" || ev.SHA1 != "" || ev.SHA256 != "":
		return telemetry.KindFile
	case ev.MailFrom != "" || len(ev.RcptTo) > 0 || ev.Subject != "":
		return telemetry.KindSMTP
	case ev.SrcIP.IsValid() || ev.DstIP.IsValid():
		return telemetry.KindConn
	}
	return telemetry.KindOther
}
