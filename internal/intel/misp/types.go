package misp

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// knownTypes are the attribute types MISP defines (its describeTypes list,
// MISP 2.4/2.5). An attribute of any other type is skipped and reported.
var knownTypes = setOf(`AS aba-rtn anonymised attachment authentihash azure-application-id bank-account-nr
bic bin boolean bro btc campaign-id campaign-name cc-number cdhash chrome-extension-id comment
community-id cookie cortex counter country-of-residence cpe dash date-of-birth datetime dkim
dkim-signature dns-soa-email dom-hash domain domain|ip email email-attachment email-body email-dst
email-dst-display-name email-header email-message-id email-mime-boundary email-reply-to email-src
email-src-display-name email-subject email-thread-index email-x-mailer eppn favicon-mmh3 filename
filename-pattern filename|authentihash filename|impfuzzy filename|imphash filename|md5 filename|pehash
filename|sha1 filename|sha224 filename|sha256 filename|sha3-224 filename|sha3-256 filename|sha3-384
filename|sha3-512 filename|sha384 filename|sha512 filename|sha512/224 filename|sha512/256
filename|ssdeep filename|tlsh filename|vhash first-name float frequent-flyer-number full-name gender
gene git-commit-id github-organisation github-repository github-username hassh-md5 hasshserver-md5
hex hostname hostname|port http-method iban identity-card-number impfuzzy imphash integer ip-dst
ip-dst|port ip-src ip-src|port issue-date-of-the-visa ja3-fingerprint-md5 jabber-id jarm-fingerprint
kusto-query last-name link mac-address mac-eui-64 malware-sample malware-type md5 middle-name mime-type
mobile-application-id mutex named\ pipe nationality onion-address other passenger-name-record-locator-number
passport-country passport-expiration passport-number pattern-filename pattern-in-file pattern-in-memory
pattern-in-traffic payment-details pdb pehash pgp-private-key pgp-public-key phone-number place-of-birth
place-port-of-clearance place-port-of-onward-foreign-destination place-port-of-original-embarkation
port primary-residence process-state prtn redress-number regkey regkey|value sha1 sha224 sha256
sha3-224 sha3-256 sha3-384 sha3-512 sha384 sha512 sha512/224 sha512/256 sigma size-in-bytes snort
special-service-request ssdeep ssh-fingerprint stix2-pattern target-email target-external
target-location target-machine target-org target-user telfhash text threat-actor tlsh travel-details
twitter-id uri url user-agent vhash visa-number vulnerability weakness whois-creation-date
whois-registrant-email whois-registrant-name whois-registrant-org whois-registrant-phone
whois-registrar windows-scheduled-task windows-service-displayname windows-service-name
x509-fingerprint-md5 x509-fingerprint-sha1 x509-fingerprint-sha256 xmr yara zeek`)

// hostTypes are the types whose detection needs host telemetry (registry,
// mutexes, memory, PE internals): with to_ids set they are host-only
// indicators, counted as such, never matched on network data.
var hostTypes = setOf(`regkey regkey|value mutex named\ pipe windows-scheduled-task windows-service-name
windows-service-displayname pattern-in-file pattern-in-memory pattern-filename filename-pattern yara
sigma pdb authentihash imphash impfuzzy pehash ssdeep tlsh vhash telfhash cdhash sha224 sha384
sha512/224 sha512/256 sha3-224 sha3-256 sha3-384 sha3-512 filename|authentihash filename|impfuzzy
filename|imphash filename|pehash filename|ssdeep filename|tlsh filename|vhash filename|sha224
filename|sha384 filename|sha512/224 filename|sha512/256 filename|sha3-224 filename|sha3-256
filename|sha3-384 filename|sha3-512 process-state kusto-query`)

func setOf(list string) map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(list) {
		m[strings.ReplaceAll(f, `\ `, " ")] = true
	}
	return m
}

