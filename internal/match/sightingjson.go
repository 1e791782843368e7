package match

import (
	"net/netip"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends sg as JSON, the very bytes json.Marshal writes of
// it, without reflection: sightings are stored and shared by the ten
// thousand, and reflection was most of the cost (FuzzSightingJSON
// holds the two to the same output).
func (sg *Sighting) AppendJSON(b []byte) ([]byte, error) {
	b = jsonField(b, `{"indicator_id":`, sg.IndicatorID)
	b = jsonField(b, `,"snapshot":`, sg.Snapshot)
	b = jsonField(b, `,"type":`, string(sg.Type))
	b = jsonField(b, `,"indicator":`, sg.Indicator)
	b = jsonField(b, `,"field":`, sg.Field)
	b = jsonField(b, `,"value":`, sg.Value)
	b = jsonField(b, `,"direction":`, sg.Direction)
	b = strconv.AppendBool(append(b, `,"suppressed":`...), sg.Suppressed)
	b = jsonField(b, `,"warninglist":`, sg.Warninglist)
	if sg.Retrospective {
		b = append(b, `,"retrospective":true`...)
	}
	b = append(b, `,"time":"`...)
	b, err := sg.Time.AppendText(b) // RFC 3339, as MarshalJSON: an error for a year past 9999
	if err != nil {
		return nil, err
	}
	b = strconv.AppendUint(append(b, `","kind":`...), uint64(sg.Kind), 10)
	if sg.Source != "" {
		b = jsonField(b, `,"source":`, sg.Source)
	}
	b = jsonField(b, `,"file":`, sg.File)
	b = strconv.AppendInt(append(b, `,"line":`...), sg.Line, 10)
	b = strconv.AppendInt(append(b, `,"offset":`...), sg.Offset, 10)
	b = jsonField(b, `,"uid":`, sg.UID)
	b = jsonAddr(append(b, `,"src_ip":`...), sg.SrcIP)
	b = jsonAddr(append(b, `,"dst_ip":`...), sg.DstIP)
	b = strconv.AppendUint(append(b, `,"src_port":`...), uint64(sg.SrcPort), 10)
	b = strconv.AppendUint(append(b, `,"dst_port":`...), uint64(sg.DstPort), 10)
	return append(b, '}'), nil
}

func jsonField(b []byte, name, v string) []byte { return appendJSONString(append(b, name...), v) }

// jsonAddr writes a as its text, "" for no address (netip.Addr's
// MarshalText).
func jsonAddr(b []byte, a netip.Addr) []byte {
	var buf [48]byte
	text, _ := a.AppendText(buf[:0])
	return appendJSONString(b, string(text))
}

// appendJSONString quotes s as encoding/json does by default: <, > and &
// escaped for HTML, control characters as \b \f \n \r \t or \u00XX, bad
// UTF-8 as \ufffd, and U+2028 and U+2029 escaped for JavaScript.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(append(b, s[start:i]...), `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(append(b, s[start:]...), '"')
}
