package export

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// mispTypes maps value types to MISP attribute types and categories.
var mispTypes = map[intel.ValueType][2]string{
	intel.IPv4: {"ip-dst", "Network activity"}, intel.IPv6: {"ip-dst", "Network activity"},
	intel.CIDR: {"ip-dst", "Network activity"}, intel.Domain: {"domain", "Network activity"},
	intel.URL: {"url", "Network activity"}, intel.URIPath: {"uri", "Network activity"},
	intel.MD5: {"md5", "Payload delivery"}, intel.SHA1: {"sha1", "Payload delivery"},
	intel.SHA256: {"sha256", "Payload delivery"}, intel.SHA512: {"sha512", "Payload delivery"},
	intel.Email: {"email-src", "Payload delivery"}, intel.EmailSubj: {"email-subject", "Payload delivery"},
	intel.FileName: {"filename", "Payload delivery"}, intel.UserAgent: {"user-agent", "Network activity"},
	intel.JA3: {"ja3-fingerprint-md5", "Network activity"}, intel.X509SHA1: {"x509-fingerprint-sha1", "Network activity"},
	intel.X509SHA256: {"x509-fingerprint-sha256", "Network activity"}, intel.ASN: {"AS", "Network activity"},
}

// MISP writes one MISP event whose attributes are the indicators, each
// tagged with its TLP and its actors as misp-galaxy:threat-actor tags; the
// event is tagged with the most restrictive TLP of its attributes.
type MISP struct {
	w     *bufio.Writer
	now   time.Time
	n     int
	first bool
}

// NewMISP writes the head of the event to w; now dates it.
func NewMISP(w io.Writer, now time.Time) (*MISP, error) {
	m := &MISP{w: bufio.NewWriterSize(w, 64<<10), now: now.UTC(), first: true}
	org, _ := json.Marshal(map[string]string{"name": "whodunit", "uuid": uuidOf(intel.DeriveID("identity", "whodunit"))})
	id := uuidOf(intel.DeriveID("report", "whodunit-export", m.now.Format(time.RFC3339Nano)))
	_, err := fmt.Fprintf(m.w, `{"Event":{"uuid":%q,"date":%q,"timestamp":"%d","threat_level_id":"2","analysis":"2","distribution":"0","Orgc":%s,"Attribute":[`,
		id, m.now.Format("2006-01-02"), m.now.Unix(), org)
	return m, err
}

type mispAttr struct {
	UUID      string    `json:"uuid"`
	Type      string    `json:"type"`
	Category  string    `json:"category"`
	Value     string    `json:"value"`
	ToIDS     bool      `json:"to_ids"`
	Comment   string    `json:"comment,omitempty"`
	Timestamp string    `json:"timestamp"`
	FirstSeen string    `json:"first_seen,omitempty"`
	LastSeen  string    `json:"last_seen,omitempty"`
	Tag       []mispTag `json:"Tag,omitempty"`
}

type mispTag struct {
	Name string `json:"name"`
}

// Write implements Writer.
func (m *MISP) Write(ind *Indicator) (string, error) {
	attrs := m.attributes(ind)
	if len(attrs) == 0 {
		return "no MISP attribute type for its values", nil
	}
	for _, a := range attrs {
		b, err := json.Marshal(a)
		if err != nil {
			return "", err
		}
		if !m.first {
			m.w.WriteByte(',')
		}
		m.first = false
		if _, err := m.w.Write(b); err != nil {
			return "", err
		}
		m.n++
	}
	return "", nil
}

// attributes are one per value; a pattern with no single value goes as
// the stix2-pattern attribute MISP has for it.
func (m *MISP) attributes(ind *Indicator) []mispAttr {
	spec := ind.Indicator
	if spec == nil {
		return nil
	}
	base := mispAttr{ToIDS: !spec.Context && !spec.HostOnly, Comment: describe(ind), Timestamp: strconv.FormatInt(ind.Modified.Unix(), 10)}
	if ind.Modified.IsZero() {
		base.Timestamp = strconv.FormatInt(m.now.Unix(), 10)
	}
	if !spec.ValidFrom.IsZero() {
		base.FirstSeen = spec.ValidFrom.UTC().Format(time.RFC3339)
	}
	if !spec.ValidUntil.IsZero() {
		base.LastSeen = spec.ValidUntil.UTC().Format(time.RFC3339)
	}
	if ind.TLP != "" {
		base.Tag = append(base.Tag, mispTag{"tlp:" + ind.TLP})
	}
	for _, name := range ind.ActorNames() {
		base.Tag = append(base.Tag, mispTag{fmt.Sprintf("misp-galaxy:threat-actor=%q", name)})
	}
	var out []mispAttr
	for i, ob := range spec.Observables {
		t, ok := mispTypes[ob.Type]
		if !ok || ob.Issuer != "" {
			continue
		}
		a := base
		a.Type, a.Category, a.Value = t[0], t[1], ob.Value
		if ob.Port != 0 {
			a.Type, a.Value = "ip-dst|port", ob.Value+"|"+strconv.Itoa(ob.Port)
		}
		a.UUID = uuidOf(ind.ID)
		if i > 0 || a.UUID == "" {
			a.UUID = uuidOf(intel.DeriveID("indicator", ind.ID, string(ob.Type), ob.Value))
		}
		out = append(out, a)
	}
	if len(spec.Observables) == 0 && spec.PatternType == "stix" && spec.Pattern != "" {
		a := base
		a.Type, a.Category, a.Value, a.UUID = "stix2-pattern", "Network activity", spec.Pattern, uuidOf(ind.ID)
		if a.UUID == "" {
			a.UUID = uuidOf(intel.DeriveID("indicator", ind.ID))
		}
		out = append(out, a)
	}
	return out
}

// Close implements Writer: the event's tags and info, known only now.
func (m *MISP) Close(sum *Summary) error {
	tags := []mispTag{}
	if sum.Marking != "" {
		tags = append(tags, mispTag{"tlp:" + sum.Marking})
	}
	b, err := json.Marshal(tags)
	if err != nil {
		return err
	}
	info, _ := json.Marshal(fmt.Sprintf("whodunit export: %d indicators", sum.Exported))
	if _, err := fmt.Fprintf(m.w, `],"Tag":%s,"info":%s}}`+"\n", b, info); err != nil {
		return err
	}
	return m.w.Flush()
}

// uuidOf is the uuid of a "type--uuid" id, or "".
func uuidOf(id string) string {
	if _, ok := uuidKey(id); !ok {
		return ""
	}
	return id[strings.Index(id, "--")+2:]
}
