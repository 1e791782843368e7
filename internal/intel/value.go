package intel

import (
	"crypto/sha1"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// ValueType names the kind of a concrete observable value.
type ValueType string

// Value types that indicators carry and telemetry can show.
const (
	IPv4        ValueType = "ipv4"
	IPv6        ValueType = "ipv6"
	CIDR        ValueType = "cidr"
	Domain      ValueType = "domain"
	URL         ValueType = "url"
	MD5         ValueType = "md5"
	SHA1        ValueType = "sha1"
	SHA256      ValueType = "sha256"
	SHA512      ValueType = "sha512"
	Email       ValueType = "email"
	JA3         ValueType = "ja3"
	JA3S        ValueType = "ja3s"
	X509SHA1    ValueType = "x509-sha1"
	X509SHA256  ValueType = "x509-sha256"
	X509Serial  ValueType = "x509-serial" // with Observable.Issuer
	UserAgent   ValueType = "user-agent"
	FileName    ValueType = "filename"
	URIPath     ValueType = "uri" // a URL path without host
	EmailSubj   ValueType = "email-subject"
	ASN         ValueType = "asn"
	Port        ValueType = "port"
	Software    ValueType = "software"    // Zeek Intel::SOFTWARE; no STIX path in this model
	UserName    ValueType = "user-name"   // Zeek Intel::USER_NAME; no STIX path in this model
	PubkeyHash  ValueType = "pubkey-hash" // Zeek Intel::PUBKEY_HASH: MD5 of a public key as colon-separated hex
	UnknownType ValueType = ""
)

// ValueTypes lists every type in a stable order (for flags and docs).
var ValueTypes = []ValueType{IPv4, IPv6, CIDR, Domain, URL, MD5, SHA1, SHA256, SHA512, Email,
	JA3, JA3S, X509SHA1, X509SHA256, X509Serial, UserAgent, FileName, URIPath, EmailSubj, ASN, Port,
	Software, UserName, PubkeyHash}

// ParseValueType accepts a type name as ValueTypes spells it, plus common synonyms.
func ParseValueType(s string) (ValueType, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "ip", "ipv4-addr", "ip-dst", "ip-src", "ip_address", "ip-address", "ipaddress", "ipv4_address", "ip4":
		return IPv4, nil
	case "ipv6-addr", "ipv6_address", "ip6":
		return IPv6, nil
	case "subnet", "netblock", "ip-range", "cidr_block", "ip_cidr":
		return CIDR, nil
	case "domain-name", "domain_name", "hostname", "host_name", "fqdn":
		return Domain, nil
	case "uri_full", "link_url":
		return URL, nil
	case "e-mail", "email-addr", "email-src", "email-dst", "email_address", "email-address":
		return Email, nil
	case "md5_hash", "md5hash", "md5-hash", "filehash-md5", "file_md5":
		return MD5, nil
	case "sha-1", "sha1_hash", "sha1hash", "sha1-hash", "filehash-sha1", "file_sha1":
		return SHA1, nil
	case "sha-256", "sha256_hash", "sha256hash", "sha256-hash", "filehash-sha256", "file_sha256":
		return SHA256, nil
	case "sha-512", "sha512_hash":
		return SHA512, nil
	case "ja3-fingerprint-md5", "ja3_hash", "ja3-hash", "ja3_fingerprint":
		return JA3, nil
	case "ja3s-fingerprint-md5", "ja3s_hash", "ja3s-hash":
		return JA3S, nil
	case "x509-fingerprint-sha1", "cert_sha1", "cert-sha1", "certificate-sha1":
		return X509SHA1, nil
	case "x509-fingerprint-sha256", "cert_sha256", "cert-sha256", "certificate-sha256":
		return X509SHA256, nil
	case "useragent", "user_agent":
		return UserAgent, nil
	case "file_name", "file-name":
		return FileName, nil
	case "username", "user_name", "user", "user-account":
		return UserName, nil
	case "pubkey_hash", "pubkey-md5", "ssh-host-key", "ssh_host_key":
		return PubkeyHash, nil
	}
	for _, t := range ValueTypes {
		if string(t) == s {
			return t, nil
		}
	}
	return "", &ValueError{Field: "type", Value: s, Reason: "unknown value type"}
}

