package obsindex

import (
	"net/netip"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// field is an event field the index keeps; the names are the matcher's
// ("<kind>.<suffix>", see match.FieldNames).
type field uint8

const (
	fSrcIP field = iota
	fDstIP
	fQuery
	fAnswer
	fHost
	fURL
	fSNI
	fJA3
	fJA3S
	fCertSHA1
	fCertSHA256
	fCertChain
	fCertSerial
	fCertSAN
	fMD5
	fSHA1
	fSHA256
	fMailFrom
	fRcptTo
	fFrom
	fTo
	numFields
)

var fieldSuffix = [numFields]string{"src_ip", "dst_ip", "query", "answer", "host", "url", "sni", "ja3", "ja3s",
	"cert_sha1", "cert_sha256", "cert_chain", "cert_serial", "cert_san", "md5", "sha1", "sha256",
	"mailfrom", "rcptto", "from", "to"}

// fixedType is the value type of fields that hold one type only; host-like
// fields (a domain or an address) are typed per value.
var fixedType = [numFields]intel.ValueType{fQuery: intel.Domain, fURL: intel.URL, fJA3: intel.JA3, fJA3S: intel.JA3S,
	fCertSHA1: intel.X509SHA1, fCertSHA256: intel.X509SHA256, fCertSerial: intel.X509Serial,
	fMD5: intel.MD5, fSHA1: intel.SHA1, fSHA256: intel.SHA256,
	fMailFrom: intel.Email, fRcptTo: intel.Email, fFrom: intel.Email, fTo: intel.Email}

const maxKinds = 16

// fieldNames[kind][field] is "<kind>.<suffix>", as the matcher names it.
var fieldNames = func() (t [maxKinds][numFields]string) {
	for k := range t {
		kind := telemetry.Kind(k).String()
		if strings.HasPrefix(kind, "kind(") {
			kind = "other"
		}
		for f := range t[k] {
			t[k][f] = kind + "." + fieldSuffix[f]
		}
	}
	return t
}()

// parseField splits a field name into its kind and field.
func parseField(name string) (telemetry.Kind, field, bool) {
	kind, suffix, ok := strings.Cut(name, ".")
	if !ok {
		return 0, 0, false
	}
	k, ok := telemetry.ParseKind(kind)
	if !ok && kind == "other" {
		k, ok = telemetry.KindOther, true
	}
	if !ok {
		return 0, 0, false
	}
	for f, s := range fieldSuffix {
		if s == suffix {
			return k, field(f), true
		}
	}
	return 0, 0, false
}

// visit hands every indexed value of ev to c, as the matcher reads them.
// The string fields are tested one by one, not gathered in a table
// first: building that table for every event was a seventh of the
// collector's time.
func visit(ev *telemetry.Event, c *Collector) {
	if ev.SrcIP.IsValid() {
		c.ip(fSrcIP, ev.SrcIP)
	}
	if ev.DstIP.IsValid() {
		c.ip(fDstIP, ev.DstIP)
	}
	if ev.Query != "" {
		c.str(fQuery, ev.Query)
	}
	for _, a := range ev.Answers {
		c.host(fAnswer, a)
	}
	if ev.Host != "" {
		c.host(fHost, ev.Host)
	}
	if ev.Host != "" || strings.Contains(ev.URI, "://") {
		c.url(ev.Host, ev.URI)
	}
	if ev.SNI != "" {
		c.host(fSNI, ev.SNI)
	}
	visitStrings(ev, c)
	for _, fp := range ev.CertChain {
		// the leaf is in CertSHA1/CertSHA256 already, as the matcher reports it
		if fp != "" && !strings.EqualFold(fp, ev.CertSHA1) && !strings.EqualFold(fp, ev.CertSHA256) {
			c.str(fCertChain, fp)
		}
	}
	for _, san := range ev.CertSANs {
		c.host(fCertSAN, san)
	}
	for _, a := range ev.RcptTo {
		c.str(fRcptTo, a)
	}
	for _, a := range ev.To {
		c.str(fTo, a)
	}
}

// visitStrings hands ev's single-valued string fields to c.
func visitStrings(ev *telemetry.Event, c *Collector) {
	strField(c, fJA3, ev.JA3)
	strField(c, fJA3S, ev.JA3S)
	strField(c, fCertSHA1, ev.CertSHA1)
	strField(c, fCertSHA256, ev.CertSHA256)
	strField(c, fCertSerial, ev.CertSerial)
	strField(c, fMD5, ev.MD5)
	strField(c, fSHA1, ev.SHA1)
	strField(c, fSHA256, ev.SHA256)
	strField(c, fMailFrom, ev.MailFrom)
	strField(c, fFrom, ev.From)
}

func strField(c *Collector, f field, v string) {
	if v != "" {
		c.str(f, v)
	}
}

// splitHost reads a host-like value (a name or an address, with or
// without a port): an address, or else a name, or neither when nothing
// of it is indexed.
func splitHost(s string) (netip.Addr, string) {
	if s == "" {
		return netip.Addr{}, ""
	}
	if s[0] == '[' {
		if j := strings.IndexByte(s, ']'); j > 0 {
			if a, err := netip.ParseAddr(s[1:j]); err == nil {
				return a, ""
			}
		}
		return netip.Addr{}, ""
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		if strings.IndexByte(s[i+1:], ':') >= 0 {
			a, _ := netip.ParseAddr(s)
			return a, ""
		}
		s = s[:i]
	}
	if s == "" {
		return netip.Addr{}, ""
	}
	if last := s[len(s)-1]; last >= '0' && last <= '9' {
		if a, err := netip.ParseAddr(s); err == nil {
			return a, ""
		}
	}
	return netip.Addr{}, s
}

// normalize is the index's form of a raw value of field f: the value
// type and intel.Normalize's form of it; false when it is no valid value.
func normalize(f field, raw string) (intel.ValueType, string, bool) {
	t := fixedType[f]
	if t == intel.UnknownType {
		t = intel.Domain
	}
	if t == intel.Email {
		// "Name <a@b>" as the matcher reads it
		if i := strings.LastIndexByte(raw, '<'); i >= 0 {
			raw = raw[i+1:]
			if j := strings.IndexByte(raw, '>'); j >= 0 {
				raw = raw[:j]
			}
		}
	}
	v, err := intel.Normalize(t, raw)
	if err != nil || v == "" {
		return "", "", false
	}
	return t, v, true
}

// ipType is the value type of an address.
func ipType(a netip.Addr) intel.ValueType {
	if a.Is4() {
		return intel.IPv4
	}
	return intel.IPv6
}
