package pattern

import (
	"net/netip"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// Observables reports whether the whole pattern means "any one of these
// simple values was seen": one observation expression, or an OR of them,
// without qualifiers, each an OR of equalities (or IN lists) on a path that
// holds one kind of indicator value. It then returns those values,
// normalised with intel.Normalize, and true; otherwise nil and false, and
// the pattern needs the evaluator. It is the inverse of
// intel.Observable.STIXPattern for the types the fast lookup tables hold.
func (p *Pattern) Observables() ([]intel.Observable, bool) {
	var out []intel.Observable
	if !collectObs(p.Root, &out) || len(out) == 0 {
		return nil, false
	}
	return out, true
}

func collectObs(e ObsExpr, out *[]intel.Observable) bool {
	switch e := e.(type) {
	case *ObsGroup:
		return collectObs(e.Inner, out)
	case *ObsBinary:
		return e.Op == ObsOr && collectObs(e.Left, out) && collectObs(e.Right, out)
	case *ObsSimple:
		if o, ok := x509Serial(e.Comp); ok {
			*out = append(*out, o)
			return true
		}
		if o, ok := ipWithPort(e.Comp); ok {
			*out = append(*out, o)
			return true
		}
		return collectComp(e.Comp, out)
	}
	return false
}

// collectComp accepts an OR of simple comparisons.
func collectComp(c CompExpr, out *[]intel.Observable) bool {
	switch c := c.(type) {
	case *CompBinary:
		return c.Op == CompOr && collectComp(c.Left, out) && collectComp(c.Right, out)
	case *Comparison:
		if c.Not {
			return false
		}
		var lits []Literal
		switch c.Op {
		case OpEQ, OpIsSubset:
			lits = []Literal{c.Lit}
		case OpIn:
			lits = c.Set
		default:
			return false
		}
		for _, l := range lits {
			if l.Kind != LitString {
				return false
			}
			op := c.Op
			if op == OpIn {
				op = OpEQ
			}
			o, ok := observableOf(c.Path, op, l.Str)
			if !ok {
				return false
			}
			*out = append(*out, o)
		}
		return len(lits) > 0
	}
	return false
}

var hashTypes = map[string]intel.ValueType{"MD5": intel.MD5, "SHA1": intel.SHA1, "SHA256": intel.SHA256, "SHA512": intel.SHA512}

// observableOf maps one path, operator and string to an observable.
func observableOf(path ObjectPath, op Operator, v string) (intel.Observable, bool) {
	ps := pathKey(path)
	var t intel.ValueType
	switch {
	case ps == "ipv4-addr:value" || ps == "ipv6-addr:value" ||
		ps == "network-traffic:dst_ref.value" || ps == "network-traffic:src_ref.value":
		return ipObservable(ps, op, v)
	case op != OpEQ:
		return intel.Observable{}, false
	case ps == "domain-name:value":
		t = intel.Domain
	case ps == "url:value":
		t = intel.URL
	case ps == "email-addr:value" || ps == "email-message:from_ref.value" || ps == "email-message:sender_ref.value":
		t = intel.Email
	case ps == "x-ja3:value":
		t = intel.JA3
	case ps == "x-ja3s:value":
		t = intel.JA3S
	case ps == "network-traffic:extensions.http-request-ext.request_header.User-Agent":
		t = intel.UserAgent
	case ps == "x509-certificate:serial_number":
		t = intel.X509Serial
	case len(path.Steps) == 2 && path.Steps[0].Key == "hashes" && path.Steps[1].Kind == StepKey:
		h := normHashName(path.Steps[1].Key)
		switch path.Type {
		case "file":
			t = hashTypes[h]
		case "x509-certificate":
			switch h {
			case "SHA1":
				t = intel.X509SHA1
			case "SHA256":
				t = intel.X509SHA256
			}
		}
	}
	if t == "" {
		return intel.Observable{}, false
	}
	n, err := intel.Normalize(t, v)
	if err != nil {
		return intel.Observable{}, false
	}
	return intel.Observable{Type: t, Value: n}, true
}

func ipObservable(ps string, op Operator, v string) (intel.Observable, bool) {
	if op != OpEQ && op != OpIsSubset {
		return intel.Observable{}, false
	}
	if strings.Contains(v, "/") || op == OpIsSubset {
		n, err := intel.Normalize(intel.CIDR, v)
		if err != nil {
			return intel.Observable{}, false
		}
		pfx, _ := netip.ParsePrefix(n)
		if !familyFits(ps, pfx.Addr()) {
			return intel.Observable{}, false
		}
		return intel.Observable{Type: intel.CIDR, Value: n}, true
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		if strings.HasPrefix(ps, "network-traffic:") {
			// dst_ref may name a domain-name
			if n, err := intel.Normalize(intel.Domain, v); err == nil {
				return intel.Observable{Type: intel.Domain, Value: n}, true
			}
		}
		return intel.Observable{}, false
	}
	a = a.Unmap()
	if !familyFits(ps, a) {
		return intel.Observable{}, false
	}
	t := intel.IPv4
	if a.Is6() {
		t = intel.IPv6
	}
	n, err := intel.Normalize(t, v)
	if err != nil {
		return intel.Observable{}, false
	}
	return intel.Observable{Type: t, Value: n}, true
}

func familyFits(ps string, a netip.Addr) bool {
	switch {
	case strings.HasPrefix(ps, "ipv4-addr"):
		return a.Is4()
	case strings.HasPrefix(ps, "ipv6-addr"):
		return a.Is6() && !a.Is4In6()
	}
	return true
}

// pathKey renders a path of keys as type:a.b.c without quotes ("" when it
// has list steps).
func pathKey(p ObjectPath) string {
	var b strings.Builder
	b.WriteString(p.Type)
	b.WriteByte(':')
	for i, s := range p.Steps {
		if s.Kind != StepKey {
			return ""
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.Key)
	}
	return b.String()
}

// eqComparisons flattens an AND of comparisons; ok is false for anything else.
func andComparisons(c CompExpr, out *[]*Comparison) bool {
	switch c := c.(type) {
	case *CompBinary:
		return c.Op == CompAnd && andComparisons(c.Left, out) && andComparisons(c.Right, out)
	case *Comparison:
		*out = append(*out, c)
		return true
	}
	return false
}

// x509Serial recognises serial_number = s [AND issuer = i].
func x509Serial(c CompExpr) (intel.Observable, bool) {
	var cs []*Comparison
	if !andComparisons(c, &cs) || len(cs) != 2 {
		return intel.Observable{}, false
	}
	var serial, issuer string
	for _, x := range cs {
		if x.Not || x.Op != OpEQ || x.Lit.Kind != LitString || x.Path.Type != "x509-certificate" {
			return intel.Observable{}, false
		}
		switch pathKey(x.Path) {
		case "x509-certificate:serial_number":
			serial = x.Lit.Str
		case "x509-certificate:issuer":
			issuer = x.Lit.Str
		default:
			return intel.Observable{}, false
		}
	}
	if serial == "" || issuer == "" {
		return intel.Observable{}, false
	}
	n, err := intel.Normalize(intel.X509Serial, serial)
	if err != nil {
		return intel.Observable{}, false
	}
	return intel.Observable{Type: intel.X509Serial, Value: n, Issuer: issuer}, true
}

// ipWithPort recognises network-traffic:dst_ref.value = ip AND
// network-traffic:dst_port = n.
func ipWithPort(c CompExpr) (intel.Observable, bool) {
	var cs []*Comparison
	if !andComparisons(c, &cs) || len(cs) != 2 {
		return intel.Observable{}, false
	}
	var o intel.Observable
	port := -1
	for _, x := range cs {
		if x.Not || x.Op != OpEQ {
			return intel.Observable{}, false
		}
		switch pathKey(x.Path) {
		case "network-traffic:dst_ref.value":
			if x.Lit.Kind != LitString {
				return intel.Observable{}, false
			}
			ob, ok := ipObservable("network-traffic:dst_ref.value", OpEQ, x.Lit.Str)
			if !ok || ob.Type != intel.IPv4 && ob.Type != intel.IPv6 {
				return intel.Observable{}, false
			}
			o = ob
		case "network-traffic:dst_port":
			if x.Lit.Kind != LitInt || x.Lit.Int < 1 || x.Lit.Int > 65535 {
				return intel.Observable{}, false
			}
			port = int(x.Lit.Int)
		default:
			return intel.Observable{}, false
		}
	}
	if o.Value == "" || port < 0 {
		return intel.Observable{}, false
	}
	o.Port = port
	return o, true
}
