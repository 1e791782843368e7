package warninglist

import "github.com/whodunit-project/whodunit/internal/intel"

// typeMask is a set of intel.ValueType, one bit per type.
type typeMask uint64

const allTypes typeMask = ^typeMask(0)

func bit(t intel.ValueType) typeMask {
	for i, vt := range intel.ValueTypes {
		if vt == t {
			return 1 << uint(i)
		}
	}
	return 0
}

func (m typeMask) has(t intel.ValueType) bool {
	if t == intel.UnknownType { // a value of unknown type is tested against every list
		return true
	}
	return m&bit(t) != 0
}

var (
	ipTypes     = []intel.ValueType{intel.IPv4, intel.IPv6, intel.CIDR}
	domainTypes = []intel.ValueType{intel.Domain}
	emailTypes  = []intel.ValueType{intel.Email}
)

// attributeTypes maps the MISP attribute types named in a list's
// matching_attributes to the value types whodunit checks. A composite type
// (domain|ip) applies the list to both of its parts.
var attributeTypes = map[string][]intel.ValueType{
	"ip-src": ipTypes, "ip-dst": ipTypes, "ip-src|port": ipTypes, "ip-dst|port": ipTypes,
	"domain|ip":     {intel.Domain, intel.IPv4, intel.IPv6, intel.CIDR},
	"domain":        domainTypes,
	"hostname":      domainTypes,
	"hostname|port": domainTypes,
	"url":           {intel.URL},
	"uri":           {intel.URIPath},
	"link":          {intel.URL},
	"md5":           {intel.MD5}, "filename|md5": {intel.MD5},
	"sha1": {intel.SHA1}, "filename|sha1": {intel.SHA1},
	"sha256": {intel.SHA256}, "filename|sha256": {intel.SHA256},
	"sha512": {intel.SHA512}, "filename|sha512": {intel.SHA512},
	"email": emailTypes, "email-src": emailTypes, "email-dst": emailTypes,
	"target-email": emailTypes, "whois-registrant-email": emailTypes,
	"dns-soa-email": emailTypes, "email-reply-to": emailTypes,
	"x509-fingerprint-sha1":   {intel.X509SHA1},
	"x509-fingerprint-sha256": {intel.X509SHA256},
	"ja3-fingerprint-md5":     {intel.JA3},
	"user-agent":              {intel.UserAgent},
	"filename":                {intel.FileName},
	"email-subject":           {intel.EmailSubj},
	"AS":                      {intel.ASN},
	"port":                    {intel.Port},
}

// maskFor returns the value types a list applies to. A list that names no
// attribute types applies to every type its match type can test.
func maskFor(w *intel.Warninglist) typeMask {
	if len(w.Attributes) == 0 {
		if w.MatchType == "cidr" {
			var m typeMask
			for _, t := range ipTypes {
				m |= bit(t)
			}
			return m
		}
		return allTypes
	}
	var m typeMask
	for _, a := range w.Attributes {
		for _, t := range attributeTypes[a] {
			m |= bit(t)
		}
	}
	return m
}
