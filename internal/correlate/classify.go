package correlate

import (
	"net/netip"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// kindOf maps an indicator value type to an infrastructure kind.
func kindOf(t intel.ValueType) string {
	switch t {
	case intel.IPv4, intel.IPv6, intel.CIDR:
		return "ip"
	case intel.Domain:
		return "domain"
	case intel.URL, intel.URIPath:
		return "url"
	case intel.X509SHA1, intel.X509SHA256, intel.X509Serial:
		return "cert"
	case intel.JA3, intel.JA3S:
		return "ja3"
	case intel.MD5, intel.SHA1, intel.SHA256, intel.SHA512, intel.FileName:
		return "hash"
	case intel.Email, intel.EmailSubj:
		return "email"
	case intel.UserAgent:
		return "user-agent"
	}
	return string(t)
}

// endpoint says, for one sighting, which host is the victim and which
// value is the adversary's.
type endpoint struct {
	victim netip.Addr
	infra  string
	kind   string
	role   string
	why    string
	peerIP netip.Addr // the other side's address when the infra is a name
}

func (c Config) classify(s *match.Sighting, ind *intel.Object, assets *Assets) (endpoint, bool) {
	t := s.Type
	if t == "" {
		// a STIX pattern matched: the kind is that of the value it named
		t = intel.Detect(s.Value)
	}
	e := endpoint{infra: s.Value, kind: kindOf(t)}
	srcIn, dstIn := c.IsInternal(s.SrcIP, assets), c.IsInternal(s.DstIP, assets)
	switch {
	case e.kind == "ip" && s.Direction == "src":
		// The adversary's address talked to us first: an inbound hop point
		// or scanner.
		e.victim, e.role, e.why = s.DstIP, RoleHopPoint, "connected inbound to the victim"
	case e.kind == "ip":
		e.victim = s.SrcIP
		if !srcIn && dstIn {
			e.victim = s.DstIP
		}
		e.role, e.why = RoleC2, "contacted by the victim"
	case e.kind == "hash" || e.kind == "email":
		e.victim, e.role, e.why = s.DstIP, RoleDelivery, "delivered a file or message to the victim"
		if !dstIn && srcIn {
			e.victim = s.SrcIP
		}
		if s.Kind == telemetry.KindFile || s.Kind == telemetry.KindHTTP {
			e.peerIP = s.SrcIP
		}
	default: // names, URLs, certificates, JA3: the victim is the client
		e.victim, e.role, e.why = s.SrcIP, RoleC2, "contacted by the victim"
		e.peerIP = s.DstIP
		if !srcIn && dstIn {
			e.victim, e.peerIP = s.DstIP, s.SrcIP
		}
	}
	if ind != nil {
		if r, why := roleFromIntel(ind); r != "" {
			e.role, e.why = r, why
		}
	}
	if !e.victim.IsValid() {
		return e, false
	}
	if s.Kind == telemetry.KindDNS && e.kind == "domain" {
		e.peerIP = netip.Addr{} // the DNS server is not the adversary's
	}
	return e, true
}

// roleFromIntel reads a role from what the intelligence says about an
// indicator: its kill-chain phases, labels and name.
func roleFromIntel(o *intel.Object) (string, string) {
	text := strings.ToLower(o.Name + " " + strings.Join(o.Labels, " "))
	for _, k := range o.KillChain {
		text += " " + strings.ToLower(k.PhaseName)
	}
	switch {
	case strings.Contains(text, "hop point") || strings.Contains(text, "hop-point"):
		return RoleHopPoint, "the intelligence calls it a hop point"
	case strings.Contains(text, "command-and-control") || strings.Contains(text, "command and control") || strings.Contains(text, " c2") || strings.HasPrefix(text, "c2"):
		return RoleC2, "the intelligence calls it command and control"
	case strings.Contains(text, "delivery") || strings.Contains(text, "phishing"):
		return RoleDelivery, "the intelligence calls it delivery"
	}
	return "", ""
}
