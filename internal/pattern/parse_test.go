package pattern_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/pattern"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		src      string
		line     int
		col      int
		contains string
	}{
		{"[file:size = 1280", 1, 18, "expected ']'"},
		{"file:size = 1280", 1, 1, "must start with ["},
		{"[file:size = ]", 1, 14, "expected a literal"},
		{"[file.size = 1280]", 1, 6, "expected ':'"},
		{"[file:name MATCHES /.*\\.dll/]", 1, 20, "MATCHES needs a string literal"},
		{"[a:b = 1] WITHIN ]", 1, 18, "expected a number of seconds"},
		{"[a:b = 1] WITHIN 5 HOURS", 1, 20, "expected SECONDS"},
		{"[a:b = 1] WITHIN -5 SECONDS", 1, 18, "positive number of seconds"},
		{"[a:b = 1] WITHIN 0 SECONDS", 1, 18, "positive number of seconds"},
		{"[a:b = 1] REPEATS 0 TIMES", 1, 19, "positive count"},
		{"[a:b = 1] REPEATS 2.5 TIMES", 1, 19, "whole number"},
		{"[network-traffic:dst_ref.value ISSUBSET ]", 1, 41, "ISSUBSET needs a string literal"},
		{"[file:hashes.MD5 =? 'x']", 1, 19, "expected a literal"},
		{"[x:y == t'2457-73-22T32:81:84.1Z']", 1, 9, "month 73"},
		{"[artifact:payload_bin = b'====']", 1, 25, "invalid binary literal"},
		{"[foo:bar=1] within 2 seconds", 1, 13, "keywords are upper case"},
		{"[file:hashes.'SHA-256' = 'f00']", 1, 26, "not a valid SHA-256 hash"},
		{"[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS", 1, 28, "duplicate WITHIN"},
		{"[a:b = 1]\n  AND [c:d = 'x\\n']", 2, 16, "invalid escape"},
		{"[a:b = null]", 1, 8, "null is not"},
		{"[some-type:needs-quotes = 1]", 1, 12, "quote it"},
		{"[a:b = 1] START t'2016-01-01T00:00:00Z'", 1, 40, "expected STOP"},
		{"[a:b = 01]", 1, 8, "leading zero"},
		{"[a:b > true]", 1, 8, "boolean"},
		{"[]", 1, 2, "empty observation expression"},
		{"", 1, 1, "empty"},
		{"[a:b = 1] /* never closed", 1, 11, "comment is not closed"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			_, err := pattern.Parse(tt.src)
			var pe *pattern.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error = %v, want a *pattern.Error", err)
			}
			if pe.Line != tt.line || pe.Column != tt.col || !strings.Contains(pe.Msg, tt.contains) {
				t.Errorf("got %q, want line %d, column %d containing %q", err, tt.line, tt.col, tt.contains)
			}
		})
	}
}

func TestParseValid(t *testing.T) {
	// Each pattern and its canonical form.
	tests := []struct{ src, canon string }{
		{"[file:size = 1280]", "[file:size = 1280]"},
		{"( [(network-traffic:dst_port IN(443,6443,8443) AND network-traffic:src_packets != 0) ])",
			"([network-traffic:dst_port IN (443, 6443, 8443) AND network-traffic:src_packets != 0])"},
		{"[a:b=1] AND [c:d=2] OR [e:f=3] FOLLOWEDBY [g:h=4]", "[a:b = 1] AND [c:d = 2] OR [e:f = 3] FOLLOWEDBY [g:h = 4]"},
		{"[a:b = 1 OR c:d = 2 AND e:f == 3]", "[a:b = 1 OR c:d = 2 AND e:f = 3]"},
		{"[(a:b = 1 OR c:d = 2) AND e:f <> 3]", "[(a:b = 1 OR c:d = 2) AND e:f != 3]"},
		{"[x:'has.dot' = +2] REPEATS +3 TIMES WITHIN .5 SECONDS", "[x:'has.dot' = 2] REPEATS 3 TIMES WITHIN 0.5 SECONDS"},
		{"[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]", "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]"},
		{"[a:b[-1].c NOT LIKE 'x%'] // comment\n", "[a:b[-1].c NOT LIKE 'x%']"},
		{"[a:b = h'0A0b' AND a:c = b'AQIDBA==' AND NOT EXISTS a:d]", "[a:b = h'0a0b' AND a:c = b'AQIDBA==' AND NOT EXISTS a:d]"},
		{"[a:b = 'it\\'s \\\\ here']", "[a:b = 'it\\'s \\\\ here']"},
		{"([a:b = 1]) WITHIN 5 SECONDS WITHIN 6 SECONDS", "([a:b = 1]) WITHIN 5 SECONDS WITHIN 6 SECONDS"},
		{"[x:created = t'2024-04-31T12:00:00Z']", "[x:created = t'2024-04-31T12:00:00Z']"},
		{"[process:command_line MATCHES'^x$']", "[process:command_line MATCHES '^x$']"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			p, err := pattern.Parse(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.String(); got != tt.canon {
				t.Errorf("String() (-want +got):\n%s", cmp.Diff(tt.canon, got))
			}
			again, err := pattern.Parse(p.String())
			if err != nil {
				t.Fatalf("canonical form does not parse: %v", err)
			}
			if again.String() != p.String() {
				t.Errorf("canonical form is not stable: %q", again.String())
			}
		})
	}
}

