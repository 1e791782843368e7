package report

import (
	"crypto/sha1"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// scoNamespace is the UUID namespace STIX 2.1 fixes for the deterministic
// ids of cyber-observable objects (section 2.9 of the specification).
var scoNamespace = [16]byte{0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c, 0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7}

// scoID returns the id STIX 2.1 prescribes for an SCO of type typ whose
// id-contributing properties are props: a version-5 UUID in scoNamespace
// of the properties serialised as canonical JSON (RFC 8785).
func scoID(typ string, props map[string]any) string {
	h := sha1.New()
	h.Write(scoNamespace[:])
	h.Write([]byte(canonicalJSON(props)))
	var sum [20]byte
	copy(sum[:], h.Sum(nil))
	sum[6] = sum[6]&0x0f | 0x50
	sum[8] = sum[8]&0x3f | 0x80
	return fmt.Sprintf("%s--%x-%x-%x-%x-%x", typ, sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}

// canonicalJSON serialises the values SCO ids are made of (objects with
// string, integer, boolean and nested object values) per RFC 8785: keys
// sorted, no white space, strings escaped as ECMAScript does.
func canonicalJSON(v any) string {
	var b strings.Builder
	writeCanonical(&b, v)
	return b.String()
}

func writeCanonical(b *strings.Builder, v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		// RFC 8785 sorts by UTF-16 code units; the keys here are ASCII,
		// where that is byte order.
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanonicalString(b, k)
			b.WriteByte(':')
			writeCanonical(b, x[k])
		}
		b.WriteByte('}')
	case string:
		writeCanonicalString(b, x)
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case bool:
		b.WriteString(strconv.FormatBool(x))
	default: // not produced by scoFor
		b.WriteString("null")
	}
}

func writeCanonicalString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20:
			fmt.Fprintf(b, `\u%04x`, r)
		case r == utf8.RuneError:
			b.WriteString("\ufffd")
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// sco is one cyber-observable object: its id and its JSON properties.
type sco struct {
	id    string
	typ   string
	props map[string]any // id-contributing and other properties
}

var hashKeys = map[intel.ValueType]string{intel.MD5: "MD5", intel.SHA1: "SHA-1", intel.SHA256: "SHA-256", intel.SHA512: "SHA-512",
	intel.X509SHA1: "SHA-1", intel.X509SHA256: "SHA-256"}

// scoFor returns the SCO for a value seen in telemetry, typed as the
// indicator that matched it; false when STIX has no plain object for it
// (JA3, user agents, URL paths).
func scoFor(t intel.ValueType, value string) (sco, bool) {
	if value == "" {
		return sco{}, false
	}
	mk := func(typ string, idProps map[string]any, extra map[string]any) (sco, bool) {
		props := map[string]any{}
		for k, v := range idProps {
			props[k] = v
		}
		for k, v := range extra {
			props[k] = v
		}
		return sco{id: scoID(typ, idProps), typ: typ, props: props}, true
	}
	switch t {
	case intel.IPv4, intel.IPv6, intel.CIDR:
		typ := "ipv4-addr"
		if a, err := netip.ParseAddr(value); err == nil {
			if a.Unmap().Is6() {
				typ = "ipv6-addr"
			}
			value = a.Unmap().String()
		} else if p, err := netip.ParsePrefix(value); err == nil {
			if p.Addr().Is6() {
				typ = "ipv6-addr"
			}
			value = p.Masked().String()
		} else {
			return sco{}, false
		}
		return mk(typ, map[string]any{"value": value}, nil)
	case intel.Domain:
		return mk("domain-name", map[string]any{"value": value}, nil)
	case intel.URL:
		return mk("url", map[string]any{"value": value}, nil)
	case intel.Email:
		return mk("email-addr", map[string]any{"value": value}, nil)
	case intel.MD5, intel.SHA1, intel.SHA256, intel.SHA512:
		return mk("file", map[string]any{"hashes": map[string]any{hashKeys[t]: value}}, nil)
	case intel.FileName:
		return mk("file", map[string]any{"name": value}, nil)
	case intel.X509SHA1, intel.X509SHA256:
		return mk("x509-certificate", map[string]any{"hashes": map[string]any{hashKeys[t]: value}}, nil)
	case intel.X509Serial:
		return mk("x509-certificate", map[string]any{"serial_number": value}, nil)
	case intel.EmailSubj:
		return mk("email-message", map[string]any{"subject": value}, map[string]any{"is_multipart": false})
	case intel.ASN:
		n, err := strconv.ParseInt(strings.TrimPrefix(strings.ToUpper(value), "AS"), 10, 64)
		if err != nil || n < 0 {
			return sco{}, false
		}
		return mk("autonomous-system", map[string]any{"number": n}, nil)
	}
	return sco{}, false
}
