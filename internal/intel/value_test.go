package intel_test

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/intel"
)

func TestRefang(t *testing.T) {
	tests := []struct{ in, want string }{
		{"evil[.]example", "evil.example"},
		{"evil(.)example", "evil.example"},
		{"evil{.}example", "evil.example"},
		{"evil[dot]example", "evil.example"},
		{"evil(dot)example", "evil.example"},
		{"evil{dot}example", "evil.example"},
		{"evil[DOT]example", "evil.example"},
		{"evil [.] example", "evil.example"},
		{"hxxp://evil[.]example/x", "http://evil.example/x"},
		{"HXXPS://evil[.]example", "https://evil.example"},
		{"hXXp[:]//evil.example", "http://evil.example"},
		{"fxp://files[.]example", "ftp://files.example"},
		{"user[at]evil[.]example", "user@evil.example"},
		{"user[@]evil.example", "user@evil.example"},
		{"198[.]51[.]100[.]7", "198.51.100.7"},
		{"evil.example[/]path", "evil.example/path"},
		{"plain.example", "plain.example"},
		{"xylophone.example", "xylophone.example"},
	}
	for _, tt := range tests {
		if got := intel.Refang(tt.in); got != tt.want {
			t.Errorf("Refang(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		typ  intel.ValueType
		in   string
		want string // "" = rejected
	}{
		{intel.Domain, "Evil.Example.", "evil.example"},
		{intel.Domain, "bücher.example", "xn--bcher-kva.example"},
		{intel.Domain, "BÜCHER.example", "xn--bcher-kva.example"},
		{intel.Domain, "evil[.]example", "evil.example"},
		{intel.Domain, "evil..example", ""},
		{intel.Domain, "evil.example..", ""},
		{intel.Domain, ".evil.example", ""},
		{intel.Domain, "evil example", ""},
		{intel.Domain, strings.Repeat("a", 64) + ".example", ""},
		{intel.Domain, strings.Repeat("a", 63) + ".example", strings.Repeat("a", 63) + ".example"},
		{intel.IPv4, "198.51.100.7", "198.51.100.7"},
		{intel.IPv4, "::ffff:198.51.100.7", "198.51.100.7"},
		{intel.IPv4, "198[.]51.100.7", "198.51.100.7"},
		{intel.IPv4, "2001:db8::1", ""},
		{intel.IPv6, "2001:DB8:0:0::1", "2001:db8::1"},
		{intel.IPv6, "fe80::1%eth0", "fe80::1"},
		{intel.CIDR, "198.51.100.7/24", "198.51.100.0/24"},
		{intel.CIDR, "198.51.100.7", "198.51.100.7/32"},
		{intel.CIDR, "::ffff:198.51.100.0/120", "198.51.100.0/24"},
		{intel.URL, "hxxp://Evil[.]Example:80", "http://evil.example/"},
		{intel.URL, "evil.example/gate.php?id=1", "http://evil.example/gate.php?id=1"},
		{intel.URL, "https://[2001:db8::1]:443/x#frag", "https://[2001:db8::1]/x"},
		{intel.MD5, "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e"},
		{intel.MD5, "d41d8cd98f00b204e9800998ecf8427", ""},
		{intel.SHA1, "DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:09", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
		{intel.X509SHA1, "B054E26EF827FBBF5829F84A9BDBB697A5B042FC", "b054e26ef827fbbf5829f84a9bdbb697a5b042fc"},
		{intel.JA3, "E7D705A3286E19EA42F587B344EE6865", "e7d705a3286e19ea42f587b344ee6865"},
		{intel.Email, "Phish@Mail.Example", "phish@mail.example"},
		{intel.Email, "user[at]bücher[.]example", "user@xn--bcher-kva.example"},
		{intel.Email, "@evil.example", ""},
		{intel.PubkeyHash, "E4B18ECA6E0BAED4C8737E3AB77F617A", "e4:b1:8e:ca:6e:0b:ae:d4:c8:73:7e:3a:b7:7f:61:7a"},
		{intel.PubkeyHash, "e4:b1:8e:ca:6e:0b:ae:d4:c8:73:7e:3a:b7:7f:61:7a", "e4:b1:8e:ca:6e:0b:ae:d4:c8:73:7e:3a:b7:7f:61:7a"},
		{intel.PubkeyHash, "e4:b1", ""},
		{intel.Software, " Evil-Agent/1.0 ", "Evil-Agent/1.0"},
		{intel.UserName, "svc_backup", "svc_backup"},
		{intel.UserName, "", ""},
		{intel.ASN, "as64500", "AS64500"},
	}
	for _, tt := range tests {
		got, err := intel.Normalize(tt.typ, tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("Normalize(%s, %q) = %q, want an error", tt.typ, tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%s, %q) = %q, %v; want %q", tt.typ, tt.in, got, err, tt.want)
			continue
		}
		// normalising is idempotent
		if again, err := intel.Normalize(tt.typ, got); err != nil || again != got {
			t.Errorf("Normalize(%s, %q) again = %q, %v", tt.typ, got, again, err)
		}
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		in   string
		want intel.ValueType
	}{
		{"198.51.100.7", intel.IPv4},
		{"::ffff:198.51.100.7", intel.IPv4},
		{"2001:db8::1", intel.IPv6},
		{"198.51.100.0/24", intel.CIDR},
		{"2001:db8::/32", intel.CIDR},
		{"evil.example", intel.Domain},
		{"Evil.Example.", intel.Domain},
		{"evil[.]example", intel.Domain},
		{"bücher.example", intel.Domain},
		{"hxxp://evil[.]example/x", intel.URL},
		{"evil.example/gate.php", intel.URL},
		{"user@evil.example", intel.Email},
		{"user[at]evil[.]example", intel.Email},
		{"d41d8cd98f00b204e9800998ecf8427e", intel.MD5}, // a JA3 looks the same: lists say --type ja3
		{"da39a3ee5e6b4b0d3255bfef95601890afd80709", intel.SHA1},
		{"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", intel.SHA256},
		{"1.2.3", intel.UnknownType},
		{"010.1.1.1", intel.UnknownType},
		{"not a value", intel.UnknownType},
		{"hello", intel.UnknownType},
		{"evil..example", intel.UnknownType},
		{"", intel.UnknownType},
	}
	for _, tt := range tests {
		if got := intel.Detect(tt.in); got != tt.want {
			t.Errorf("Detect(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseValueType(t *testing.T) {
	tests := []struct {
		in   string
		want intel.ValueType
	}{
		{"ip", intel.IPv4}, {"IP-DST", intel.IPv4}, {"ipv6", intel.IPv6}, {"subnet", intel.CIDR},
		{"hostname", intel.Domain}, {"domain", intel.Domain}, {"url", intel.URL},
		{"md5_hash", intel.MD5}, {"sha1_hash", intel.SHA1}, {"SHA256_HASH", intel.SHA256},
		{"ja3-fingerprint-md5", intel.JA3}, {"ja3", intel.JA3},
		{"x509-fingerprint-sha1", intel.X509SHA1}, {"email-src", intel.Email},
		{"filename", intel.FileName}, {"username", intel.UserName}, {"user-name", intel.UserName},
		{"software", intel.Software}, {"pubkey-hash", intel.PubkeyHash},
	}
	for _, tt := range tests {
		if got, err := intel.ParseValueType(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseValueType(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := intel.ParseValueType("text"); err == nil {
		t.Error("ParseValueType(text): want an error")
	}
	for _, vt := range intel.ValueTypes {
		if got, err := intel.ParseValueType(string(vt)); err != nil || got != vt {
			t.Errorf("ParseValueType(%q) = %q, %v", vt, got, err)
		}
	}
}

// deriveIDReference is DeriveID as first written (sha1 over namespace and
// type, a NUL before each part): ids are stored, so they must never change.
func deriveIDReference(objType string, parts ...string) string {
	h := sha1.New()
	h.Write([]byte("whodunit:" + objType))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	sum := h.Sum(nil)
	sum[6] = sum[6]&0x0f | 0x50
	sum[8] = sum[8]&0x3f | 0x80
	b := hex.EncodeToString(sum[:16])
	return objType + "--" + b[0:8] + "-" + b[8:12] + "-" + b[12:16] + "-" + b[16:20] + "-" + b[20:32]
}

func TestDeriveIDStable(t *testing.T) {
	long := strings.Repeat("x", 1000)
	cases := [][]string{
		{"indicator", "domain", "evil.example"},
		{"indicator", "ipv4", "198.51.100.7", "443"},
		{"relationship", "indicates", "indicator--4160cff6-4690-5270-a254-221d7d9bf406", "intrusion-set--e4f82fe0-79ed-51b9-9b5a-073e9998b479"},
		{"identity", "name", long},
		{"x"},
		{"indicator", "", ""},
	}
	for _, c := range cases {
		if got, want := intel.DeriveID(c[0], c[1:]...), deriveIDReference(c[0], c[1:]...); got != want {
			t.Errorf("DeriveID(%q) = %s, want %s", c, got, want)
		}
	}
	// a known value, so a change of namespace or layout is caught too
	if got := intel.DeriveID("indicator", "domain", "advanbusiness.com"); got != "indicator--4160cff6-4690-5270-a254-221d7d9bf406" {
		t.Errorf("DeriveID(advanbusiness.com) = %s", got)
	}
}
