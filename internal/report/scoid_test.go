package report

import (
	"testing"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// The expected ids were computed independently with Python's uuid.uuid5
// over json.dumps(props, separators=(',', ':'), sort_keys=True,
// ensure_ascii=False), which is RFC 8785 for these values.
func TestSCOID(t *testing.T) {
	for _, tc := range []struct {
		typ   intel.ValueType
		value string
		want  string
	}{
		{intel.IPv4, "198.51.100.3", "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"},
		{intel.CIDR, "198.51.100.3", "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"},
		{intel.MD5, "001dd76872d80801692ff942308c64e6", "file--c232383c-6835-583b-864f-715183141be8"},
		{intel.Domain, "a\"b\\c\x01é.example", "domain-name--9d640057-2508-578f-b9e4-6c5f3aef8641"},
		{intel.ASN, "AS17621", "autonomous-system--173d8348-d173-55bf-b719-40551a7634cb"},
		// is_multipart is not id-contributing
		{intel.EmailSubj, "hi", "email-message--6896cf7f-c191-563a-8d7f-0cb2105f6663"},
	} {
		got, ok := scoFor(tc.typ, tc.value)
		if !ok || got.id != tc.want {
			t.Errorf("scoFor(%s, %q) = %q, %v; want %q", tc.typ, tc.value, got.id, ok, tc.want)
		}
	}
	for _, tc := range []struct {
		typ   intel.ValueType
		value string
	}{{intel.JA3, "e7d705a3286e19ea42f587b344ee6865"}, {intel.UserAgent, "Mozilla/4.0"}, {intel.IPv4, "not-an-ip"}, {intel.Domain, ""}} {
		if _, ok := scoFor(tc.typ, tc.value); ok {
			t.Errorf("scoFor(%s, %q): want no SCO", tc.typ, tc.value)
		}
	}
}