func TestLenientParse(t *testing.T) {
	for _, src := range []string{
		"[a:b = 1] REPEATS 2 TIMES REPEATS 3 TIMES",
		"[a:b = 1] START '2004-10-11T21:40:00Z' STOP '2004-10-11T21:50:00Z'",
	} {
		if _, err := pattern.Parse(src); err == nil {
			t.Errorf("Parse(%q) accepted it", src)
		}
		if _, err := pattern.ParseWith(src, pattern.Lenient); err != nil {
			t.Errorf("ParseWith(%q, Lenient): %v", src, err)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct{ src, contains string }{
		{"[a:b IN (1, true)]", "IN set mixes"},
		{"[a:b ISSUBSET 'not-a-cidr']", "needs an IPv4 or IPv6 address or CIDR"},
		{"[a:b MATCHES '(?<=x)y']", "look-behind"},
		{"[a:b MATCHES '(a)\\\\1']", "back-reference"},
		{"[a:b MATCHES 'a++']", "possessive"},
		{"[a:b MATCHES '(?>a)']", "atomic group"},
		{"[a:b MATCHES '[']", "invalid regular expression"},
		{"[x:created = t'2024-04-31T12:00:00Z']", "not a date"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			p, err := pattern.Parse(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			_, err = pattern.Compile(p)
			var pe *pattern.Error
			if !errors.As(err, &pe) || !strings.Contains(pe.Msg, tt.contains) {
				t.Errorf("Compile error = %v, want one containing %q", err, tt.contains)
			}
		})
	}
}

func TestRegexTranslation(t *testing.T) {
	obs, err := pattern.LoadObservations([]byte(`[{"type":"observed-data","number_observed":1,
		"first_observed":"2020-01-01T00:00:00Z","last_observed":"2020-01-01T00:00:00Z",
		"objects":{"0":{"type":"x","s":"line one\n","t":"tab\there","bin_hex":"d4c3b2a1"}}}]`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		re   string
		want bool
	}{
		{`one\\Z`, true},        // \Z: end or before a final newline
		{`^tab\\hhere$`, false}, // on s: no match
		{`(?i)LINE`, true},
		{`\\Qline\\E`, true},
		{`^\\xd4\\xc3`, true}, // binary, byte by byte
	}
	for _, tt := range tests {
		path := "x:s"
		if strings.Contains(tt.re, "tab") {
			path = "x:s"
		}
		if strings.Contains(tt.re, `xd4`) {
			path = "x:bin_hex"
		}
		p, err := pattern.Parse("[" + path + " MATCHES '" + tt.re + "']")
		if err != nil {
			t.Fatalf("%s: %v", tt.re, err)
		}
		got, _, err := pattern.Match(p, obs)
		if err != nil || got != tt.want {
			t.Errorf("%s: got %v, %v; want %v", tt.re, got, err, tt.want)
		}
	}
	p := pattern.MustParse(`[x:t MATCHES '^tab\\hhere$']`)
	if got, _, err := pattern.Match(p, obs); err != nil || !got {
		t.Errorf(`\h: got %v, %v`, got, err)
	}
}

// TestIntelPatternsValidate parses every pattern in the shared STIX examples.
func TestIntelPatternsValidate(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "data", "intel", "stix")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) == 0 {
		t.Skip("shared data not present")
	}
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var bundle struct {
			Objects []map[string]any `json:"objects"`
		}
		if err := json.Unmarshal(data, &bundle); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, o := range bundle.Objects {
			src, ok := o["pattern"].(string)
			if !ok {
				continue
			}
			n++
			p, err := pattern.Parse(src)
			if err != nil {
				t.Errorf("%s: %s: %v", filepath.Base(f), src, err)
				continue
			}
			if _, err := pattern.Compile(p); err != nil {
				t.Errorf("%s: %s: compile: %v", filepath.Base(f), src, err)
			}
		}
	}
	if n < 40 {
		t.Errorf("found only %d patterns", n)
	}
	t.Logf("%d patterns validated", n)
}