// Refang undoes the usual defanging of indicators in reports:
// hxxp://, hxxps://, fxp://, [.], (.), {.}, [dot], (dot), {dot}, " [.] ",
// [:], [://], [/], [at], (at), [@].
func Refang(s string) string {
	if !mayBeDefanged(s) {
		return s
	}
	if len(s) >= 5 && strings.EqualFold(s[:5], "hxxps") {
		s = "https" + s[5:]
	} else if len(s) >= 4 && strings.EqualFold(s[:4], "hxxp") {
		s = "http" + s[4:]
	} else if len(s) >= 3 && strings.EqualFold(s[:3], "fxp") {
		s = "ftp" + s[3:]
	}
	if !hasBracket(s) {
		return s
	}
	return refanger.Replace(s)
}

// mayBeDefanged and hasBracket are ContainsAny(s, "[({xX") and
// ContainsAny(s, "[({") without building a byte set on every call: Refang
// runs on every value an importer reads.
func mayBeDefanged(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[', '(', '{', 'x', 'X':
			return true
		}
	}
	return false
}

func hasBracket(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[', '(', '{':
			return true
		}
	}
	return false
}

// refanger is built once: a Replacer is costly to construct.
var refanger = strings.NewReplacer(
	" [.] ", ".", "[.]", ".", "(.)", ".", "{.}", ".", "[dot]", ".", "(dot)", ".", "{dot}", ".",
	"[DOT]", ".", "(DOT)", ".", "[Dot]", ".", "(Dot)", ".",
	"[:]", ":", "[://]", "://", "[/]", "/", "[at]", "@", "(at)", "@", "[@]", "@", "[AT]", "@", "(AT)", "@",
)

var idnaProfile = idna.New(idna.MapForLookup(), idna.Transitional(false), idna.StrictDomainName(false))

// NormalizeDomain lower-cases, strips the trailing dot and converts IDNs to
// punycode. It rejects values that cannot be a host name.
func NormalizeDomain(s string) (string, error) {
	s = strings.TrimSpace(Refang(s))
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return "", &ValueError{Field: "domain", Value: s, Reason: "empty"}
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		s = strings.ToLower(s)
	} else {
		p, err := idnaProfile.ToASCII(s)
		if err != nil {
			return "", &ValueError{Field: "domain", Value: s, Reason: err.Error()}
		}
		s = p
	}
	if len(s) > 253 {
		return "", &ValueError{Field: "domain", Value: s, Reason: "longer than 253 characters"}
	}
	label := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '*') {
			return "", &ValueError{Field: "domain", Value: s, Reason: fmt.Sprintf("character %q is not allowed in a host name", c)}
		}
		if c == '.' {
			label = 0
		} else if label++; label > 63 {
			return "", &ValueError{Field: "domain", Value: s, Reason: "label longer than 63 characters"}
		}
	}
	if strings.Contains(s, "..") || s[0] == '.' || s[len(s)-1] == '.' {
		return "", &ValueError{Field: "domain", Value: s, Reason: "empty label"}
	}
	return s, nil
}

// NormalizeURL returns a canonical form: scheme and host lower-cased, host
// normalised as a domain or IP, default port dropped, empty path made "/",
// fragment dropped. A URL without a scheme is taken as http.
func NormalizeURL(s string) (string, error) {
	s = strings.TrimSpace(Refang(s))
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", &ValueError{Field: "url", Value: s, Reason: "not a URL"}
	}
	if u.Host == "" {
		return "", &ValueError{Field: "url", Value: s, Reason: "no host"}
	}
	u.Scheme = strings.ToLower(u.Scheme)
	host, port := u.Hostname(), u.Port()
	if a, err := netip.ParseAddr(host); err == nil {
		host = a.Unmap().String()
		if a.Is6() && !a.Is4In6() {
			host = "[" + host + "]"
		}
	} else if host, err = NormalizeDomain(host); err != nil {
		return "", &ValueError{Field: "url", Value: s, Reason: "bad host: " + err.Error()}
	}
	if port != "" && !(u.Scheme == "http" && port == "80" || u.Scheme == "https" && port == "443") {
		host += ":" + port
	}
	u.Host = host
	u.Fragment, u.RawFragment = "", ""
	u.User = nil
	out := u.Scheme + "://" + u.Host
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	out += path
	if u.RawQuery != "" || u.ForceQuery {
		out += "?" + u.RawQuery
	}
	return out, nil
}

