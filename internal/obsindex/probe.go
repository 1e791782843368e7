package obsindex

import (
	"net/netip"

	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// Event puts the observation's value back where telemetry carried it, so
// that the matcher answers with its own semantics (subdomains, CIDR
// ranges, URL forms) and names the same field. With r the event is that
// record (time, position, addresses, ports); without, it has no time, so
// no validity window filters it. False for a field the index does not
// know.
func (o *Observation) Event(r *Record) (*telemetry.Event, bool) {
	kind, f, ok := parseField(o.Field)
	if !ok {
		return nil, false
	}
	ev := &telemetry.Event{Kind: kind}
	if r != nil {
		ev.Time, ev.File, ev.Line, ev.Offset = r.Time, r.File, r.Line, r.Offset
		ev.SrcIP, ev.DstIP, ev.SrcPort, ev.DstPort = r.SrcIP, r.DstIP, r.SrcPort, r.DstPort
	}
	v := o.Value
	switch f {
	case fSrcIP, fDstIP:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, false
		}
		if f == fSrcIP {
			ev.SrcIP = a
		} else {
			ev.DstIP = a
		}
	case fURL:
		// the absolute form: the matcher takes host and port from it
		ev.URI = v
	default:
		setString(ev, f, v)
	}
	return ev, true
}

// setString sets the string field f of ev to v.
func setString(ev *telemetry.Event, f field, v string) {
	switch f {
	case fQuery:
		ev.Query = v
	case fAnswer:
		ev.Answers = []string{v}
	case fHost:
		ev.Host = v
	case fSNI:
		ev.SNI = v
	case fJA3:
		ev.JA3 = v
	case fJA3S:
		ev.JA3S = v
	case fCertSHA1:
		ev.CertSHA1 = v
	case fCertSHA256:
		ev.CertSHA256 = v
	case fCertChain:
		ev.CertChain = []string{v}
	case fCertSerial:
		ev.CertSerial = v
	case fCertSAN:
		ev.CertSANs = []string{v}
	case fMD5:
		ev.MD5 = v
	case fSHA1:
		ev.SHA1 = v
	case fSHA256:
		ev.SHA256 = v
	case fMailFrom:
		ev.MailFrom = v
	case fRcptTo:
		ev.RcptTo = []string{v}
	case fFrom:
		ev.From = v
	case fTo:
		ev.To = []string{v}
	}
}