func TestObservables(t *testing.T) {
	tests := []struct {
		src  string
		want []intel.Observable
	}{
		{"[ipv4-addr:value = '223.166.0.0/15']", []intel.Observable{{Type: intel.CIDR, Value: "223.166.0.0/15"}}},
		{"[ipv4-addr:value = '10.0.0.1'] OR [ipv6-addr:value = '2001:DB8::1']", []intel.Observable{{Type: intel.IPv4, Value: "10.0.0.1"}, {Type: intel.IPv6, Value: "2001:db8::1"}}},
		{"[domain-name:value = 'WWW.Example.com' OR ipv4-addr:value = '113.10.246.30']", []intel.Observable{{Type: intel.Domain, Value: "www.example.com"}, {Type: intel.IPv4, Value: "113.10.246.30"}}},
		{"[file:hashes.md5 = '001DD76872D80801692FF942308C64E6']", []intel.Observable{{Type: intel.MD5, Value: "001dd76872d80801692ff942308c64e6"}}},
		{"[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28']",
			[]intel.Observable{{Type: intel.X509Serial, Value: "4c0b1d197486a766b41abf4027217628", Issuer: "CN=WEBMAIL"}}},
		{"[url:value IN ('http://a.example/x', 'http://b.example/')]", []intel.Observable{{Type: intel.URL, Value: "http://a.example/x"}, {Type: intel.URL, Value: "http://b.example/"}}},
		{"[network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24']", []intel.Observable{{Type: intel.CIDR, Value: "198.51.100.0/24"}}},
		{"[email-message:from_ref.value = 'Bad@Evil.Example']", []intel.Observable{{Type: intel.Email, Value: "bad@evil.example"}}},
		{"[domain-name:value = 'a.example'] AND [domain-name:value = 'b.example']", nil},
		{"[domain-name:value = 'a.example'] WITHIN 5 SECONDS", nil},
		{"[domain-name:value != 'a.example']", nil},
		{"[domain-name:value = 'a.example' AND domain-name:resolves_to_refs[*].value = '1.2.3.4']", nil},
		{"[file:name = 'CBricksDoc']", nil},
		{"[domain-name:value = 'domain autuo.xicp.net' OR ipv4-addr:value = '60.10.1.115']", nil},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			got, ok := pattern.MustParse(tt.src).Observables()
			if ok != (tt.want != nil) {
				t.Fatalf("ok = %v, observables %v", ok, got)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestObservablesRoundTrip checks that intel.Observable.STIXPattern and
// Observables agree on every type of the fast lookup tables.
func TestObservablesRoundTrip(t *testing.T) {
	fast := []intel.Observable{
		{Type: intel.IPv4, Value: "198.51.100.7"},
		{Type: intel.IPv4, Value: "198.51.100.7", Port: 8443},
		{Type: intel.IPv6, Value: "2001:db8::7"},
		{Type: intel.CIDR, Value: "198.51.100.0/24"},
		{Type: intel.CIDR, Value: "2001:db8::/32"},
		{Type: intel.Domain, Value: "evil.example"},
		{Type: intel.URL, Value: "http://evil.example/a?b=c"},
		{Type: intel.MD5, Value: "001dd76872d80801692ff942308c64e6"},
		{Type: intel.SHA1, Value: "0123456789abcdef0123456789abcdef01234567"},
		{Type: intel.SHA256, Value: strings.Repeat("ab", 32)},
		{Type: intel.SHA512, Value: strings.Repeat("cd", 64)},
		{Type: intel.Email, Value: "bad@evil.example"},
		{Type: intel.JA3, Value: "e7d705a3286e19ea42f587b344ee6865"},
		{Type: intel.JA3S, Value: "f4febc55ea12b31ae17cfb7e614afda8"},
		{Type: intel.X509SHA1, Value: "0123456789abcdef0123456789abcdef01234567"},
		{Type: intel.X509SHA256, Value: strings.Repeat("ef", 32)},
		{Type: intel.X509Serial, Value: "4c0b1d197486a766b41abf4027217628"},
		{Type: intel.X509Serial, Value: "4c0b1d197486a766b41abf4027217628", Issuer: "CN=WEBMAIL"},
		{Type: intel.UserAgent, Value: "Mozilla/4.0 (compatible; MSIE 6.0; it's)"},
	}
	for _, o := range fast {
		t.Run(string(o.Type)+" "+o.Value, func(t *testing.T) {
			src := o.STIXPattern()
			p, err := pattern.Parse(src)
			if err != nil {
				t.Fatalf("%s: %v", src, err)
			}
			got, ok := p.Observables()
			if !ok {
				t.Fatalf("%s: not recognised as simple", src)
			}
			if diff := cmp.Diff([]intel.Observable{o}, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", src, diff)
			}
		})
	}
	// Types the fast tables do not hold still render as valid patterns that
	// the evaluator runs.
	for _, o := range []intel.Observable{
		{Type: intel.FileName, Value: "CBricksDoc"},
		{Type: intel.EmailSubj, Value: "Invoice"},
		{Type: intel.ASN, Value: "AS4134"},
		{Type: intel.Port, Value: "4444"},
		{Type: intel.URIPath, Value: "/admin.php"},
	} {
		p, err := pattern.Parse(o.STIXPattern())
		if err != nil {
			t.Errorf("%s: %v", o.STIXPattern(), err)
			continue
		}
		if _, ok := p.Observables(); ok {
			t.Errorf("%s: should need the evaluator", o.STIXPattern())
		}
		if _, err := pattern.Compile(p); err != nil {
			t.Errorf("%s: %v", o.STIXPattern(), err)
		}
	}
}
