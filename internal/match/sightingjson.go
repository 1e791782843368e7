package match

import (
	"net/netip"
	"strconv"

	"github.com/whodunit-project/whodunit/internal/jsonstr"
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

func jsonField(b []byte, name, v string) []byte {
	return jsonstr.Append(append(b, name...), v, jsonstr.HTML)
}

// jsonAddr writes a as its text, "" for no address (netip.Addr's
// MarshalText).
func jsonAddr(b []byte, a netip.Addr) []byte {
	var buf [48]byte
	text, _ := a.AppendText(buf[:0])
	return jsonstr.Append(b, string(text), jsonstr.HTML)
}
