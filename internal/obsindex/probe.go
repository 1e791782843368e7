package obsindex

import (
	"net/netip"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// Event puts the observation's value back where telemetry carried it, so
// that the matcher answers with its own semantics (subdomains, CIDR
// ranges, URL forms) and names the same field. With r the event is that
// record (time, position, addresses, ports); without, it has no time, so
// no validity window filters it. False for a field the index does not
// know.
func (o *Observation) Event(r *Record) (*telemetry.Event, bool) {
	return new(Prober).Event(o, r)
}

// Prober makes the events of Observation.Event in memory of its own, so
// that a retro-hunt probing millions of values allocates none: an event
// is valid until the next call. One per goroutine.
type Prober struct {
	ev  telemetry.Event
	one [1]string // the list of a list-valued field
}

// Event is Observation.Event, in p's memory.
func (p *Prober) Event(o *Observation, r *Record) (*telemetry.Event, bool) {
	kind, f, ok := parseField(o.Field)
	if !ok {
		return nil, false
	}
	p.ev = telemetry.Event{Kind: kind}
	ev := &p.ev
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
		v = nameNotAddress(f, o.Type, v)
		p.one[0] = v
		setString(ev, f, v, p.one[:])
	}
	return ev, true
}

// setString sets the string field f of ev to v; list is v alone, for a
// list-valued field.
func setString(ev *telemetry.Event, f field, v string, list []string) {
	switch f {
	case fQuery:
		ev.Query = v
	case fAnswer:
		ev.Answers = list
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
		ev.CertChain = list
	case fCertSerial:
		ev.CertSerial = v
	case fCertSAN:
		ev.CertSANs = list
	case fMD5:
		ev.MD5 = v
	case fSHA1:
		ev.SHA1 = v
	case fSHA256:
		ev.SHA256 = v
	case fMailFrom:
		ev.MailFrom = v
	case fRcptTo:
		ev.RcptTo = list
	case fFrom:
		ev.From = v
	case fTo:
		ev.To = list
	}
}

// nameNotAddress keeps a name that reads as an address a name in a
// host-like field: the matcher read "0.0.0.0." as a domain, while
// "0.0.0.0" would be taken for the address.
func nameNotAddress(f field, t intel.ValueType, v string) string {
	if t != intel.Domain || f != fAnswer && f != fHost && f != fSNI && f != fCertSAN {
		return v
	}
	if a, _ := splitHost(v); a.IsValid() {
		return v + "."
	}
	return v
}
