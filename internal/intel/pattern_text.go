package intel

import "strings"

// stixPaths maps simple value types to the STIX object path that holds them.
var stixPaths = map[ValueType]string{
	IPv4:       "ipv4-addr:value",
	IPv6:       "ipv6-addr:value",
	Domain:     "domain-name:value",
	URL:        "url:value",
	MD5:        "file:hashes.MD5",
	SHA1:       "file:hashes.'SHA-1'",
	SHA256:     "file:hashes.'SHA-256'",
	SHA512:     "file:hashes.'SHA-512'",
	Email:      "email-addr:value",
	JA3:        "x-ja3:value",
	JA3S:       "x-ja3s:value",
	X509SHA1:   "x509-certificate:hashes.'SHA-1'",
	X509SHA256: "x509-certificate:hashes.'SHA-256'",
	X509Serial: "x509-certificate:serial_number",
	UserAgent:  "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'",
	FileName:   "file:name",
	EmailSubj:  "email-message:subject",
	ASN:        "autonomous-system:number",
}

// stixLiteralEscaper escapes a STIX string literal; built once because a
// Replacer is costly to construct and STIXPattern runs once per indicator.
var stixLiteralEscaper = strings.NewReplacer(`\`, `\\`, `'`, `\'`)

// STIXPattern renders a simple observable as a STIX pattern, so that
// indicators from every format can be exported and evaluated one way.
func (o Observable) STIXPattern() string {
	lit := func(s string) string { return "'" + stixLiteralEscaper.Replace(s) + "'" }
	switch o.Type {
	case CIDR:
		if strings.Contains(o.Value, ":") {
			return "[ipv6-addr:value ISSUBSET " + lit(o.Value) + "]"
		}
		return "[ipv4-addr:value ISSUBSET " + lit(o.Value) + "]"
	case ASN:
		return "[autonomous-system:number = " + strings.TrimPrefix(o.Value, "AS") + "]"
	case X509Serial:
		p := "[x509-certificate:serial_number = " + lit(o.Value)
		if o.Issuer != "" {
			p += " AND x509-certificate:issuer = " + lit(o.Issuer)
		}
		return p + "]"
	case Port:
		return "[network-traffic:dst_port = " + o.Value + "]"
	case URIPath:
		return "[url:value LIKE " + lit("%"+o.Value) + "]"
	}
	path, ok := stixPaths[o.Type]
	if !ok {
		return ""
	}
	p := "[" + path + " = " + lit(o.Value)
	if o.Port != 0 && (o.Type == IPv4 || o.Type == IPv6) {
		p = "[network-traffic:dst_ref.value = " + lit(o.Value) + " AND network-traffic:dst_port = " + itoa(o.Port)
	}
	return p + "]"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