// simpleTypes map an attribute type to the observable type of its value.
var simpleTypes = map[string]intel.ValueType{
	"domain": intel.Domain, "hostname": intel.Domain,
	"url": intel.URL, "uri": intel.URIPath,
	"md5": intel.MD5, "sha1": intel.SHA1, "sha256": intel.SHA256, "sha512": intel.SHA512,
	"filename": intel.FileName,
	"email":    intel.Email, "email-src": intel.Email, "email-dst": intel.Email,
	"email-subject":         intel.EmailSubj,
	"user-agent":            intel.UserAgent,
	"ja3-fingerprint-md5":   intel.JA3,
	"x509-fingerprint-sha1": intel.X509SHA1, "x509-fingerprint-sha256": intel.X509SHA256,
	"AS": intel.ASN,
}

// fileHashTypes are the filename|hash types whose hash is the indicator.
var fileHashTypes = map[string]intel.ValueType{
	"filename|md5": intel.MD5, "filename|sha1": intel.SHA1, "filename|sha256": intel.SHA256,
	"filename|sha512": intel.SHA512, "malware-sample": intel.MD5,
}

// mapping is what an attribute of a network type becomes.
type mapping struct {
	observables []intel.Observable
	pattern     string // STIX 2.1
	fileName    string // the file name of filename|hash attributes
}

// IsMapped reports whether attributes of type t become network indicators.
func IsMapped(t string) bool {
	if _, ok := simpleTypes[t]; ok {
		return true
	}
	if _, ok := fileHashTypes[t]; ok {
		return true
	}
	switch t {
	case "ip-src", "ip-dst", "ip-src|port", "ip-dst|port", "domain|ip", "hostname|port", "stix2-pattern":
		return true
	}
	return false
}

func lit(s string) string { return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'" }

// ipObservable reads an ip-src/ip-dst value: an address or a CIDR prefix.
func ipObservable(v string) (intel.Observable, error) {
	v = strings.TrimSpace(v)
	if strings.Contains(v, "/") {
		n, err := intel.Normalize(intel.CIDR, v)
		if err != nil {
			return intel.Observable{}, err
		}
		if p, err := netip.ParsePrefix(n); err == nil && p.IsSingleIP() {
			t := intel.IPv4
			if p.Addr().Is6() {
				t = intel.IPv6
			}
			return intel.Observable{Type: t, Value: p.Addr().String()}, nil
		}
		return intel.Observable{Type: intel.CIDR, Value: n}, nil
	}
	t := intel.IPv4
	if strings.Contains(v, ":") {
		t = intel.IPv6
	}
	n, err := intel.Normalize(t, v)
	if err != nil {
		return intel.Observable{}, err
	}
	return intel.Observable{Type: t, Value: n}, nil
}

// split cuts a composite value at the first (or, for filename|…, the last)
// "|", where MISP joins the two parts.
func split(typ, v string) (string, string, error) {
	i := strings.IndexByte(v, '|')
	if strings.HasPrefix(typ, "filename|") || typ == "malware-sample" {
		i = strings.LastIndexByte(v, '|')
	}
	if i < 0 {
		return "", "", fmt.Errorf("%s value %q has no '|' between its two parts", typ, v)
	}
	return strings.TrimSpace(v[:i]), strings.TrimSpace(v[i+1:]), nil
}

func port(typ, p string) (int, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(p), 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%s: %q is not a port", typ, p)
	}
	return int(n), nil
}

var stixObjectRef = regexp.MustCompile(`([a-z0-9][a-z0-9-]*[a-z0-9]):`)

// networkObjects are the STIX object types whodunit's network telemetry
// shows; a stix2-pattern attribute that names only these is network-evaluable.
var networkObjects = setOf(`ipv4-addr ipv6-addr domain-name url network-traffic email-addr email-message
x509-certificate file autonomous-system mac-addr artifact x-ja3 x-ja3s`)