// URLHost returns the host part of a normalised URL, without port or brackets.
func URLHost(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if i := strings.IndexAny(u, "/?#"); i >= 0 {
		u = u[:i]
	}
	if i := strings.LastIndexByte(u, '@'); i >= 0 {
		u = u[i+1:]
	}
	if strings.HasPrefix(u, "[") {
		if j := strings.IndexByte(u, ']'); j > 0 {
			return u[1:j]
		}
	}
	if i := strings.LastIndexByte(u, ':'); i >= 0 && strings.Count(u, ":") == 1 {
		u = u[:i]
	}
	return u
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// hexFingerprint accepts hex with optional ':' separators and returns lower-case hex.
func hexFingerprint(s string, n int) (string, bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ":", "")
	if len(s) != n || !isHex(s) {
		return "", false
	}
	return strings.ToLower(s), true
}

// Normalize returns the canonical text of value read as type t.
func Normalize(t ValueType, value string) (string, error) {
	v := strings.TrimSpace(value)
	switch t {
	case IPv4, IPv6:
		a, err := netip.ParseAddr(Refang(v))
		if err != nil {
			return "", &ValueError{Field: string(t), Value: v, Reason: "not an IP address"}
		}
		a = a.Unmap()
		if t == IPv4 && !a.Is4() || t == IPv6 && !a.Is6() {
			return "", &ValueError{Field: string(t), Value: v, Reason: "wrong IP version"}
		}
		return a.WithZone("").String(), nil
	case CIDR:
		p, err := netip.ParsePrefix(Refang(v))
		if err != nil {
			if a, err2 := netip.ParseAddr(Refang(v)); err2 == nil {
				p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
			} else {
				return "", &ValueError{Field: "cidr", Value: v, Reason: "not a CIDR prefix"}
			}
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked().String(), nil
	case Domain:
		return NormalizeDomain(v)
	case URL:
		return NormalizeURL(v)
	case MD5:
		if h, ok := hexFingerprint(v, 32); ok {
			return h, nil
		}
	case SHA1, X509SHA1:
		if h, ok := hexFingerprint(v, 40); ok {
			return h, nil
		}
	case SHA256, X509SHA256:
		if h, ok := hexFingerprint(v, 64); ok {
			return h, nil
		}
	case SHA512:
		if h, ok := hexFingerprint(v, 128); ok {
			return h, nil
		}
	case JA3, JA3S:
		if h, ok := hexFingerprint(v, 32); ok {
			return h, nil
		}
	case X509Serial:
		s := strings.ToLower(strings.ReplaceAll(v, ":", ""))
		s = strings.TrimLeft(s, "0")
		if s == "" {
			s = "0"
		}
		if isHex(s) {
			return s, nil
		}
	case Email:
		v = Refang(v)
		v = strings.Trim(v, "<>")
		at := strings.LastIndexByte(v, '@')
		if at <= 0 || at == len(v)-1 {
			break
		}
		d, err := NormalizeDomain(v[at+1:])
		if err != nil {
			break
		}
		return strings.ToLower(v[:at]) + "@" + d, nil
	case ASN:
		s := strings.TrimPrefix(strings.ToUpper(v), "AS")
		if n, err := strconv.ParseUint(s, 10, 32); err == nil {
			return "AS" + strconv.FormatUint(n, 10), nil
		}
	case Port:
		if n, err := strconv.ParseUint(v, 10, 16); err == nil {
			return strconv.FormatUint(n, 10), nil
		}
	case UserAgent, FileName, EmailSubj, URIPath, Software, UserName:
		if v != "" {
			return v, nil
		}
	case PubkeyHash:
		if h, ok := hexFingerprint(v, 32); ok {
			b := make([]byte, 0, 47)
			for i := 0; i < len(h); i += 2 {
				if i > 0 {
					b = append(b, ':')
				}
				b = append(b, h[i], h[i+1])
			}
			return string(b), nil
		}
	}
	return "", &ValueError{Field: string(t), Value: v, Reason: "not a valid " + string(t)}
}

// Detect guesses the type of a bare value from its shape. It returns
// UnknownType when nothing fits. Hex strings of 32 characters are reported as
// MD5 (JA3 hashes look the same; label such lists with --type ja3).
func Detect(value string) ValueType {
	v := strings.TrimSpace(Refang(value))
	if v == "" {
		return UnknownType
	}
	// the shape checks spare netip's error allocations on the common
	// non-IP values (domains, hashes, URLs)
	if mayBeIP(v) {
		if a, err := netip.ParseAddr(v); err == nil {
			if a.Unmap().Is4() {
				return IPv4
			}
			return IPv6
		}
	}
	if i := strings.IndexByte(v, '/'); i > 0 && mayBeIP(v[:i]) {
		if _, err := netip.ParsePrefix(v); err == nil {
			return CIDR
		}
	}
	if isHex(v) {
		switch len(v) {
		case 32:
			return MD5
		case 40:
			return SHA1
		case 64:
			return SHA256
		case 128:
			return SHA512
		}
	}
	if strings.Contains(v, "://") {
		if _, err := NormalizeURL(v); err == nil {
			return URL
		}
		return UnknownType
	}
	if strings.IndexByte(v, ' ') >= 0 || strings.IndexByte(v, '\t') >= 0 {
		return UnknownType
	}
	if at := strings.IndexByte(v, '@'); at > 0 {
		if _, err := Normalize(Email, v); err == nil {
			return Email
		}
		return UnknownType
	}
	if strings.IndexByte(v, '/') >= 0 || strings.IndexByte(v, '?') >= 0 {
		if _, err := NormalizeURL(v); err == nil && strings.Contains(v, ".") {
			return URL
		}
		return UnknownType
	}
	if strings.Contains(v, ".") {
		if d, err := NormalizeDomain(v); err == nil {
			last := d[strings.LastIndexByte(d, '.')+1:]
			if last != "" && !isAllDigits(last) {
				return Domain
			}
		}
	}
	return UnknownType
}

func isAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// stixNamespace is a fixed namespace for deriving ids of objects read from
// formats without STIX ids, so the same value always gets the same id.
const stixNamespace = "whodunit:"

// DeriveID returns a deterministic STIX id of the given type for the key
// parts, shaped as a version-5 UUID.
func DeriveID(objType string, parts ...string) string {
	// hash namespace+type, then a NUL before each part; built in one buffer
	// (on the stack for the usual short keys) because importers call this
	// once per indicator
	var stack [256]byte
	buf := append(stack[:0], stixNamespace...)
	buf = append(buf, objType...)
	for _, p := range parts {
		buf = append(buf, 0)
		buf = append(buf, p...)
	}
	sum := sha1.Sum(buf)
	sum[6] = sum[6]&0x0f | 0x50
	sum[8] = sum[8]&0x3f | 0x80
	var b strings.Builder
	b.Grow(len(objType) + 2 + 36)
	b.WriteString(objType)
	b.WriteString("--")
	for i, c := range sum[:16] {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b.WriteByte('-')
		}
		b.WriteByte(hexDigit[c>>4])
		b.WriteByte(hexDigit[c&0xf])
	}
	return b.String()
}

const hexDigit = "0123456789abcdef"

// mayBeIP reports whether s has the shape of an IP address (IPv6 has a
// colon; IPv4 only digits and dots), so that parsing is tried only then.
func mayBeIP(s string) bool {
	if strings.IndexByte(s, ':') >= 0 {
		return true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}

func quote(s string) string { return strconv.Quote(s) }
