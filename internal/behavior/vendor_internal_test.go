package behavior

import (
	"strings"
	"testing"
)

func TestDecodeNetworkListErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{"groups":{"g":"x"},"networks":[{"asn":1,"org":"A","group":"g"}]}`, ""},
		{`{"groups":{"g":"x"},"networks":[{"asn":0,"org":"A","group":"g"}]}`, "network 0 (AS0)"},
		{`{"groups":{"g":"x"},"networks":[{"asn":1,"org":"A","group":"h"}]}`, "known group"},
		{`{"groups":{"g":"x"},"networks":[{"asn":1,"org":"A","group":"g"},{"asn":1,"org":"B","group":"g"}]}`, "network 1 (AS1)"},
		{`{"groups":{},"networks":[],"extra":1}`, "unknown field"},
		{`{"networks":[`, "unexpected EOF"},
	} {
		_, err := decodeNetworkList([]byte(tt.in), "n.json")
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "n.json: ")) {
			t.Errorf("%s: error %v, want %q", tt.in, err, tt.want)
		}
	}
}

func FuzzDecodeNetworkList(f *testing.F) {
	if data, err := listFS.ReadFile("lists/vendor-networks.json"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"groups":{"g":"x"},"networks":[{"asn":1,"org":"A","group":"g"}]}`))
	f.Add([]byte(`{"networks":[{"asn":-1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		nets, err := decodeNetworkList(data, "fuzz.json")
		if err != nil {
			return
		}
		seen := map[uint32]bool{}
		for _, n := range nets {
			if n.ASN == 0 || n.Org == "" || seen[n.ASN] {
				t.Fatalf("accepted a bad entry: %+v", n)
			}
			seen[n.ASN] = true
		}
	})
}