// stixIsNetwork reports whether every object type a STIX pattern names is
// one network telemetry can show.
func stixIsNetwork(p string) bool {
	// Drop quoted literals so that "http:" inside a URL is not read as a type.
	var sb strings.Builder
	inQ := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case inQ && c == '\\' && i+1 < len(p):
			i++
		case c == '\'':
			inQ = !inQ
		case !inQ:
			sb.WriteByte(c)
		}
	}
	refs := stixObjectRef.FindAllStringSubmatch(sb.String(), -1)
	if len(refs) == 0 {
		return false
	}
	for _, m := range refs {
		if !networkObjects[m[1]] {
			return false
		}
	}
	return true
}

// mapValue turns the value of a mapped attribute type into observables and
// a STIX pattern. A value that is not valid for its type is an error.
func mapValue(typ, value string) (mapping, error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return mapping{}, fmt.Errorf("%s attribute with an empty value", typ)
	}
	if vt, ok := simpleTypes[typ]; ok {
		n, err := intel.Normalize(vt, v)
		if err != nil {
			return mapping{}, err
		}
		o := intel.Observable{Type: vt, Value: n}
		return mapping{observables: []intel.Observable{o}, pattern: o.STIXPattern()}, nil
	}
	if vt, ok := fileHashTypes[typ]; ok {
		name, h, err := split(typ, v)
		if err != nil {
			return mapping{}, err
		}
		n, err := intel.Normalize(vt, h)
		if err != nil {
			return mapping{}, err
		}
		o := intel.Observable{Type: vt, Value: n}
		return mapping{observables: []intel.Observable{o}, pattern: o.STIXPattern(), fileName: name}, nil
	}
	switch typ {
	case "ip-src", "ip-dst":
		o, err := ipObservable(v)
		if err != nil {
			return mapping{}, err
		}
		return mapping{observables: []intel.Observable{o}, pattern: o.STIXPattern()}, nil
	case "ip-dst|port", "ip-src|port":
		ip, p, err := split(typ, v)
		if err != nil {
			return mapping{}, err
		}
		o, err := ipObservable(ip)
		if err != nil {
			return mapping{}, err
		}
		pn, err := port(typ, p)
		if err != nil {
			return mapping{}, err
		}
		if typ == "ip-dst|port" && o.Type != intel.CIDR {
			o.Port = pn
			return mapping{observables: []intel.Observable{o}, pattern: o.STIXPattern()}, nil
		}
		// The source side, or a range, needs the evaluator: no plain observable.
		side, op := "src", "="
		if typ == "ip-dst|port" {
			side = "dst"
		}
		if o.Type == intel.CIDR {
			op = "ISSUBSET"
		}
		return mapping{pattern: fmt.Sprintf("[network-traffic:%s_ref.value %s %s AND network-traffic:%s_port = %d]", side, op, lit(o.Value), side, pn)}, nil
	case "domain|ip":
		d, ip, err := split(typ, v)
		if err != nil {
			return mapping{}, err
		}
		dn, err := intel.NormalizeDomain(d)
		if err != nil {
			return mapping{}, err
		}
		o, err := ipObservable(ip)
		if err != nil {
			return mapping{}, err
		}
		od := intel.Observable{Type: intel.Domain, Value: dn}
		// Both halves are the adversary's: either seen alone is a sighting.
		return mapping{observables: []intel.Observable{od, o}, pattern: od.STIXPattern() + " OR " + o.STIXPattern()}, nil
	case "hostname|port":
		h, p, err := split(typ, v)
		if err != nil {
			return mapping{}, err
		}
		hn, err := intel.NormalizeDomain(h)
		if err != nil {
			return mapping{}, err
		}
		pn, err := port(typ, p)
		if err != nil {
			return mapping{}, err
		}
		return mapping{pattern: fmt.Sprintf("[network-traffic:dst_ref.value = %s AND network-traffic:dst_port = %d]", lit(hn), pn)}, nil
	case "stix2-pattern":
		return mapping{pattern: v}, nil
	}
	return mapping{}, fmt.Errorf("type %s is not mapped", typ)
}
