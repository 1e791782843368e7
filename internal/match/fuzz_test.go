package match_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"net/netip"
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
		name = strings.TrimPrefix(name, "*.")
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

// FuzzReadInputs decodes arbitrary bytes as an inputs stream: it must never
// panic, every failure is an *InputError, and what decodes re-encodes to
// a stream that builds a snapshot of the same version.
func FuzzReadInputs(f *testing.F) {
	lists := []*intel.Warninglist{{Name: "l", MatchType: "cidr", Entries: []string{"10.0.0.0/8"}}}
	var valid bytes.Buffer
	if err := match.WriteInputs(&valid, testIndicators(), match.Options{Warninglists: lists}); err != nil {
		f.Fatal(err)
	}
	f.Add(valid.Bytes())
	f.Add(valid.Bytes()[:valid.Len()/2])
	f.Add([]byte("WDMINPUT\x01O\x01\x00E\x02\x00\x00"))
	f.Add([]byte("WDMINPUT\x01O\xff\xff\xff\xff\x03"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := match.BuildFromInputs(bytes.NewReader(data), nil)
		if err != nil {
			var ie *match.InputError
			if !errors.As(err, &ie) && !strings.Contains(err.Error(), "match") {
				t.Fatalf("error %v (%T) names no offset", err, err)
			}
			return
		}
		ir, err := match.NewInputReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		var objs []*intel.Object
		for {
			o, err := ir.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			objs = append(objs, o)
		}
		var again bytes.Buffer
		if err := match.WriteInputs(&again, objs, match.Options{Warninglists: ir.Warninglists()}); err != nil {
			t.Fatal(err)
		}
		s2, err := match.BuildFromInputs(&again, nil)
		if err != nil {
			t.Fatalf("re-encoded stream: %v", err)
		}
		if s.Version() != s2.Version() {
			t.Errorf("version %s, re-encoded %s", s.Version(), s2.Version())
		}
	})
}

// FuzzLoadCache feeds damaged snapshot cache files to LoadCache: as they
// are (the header and checksum checks), and with the fuzzed bytes as the
// payload behind a header whose length and checksum are right (the section
// decoder). A load either fails with an error or gives a snapshot that
// matches without panicking.
func FuzzLoadCache(f *testing.F) {
	lists := []*intel.Warninglist{{Name: "l", MatchType: "cidr", Entries: []string{"10.0.0.0/8"}}}
	opt := match.Options{Warninglists: lists}
	snap, err := match.Compile(testIndicators(), opt)
	if err != nil {
		f.Fatal(err)
	}
	var key [match.CacheKeyLen]byte
	var valid bytes.Buffer
	if err := snap.WriteCache(&valid, key); err != nil {
		f.Fatal(err)
	}
	const headerLen = 64
	f.Add(valid.Bytes(), false)
	f.Add(valid.Bytes()[headerLen:], true)
	f.Add(valid.Bytes()[headerLen:valid.Len()/2], true)
	f.Add([]byte("WDMSNAP\x00\x01\x00\x00\x00"), false)
	f.Fuzz(func(t *testing.T, data []byte, asPayload bool) {
		if asPayload {
			file := append(bytes.Clone(valid.Bytes()[:headerLen]), data...)
			binary.LittleEndian.PutUint64(file[48:], uint64(len(data)))
			binary.LittleEndian.PutUint32(file[56:], crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))
			data = file
		}
		s, err := match.LoadCache(data, key, opt)
		if err != nil {
			return
		}
		ev := &telemetry.Event{Kind: telemetry.KindDNS, Query: "a.evil.com", SrcIP: netip.MustParseAddr("10.1.2.3"),
			DstIP: netip.MustParseAddr("203.0.113.5"), Host: "evil.com", URI: "/x", CertSHA1: strings.Repeat("a", 40)}
		m := s.NewMatcher()
		m.Match(ev, func(*match.Sighting) {})
		m.Flush(func(*match.Sighting) {})
	})
}
