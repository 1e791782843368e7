package match_test

import (
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

var fuzzDomains = []string{"evil.com", "b.example.org", "xn--bcher-kva.example", "x"}

// FuzzMatch feeds arbitrary strings into every field the matcher parses
// (host names with ports, DNS answers, URLs, distinguished names, e-mail
// addresses, serials) and checks that it never panics and that domain
// hits agree with a plain suffix oracle.
func FuzzMatch(f *testing.F) {
	f.Add("a.b.EVIL.com.", "evil.com:8080", "/x?y", "CN=*.evil.com,O=Evil\\, Inc", "Boss <boss@mail.evil.com>", "0A:1B", "[::1]:80")
	f.Add("notevil.com", "203.0.113.5", "http://evil.com/", "/C=US/CN=x", "a@", "", "1.2.3.4")
	f.Add("", "", "", "", "", "", "")
	f.Add("..", ":", "://", "CN=", "<@>", "::::", "[")
	var objs []*intel.Object
	for _, d := range fuzzDomains {
		objs = append(objs, ind("d:"+d, ob(intel.Domain, d)))
	}
	objs = append(objs,
		ind("ip", ob(intel.IPv4, "203.0.113.5")),
		ind("net", ob(intel.CIDR, "10.0.0.0/8")),
		ind("url", ob(intel.URL, "http://evil.com/x?y")),
		ind("serial", intel.Observable{Type: intel.X509Serial, Value: "0a1b", Issuer: "CN=x,C=US"}),
		ind("mail", ob(intel.Email, "boss@mail.evil.com")))
	s, err := match.Compile(objs, match.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, query, host, uri, subject, email, serial, answer string) {
		ev := &telemetry.Event{Kind: telemetry.KindDNS, Query: query, Host: host, URI: uri, CertSubject: subject,
			CertIssuer: subject, MailFrom: email, RcptTo: []string{email}, CertSerial: serial, Answers: []string{answer, query},
			SNI: host, CertSANs: []string{answer}}
		queryHits := map[string]bool{}
		s.Match(ev, func(sg *match.Sighting) {
			if sg.Field == "dns.query" && sg.Type == intel.Domain {
				queryHits[sg.IndicatorID] = true
			}
		})
		name := strings.TrimSuffix(query, ".")
		if strings.HasPrefix(name, "*.") {
			name = name[2:]
		}
		lower := asciiLower(name)
		for _, d := range fuzzDomains {
			want := lower == d || strings.HasSuffix(lower, "."+d)
			if want != queryHits["d:"+d] {
				t.Errorf("query %q, indicator %q: matched %v, want %v", query, d, queryHits["d:"+d], want)
			}
		}
	})
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
