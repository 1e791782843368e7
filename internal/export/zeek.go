package export

import (
	"bufio"
	"io"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// zeekTypes maps value types to Zeek's Intel:: types. JA3 and JA3S are not
// in Zeek's base scripts; they are the names the JA3 packages add.
var zeekTypes = map[intel.ValueType]string{
	intel.IPv4: "Intel::ADDR", intel.IPv6: "Intel::ADDR", intel.CIDR: "Intel::SUBNET",
	intel.Domain: "Intel::DOMAIN", intel.URL: "Intel::URL", intel.Email: "Intel::EMAIL",
	intel.MD5: "Intel::FILE_HASH", intel.SHA1: "Intel::FILE_HASH", intel.SHA256: "Intel::FILE_HASH", intel.SHA512: "Intel::FILE_HASH",
	intel.FileName: "Intel::FILE_NAME", intel.X509SHA1: "Intel::CERT_HASH", intel.X509SHA256: "Intel::CERT_HASH",
	intel.PubkeyHash: "Intel::PUBKEY_HASH", intel.Software: "Intel::SOFTWARE", intel.UserName: "Intel::USER_NAME",
	intel.JA3: "Intel::JA3", intel.JA3S: "Intel::JA3S",
}

// ZeekIntel writes a Zeek intelligence framework file: one line per value,
// meta.source the sources, meta.desc the actors and the indicator's name.
type ZeekIntel struct {
	w     *bufio.Writer
	lines int
}

// NewZeekIntel writes the header to w.
func NewZeekIntel(w io.Writer) (*ZeekIntel, error) {
	z := &ZeekIntel{w: bufio.NewWriterSize(w, 64<<10)}
	_, err := z.w.WriteString("#separator \\x09\n#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\n")
	return z, err
}

// Write implements Writer.
func (z *ZeekIntel) Write(ind *Indicator) (string, error) {
	spec := ind.Indicator
	if why := sensorSkip(spec); why != "" {
		return why, nil
	}
	written := 0
	for _, ob := range spec.Observables {
		typ, ok := zeekTypes[ob.Type]
		if !ok || ob.Port != 0 || ob.Issuer != "" {
			continue
		}
		value := ob.Value
		if ob.Type == intel.URL { // Zeek sees URLs without their scheme
			value = strings.TrimPrefix(strings.TrimPrefix(value, "http://"), "https://")
		}
		src := strings.Join(ind.Sources, ",")
		if src == "" {
			src = "whodunit"
		}
		fields := []string{zeekField(value), typ, zeekField(src), zeekField(describe(ind))}
		if _, err := z.w.WriteString(strings.Join(fields, "\t") + "\n"); err != nil {
			return "", err
		}
		written++
	}
	if written == 0 {
		return "no value Zeek can match", nil
	}
	z.lines += written
	return "", nil
}

// Close implements Writer.
func (z *ZeekIntel) Close(*Summary) error { return z.w.Flush() }

// sensorSkip says why a sensor should not get an indicator at all.
func sensorSkip(spec *intel.IndicatorSpec) string {
	switch {
	case spec == nil:
		return "not an indicator"
	case spec.HostOnly:
		return "host-only logic"
	case spec.Context:
		return "context only (not for detection)"
	case len(spec.Observables) == 0:
		return "pattern needs the evaluator"
	}
	return ""
}

// describe is "APT1, APT28: name" — the actors first, as analysts read it.
func describe(ind *Indicator) string {
	d := strings.Join(ind.ActorNames(), ", ")
	if ind.Name != "" && ind.Name != firstValue(ind) {
		if d != "" {
			d += ": "
		}
		d += ind.Name
	}
	return d
}

func firstValue(ind *Indicator) string {
	if ind.Indicator != nil && len(ind.Indicator.Observables) > 0 {
		return ind.Indicator.Observables[0].Value
	}
	return ""
}

// zeekField makes a value safe for one tab-separated field: no tabs or
// newlines, and "-" (Zeek's unset) for an empty one.
func zeekField(s string) string {
	if s == "" {
		return "-"
	}
	if strings.ContainsAny(s, "\t\r\n") {
		s = strings.NewReplacer("\t", " ", "\r", " ", "\n", " ").Replace(s)
	}
	return s
}
