package match_test

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// listSet is a warninglist stand-in: exact values per type, plus domains
// that cover their subdomains.
type listSet map[string]string // "type|value" → list name

func (l listSet) Check(t intel.ValueType, v string) []string {
	if n, ok := l[string(t)+"|"+v]; ok {
		return []string{n}
	}
	if t == intel.Domain {
		for d := v; ; {
			if n, ok := l["domain|"+d]; ok {
				return []string{n}
			}
			i := strings.IndexByte(d, '.')
			if i < 0 {
				break
			}
			d = d[i+1:]
		}
	}
	return nil
}

func ind(id string, obs ...intel.Observable) *intel.Object {
	return &intel.Object{ID: id, Type: intel.TypeIndicator, Indicator: &intel.IndicatorSpec{PatternType: "stix", Observables: obs}}
}

func ob(t intel.ValueType, v string) intel.Observable { return intel.Observable{Type: t, Value: v} }

var t2020 = time.Date(2020, 6, 1, 12, 0, 0, 0, time.UTC)

func testIndicators() []*intel.Object {
	timed := ind("timed", ob(intel.Domain, "timed.example"))
	timed.Indicator.ValidFrom = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	timed.Indicator.ValidUntil = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	revoked := ind("revoked", ob(intel.Domain, "revoked.example"))
	revoked.Revoked = true
	ctx := ind("context", ob(intel.Domain, "context.example"))
	ctx.Indicator.Context = true
	host := ind("hostonly", ob(intel.FileName, "evil.exe"))
	host.Indicator.HostOnly = true
	listed := ind("listed-by-importer", ob(intel.Domain, "cdn.example"))
	listed.Indicator.Warninglists = []string{"cdn-list"}
	return []*intel.Object{
		ind("dom", ob(intel.Domain, "evil.com")),
		ind("ip4", ob(intel.IPv4, "203.0.113.5")),
		ind("ip6", ob(intel.IPv6, "2001:db8::66")),
		ind("cidr24", ob(intel.CIDR, "198.51.100.0/24")),
		ind("cidr16", ob(intel.CIDR, "198.51.0.0/16")),
		ind("port", intel.Observable{Type: intel.IPv4, Value: "192.0.2.7", Port: 8443}),
		ind("url", ob(intel.URL, "http://Bad.Example.org/gate.php?id=1")),
		ind("md5", ob(intel.MD5, "0123456789abcdef0123456789abcdef")),
		ind("sha1", ob(intel.SHA1, "0123456789abcdef0123456789abcdef01234567")),
		ind("sha256", ob(intel.SHA256, strings.Repeat("ab", 32))),
		ind("certfp", ob(intel.X509SHA1, "b054e26ef827fbbf5829f84a9bdbb697a5b042fc")),
		ind("serial", intel.Observable{Type: intel.X509Serial, Value: "0A:1B:2C", Issuer: "C=US, O=Evil CA"}),
		ind("serial-any", ob(intel.X509Serial, "77")),
		ind("ja3", ob(intel.JA3, "e7d705a3286e19ea42f587b344ee6865")),
		ind("ja3s", ob(intel.JA3S, "623de93db17d313345d7ea481e7443cf")),
		ind("email", ob(intel.Email, "Boss@Phish.example")),
		ind("ua", ob(intel.UserAgent, "EvilAgent/1.0")),
		ind("software", ob(intel.Software, "Zeus Loader/2.1")),
		ind("cn", ob(intel.Domain, "c2.example")),
		ind("google", ob(intel.Domain, "google.com")),
		ind("multi", ob(intel.Domain, "multi.example"), ob(intel.IPv4, "203.0.113.99")),
		timed, revoked, ctx, host, listed,
	}
}

type hit struct {
	ID, Field, Value, Dir string
	Type                  intel.ValueType
	Suppressed            bool
	List                  string
}

func collect(s *match.Snapshot, ev *telemetry.Event) []hit {
	var out []hit
	s.Match(ev, func(sg *match.Sighting) {
		out = append(out, hit{sg.IndicatorID, sg.Field, sg.Value, sg.Direction, sg.Type, sg.Suppressed, sg.Warninglist})
	})
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}

func mustCompile(t testing.TB, objs []*intel.Object, opt match.Options) *match.Snapshot {
	t.Helper()
	s, err := match.Compile(objs, opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMatchSemantics(t *testing.T) {
	sup := listSet{"domain|google.com": "google-domains", "ipv4|198.51.100.53": "public-dns"}
	s := mustCompile(t, testIndicators(), match.Options{Suppress: sup})
	a := netip.MustParseAddr
	tests := []struct {
		name string
		ev   telemetry.Event
		want []hit
	}{
		{"subdomain matches", telemetry.Event{Kind: telemetry.KindDNS, Query: "a.b.EVIL.com."},
			[]hit{{"dom", "dns.query", "a.b.EVIL.com", "", intel.Domain, false, ""}}},
		{"exact domain", telemetry.Event{Kind: telemetry.KindDNS, Query: "evil.com"},
			[]hit{{"dom", "dns.query", "evil.com", "", intel.Domain, false, ""}}},
		{"notevil.com does not", telemetry.Event{Kind: telemetry.KindDNS, Query: "notevil.com"}, nil},
		{"evil.com.au does not", telemetry.Event{Kind: telemetry.KindDNS, Query: "evil.com.au"}, nil},
		{"dns answers: name and address", telemetry.Event{Kind: telemetry.KindDNS, Query: "x.example",
			Answers: []string{"cdn.evil.com", "203.0.113.5", "TXT 12 v=evil.com"}},
			[]hit{{"dom", "dns.answer", "cdn.evil.com", "", intel.Domain, false, ""}, {"ip4", "dns.answer", "203.0.113.5", "", intel.IPv4, false, ""}}},
		{"ip as destination", telemetry.Event{Kind: telemetry.KindConn, SrcIP: a("10.0.0.1"), DstIP: a("203.0.113.5"), DstPort: 443},
			[]hit{{"ip4", "conn.dst_ip", "203.0.113.5", "dst", intel.IPv4, false, ""}}},
		{"ip as source", telemetry.Event{Kind: telemetry.KindConn, SrcIP: a("203.0.113.5"), DstIP: a("10.0.0.1")},
			[]hit{{"ip4", "conn.src_ip", "203.0.113.5", "src", intel.IPv4, false, ""}}},
		{"ipv4-mapped ipv6 source", telemetry.Event{Kind: telemetry.KindConn, SrcIP: a("::ffff:203.0.113.5")},
			[]hit{{"ip4", "conn.src_ip", "203.0.113.5", "src", intel.IPv4, false, ""}}},
		{"ipv6", telemetry.Event{Kind: telemetry.KindConn, DstIP: a("2001:db8::66")},
			[]hit{{"ip6", "conn.dst_ip", "2001:db8::66", "dst", intel.IPv6, false, ""}}},
		{"cidr inside both prefixes", telemetry.Event{Kind: telemetry.KindConn, DstIP: a("198.51.100.7")},
			[]hit{{"cidr16", "conn.dst_ip", "198.51.100.7", "dst", intel.CIDR, false, ""}, {"cidr24", "conn.dst_ip", "198.51.100.7", "dst", intel.CIDR, false, ""}}},
		{"cidr inside /16 only", telemetry.Event{Kind: telemetry.KindConn, DstIP: a("198.51.7.7")},
			[]hit{{"cidr16", "conn.dst_ip", "198.51.7.7", "dst", intel.CIDR, false, ""}}},
		{"cidr hit on a warninglisted address", telemetry.Event{Kind: telemetry.KindConn, DstIP: a("198.51.100.53")},
			[]hit{{"cidr16", "conn.dst_ip", "198.51.100.53", "dst", intel.CIDR, true, "public-dns"}, {"cidr24", "conn.dst_ip", "198.51.100.53", "dst", intel.CIDR, true, "public-dns"}}},
		{"port-bound ip on its port", telemetry.Event{Kind: telemetry.KindConn, DstIP: a("192.0.2.7"), DstPort: 8443},
			[]hit{{"port", "conn.dst_ip", "192.0.2.7", "dst", intel.IPv4, false, ""}}},
		{"port-bound ip on another port", telemetry.Event{Kind: telemetry.KindConn, DstIP: a("192.0.2.7"), DstPort: 80}, nil},
		{"url normalised", telemetry.Event{Kind: telemetry.KindHTTP, Host: "BAD.example.org:80", URI: "/gate.php?id=1", DstPort: 80},
			[]hit{{"url", "http.url", "http://BAD.example.org:80/gate.php?id=1", "", intel.URL, false, ""}}},
		{"url with other query does not", telemetry.Event{Kind: telemetry.KindHTTP, Host: "bad.example.org", URI: "/gate.php?id=2"}, nil},
		{"absolute request uri", telemetry.Event{Kind: telemetry.KindHTTP, URI: "http://bad.example.org/gate.php?id=1"},
			[]hit{{"url", "http.url", "http://bad.example.org/gate.php?id=1", "", intel.URL, false, ""}}},
		{"http host subdomain and ua", telemetry.Event{Kind: telemetry.KindHTTP, Host: "www.evil.com:8080", URI: "/", UserAgent: "EvilAgent/1.0"},
			[]hit{{"dom", "http.host", "www.evil.com", "", intel.Domain, false, ""}, {"ua", "http.user_agent", "EvilAgent/1.0", "", intel.UserAgent, false, ""}}},
		{"zeek software indicator on the user agent", telemetry.Event{Kind: telemetry.KindHTTP, UserAgent: "Zeus Loader/2.1"},
			[]hit{{"software", "http.user_agent", "Zeus Loader/2.1", "", intel.Software, false, ""}}},
		{"ua is exact", telemetry.Event{Kind: telemetry.KindHTTP, UserAgent: "EvilAgent/1.01"}, nil},
		{"http host ip", telemetry.Event{Kind: telemetry.KindHTTP, Host: "203.0.113.5:8080"},
			[]hit{{"ip4", "http.host", "203.0.113.5", "", intel.IPv4, false, ""}}},
		{"file hashes", telemetry.Event{Kind: telemetry.KindFile, MD5: "0123456789ABCDEF0123456789ABCDEF",
			SHA1: "0123456789abcdef0123456789abcdef01234567", SHA256: strings.Repeat("ab", 32)},
			[]hit{{"md5", "file.md5", "0123456789ABCDEF0123456789ABCDEF", "", intel.MD5, false, ""},
				{"sha1", "file.sha1", "0123456789abcdef0123456789abcdef01234567", "", intel.SHA1, false, ""},
				{"sha256", "file.sha256", strings.Repeat("ab", 32), "", intel.SHA256, false, ""}}},
		{"tls: sni, ja3, ja3s, cert fingerprint once, cn", telemetry.Event{Kind: telemetry.KindTLS, SNI: "login.evil.com",
			JA3: "e7d705a3286e19ea42f587b344ee6865", JA3S: "623DE93DB17D313345D7EA481E7443CF",
			CertSHA1: "b054e26ef827fbbf5829f84a9bdbb697a5b042fc", CertChain: []string{"b054e26ef827fbbf5829f84a9bdbb697a5b042fc", "ffff"},
			CertSubject: "CN=*.c2.example,O=Bad", CertSANs: []string{"*.c2.example", "www.c2.example"}},
			[]hit{{"certfp", "tls.cert_sha1", "b054e26ef827fbbf5829f84a9bdbb697a5b042fc", "", intel.X509SHA1, false, ""},
				{"cn", "tls.cert_cn", "c2.example", "", intel.Domain, false, ""},
				{"cn", "tls.cert_san", "www.c2.example", "", intel.Domain, false, ""},
				{"dom", "tls.sni", "login.evil.com", "", intel.Domain, false, ""},
				{"ja3", "tls.ja3", "e7d705a3286e19ea42f587b344ee6865", "", intel.JA3, false, ""},
				{"ja3s", "tls.ja3s", "623DE93DB17D313345D7EA481E7443CF", "", intel.JA3S, false, ""}}},
		{"ja3 value as ja3s does not", telemetry.Event{Kind: telemetry.KindTLS, JA3S: "e7d705a3286e19ea42f587b344ee6865"}, nil},
		{"issuer + serial", telemetry.Event{Kind: telemetry.KindX509, CertSerial: "0A1B2C", CertIssuer: "O=Evil CA,C=US"},
			[]hit{{"serial", "x509.cert_serial", "0A1B2C", "", intel.X509Serial, false, ""}}},
		{"serial with another issuer", telemetry.Event{Kind: telemetry.KindX509, CertSerial: "0a1b2c", CertIssuer: "CN=Good CA"}, nil},
		{"serial without issuer constraint", telemetry.Event{Kind: telemetry.KindX509, CertSerial: "0077", CertIssuer: "CN=Any"},
			[]hit{{"serial-any", "x509.cert_serial", "0077", "", intel.X509Serial, false, ""}}},
		{"smtp addresses and domains", telemetry.Event{Kind: telemetry.KindSMTP, MailFrom: "<boss@phish.example>",
			RcptTo: []string{"victim@corp.example"}, From: "\"Boss\" <BOSS@phish.example>", To: []string{"x@mail.evil.com"}},
			[]hit{{"dom", "smtp.to", "mail.evil.com", "", intel.Domain, false, ""},
				{"email", "smtp.from", "BOSS@phish.example", "", intel.Email, false, ""},
				{"email", "smtp.mailfrom", "boss@phish.example", "", intel.Email, false, ""}}},
		{"inside validity window", telemetry.Event{Kind: telemetry.KindDNS, Time: t2020, Query: "timed.example"},
			[]hit{{"timed", "dns.query", "timed.example", "", intel.Domain, false, ""}}},
		{"before validity window", telemetry.Event{Kind: telemetry.KindDNS, Time: t2020.AddDate(-1, 0, 0), Query: "timed.example"}, nil},
		{"after validity window", telemetry.Event{Kind: telemetry.KindDNS, Time: t2020.AddDate(1, 0, 0), Query: "timed.example"}, nil},
		{"revoked never matches", telemetry.Event{Kind: telemetry.KindDNS, Query: "revoked.example"}, nil},
		{"context-only never matches", telemetry.Event{Kind: telemetry.KindDNS, Query: "context.example"}, nil},
		{"host-only never matches", telemetry.Event{Kind: telemetry.KindFile, FileName: "evil.exe"}, nil},
		{"warninglisted indicator is suppressed", telemetry.Event{Kind: telemetry.KindDNS, Query: "www.google.com"},
			[]hit{{"google", "dns.query", "www.google.com", "", intel.Domain, true, "google-domains"}}},
		{"importer's warninglist names", telemetry.Event{Kind: telemetry.KindDNS, Query: "cdn.example"},
			[]hit{{"listed-by-importer", "dns.query", "cdn.example", "", intel.Domain, true, "cdn-list"}}},
		{"indicator with two observables", telemetry.Event{Kind: telemetry.KindConn, SrcIP: a("203.0.113.99")},
			[]hit{{"multi", "conn.src_ip", "203.0.113.99", "src", intel.IPv4, false, ""}}},
		{"nothing", telemetry.Event{Kind: telemetry.KindConn, SrcIP: a("10.1.1.1"), DstIP: a("8.8.8.8")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := collect(s, &tt.ev)
			sort.Slice(tt.want, func(i, j int) bool { return fmt.Sprint(tt.want[i]) < fmt.Sprint(tt.want[j]) })
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("sightings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSightingCarriesProvenance(t *testing.T) {
	s := mustCompile(t, testIndicators(), match.Options{})
	ev := telemetry.Event{Kind: telemetry.KindConn, Time: t2020, File: "/logs/conn.log", Line: 42, Offset: 4096, UID: "C1",
		SrcIP: netip.MustParseAddr("10.0.0.1"), DstIP: netip.MustParseAddr("203.0.113.5"), SrcPort: 5555, DstPort: 443}
	var got []match.Sighting
	s.Match(&ev, func(sg *match.Sighting) { got = append(got, sg.Clone()) })
	want := []match.Sighting{{IndicatorID: "ip4", Snapshot: s.Version(), Type: intel.IPv4, Indicator: "203.0.113.5",
		Field: "conn.dst_ip", Value: "203.0.113.5", Direction: "dst", Time: t2020, Kind: telemetry.KindConn,
		File: "/logs/conn.log", Line: 42, Offset: 4096, UID: "C1", SrcIP: ev.SrcIP, DstIP: ev.DstIP, SrcPort: 5555, DstPort: 443}}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCompileStats(t *testing.T) {
	objs := append(testIndicators(),
		&intel.Object{ID: "actor", Type: intel.TypeIntrusionSet},
		ind("asn", ob(intel.ASN, "AS4134")),
		ind("bad", ob(intel.IPv4, "999.1.1.1")),
		&intel.Object{ID: "complex", Type: intel.TypeIndicator, Indicator: &intel.IndicatorSpec{PatternType: "stix",
			Pattern: "[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [domain-name:value = 'x.example']"}},
	)
	s := mustCompile(t, objs, match.Options{})
	st := s.Stats()
	wantSkipped := map[string]int{"revoked": 1, "context": 1, "host-only": 1, "not-indicator": 1,
		"unsupported:asn": 1, "bad-value:ipv4": 1, "needs-pattern-evaluator": 1}
	if diff := cmp.Diff(wantSkipped, st.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	if st.Indicators != 23 {
		t.Errorf("Indicators = %d, want 23", st.Indicators)
	}
	if st.Observables[intel.Domain] != 6 || st.Observables[intel.IPv4] != 3 {
		t.Errorf("observables = %v", st.Observables)
	}
	if len(st.Rejected) != 1 || !strings.Contains(st.Rejected[0], "bad") {
		t.Errorf("rejected = %q", st.Rejected)
	}
}

func TestNewestVersionWins(t *testing.T) {
	old := ind("x", ob(intel.Domain, "old.example"))
	old.Modified = t2020
	cur := ind("x", ob(intel.Domain, "new.example"))
	cur.Modified = t2020.Add(time.Hour)
	for _, order := range [][]*intel.Object{{old, cur}, {cur, old}} {
		s := mustCompile(t, order, match.Options{})
		if got := collect(s, &telemetry.Event{Query: "old.example"}); got != nil {
			t.Errorf("old version matched: %v", got)
		}
		if got := collect(s, &telemetry.Event{Query: "new.example"}); len(got) != 1 {
			t.Errorf("new version: %v", got)
		}
		if s.Len() != 1 {
			t.Errorf("Len = %d", s.Len())
		}
	}
}

func TestVersion(t *testing.T) {
	objs := testIndicators()
	v1 := mustCompile(t, objs, match.Options{}).Version()
	rev := append([]*intel.Object(nil), objs...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	if v2 := mustCompile(t, rev, match.Options{}).Version(); v2 != v1 {
		t.Errorf("version depends on order: %s vs %s", v1, v2)
	}
	more := append(append([]*intel.Object(nil), objs...), ind("new", ob(intel.Domain, "new.example")))
	if v3 := mustCompile(t, more, match.Options{}).Version(); v3 == v1 {
		t.Errorf("version unchanged after adding an indicator")
	}
	if len(v1) != 32 {
		t.Errorf("version %q: want 32 hex characters", v1)
	}
}

func TestKeyStable(t *testing.T) {
	sg := match.Sighting{IndicatorID: "indicator--1", File: "/logs/dns.log", Line: 7, Offset: 100, Field: "dns.query", Value: "a.evil.com",
		Snapshot: "v1", Time: t2020}
	k := sg.Key()
	// pinned: the store uses the key as a unique constraint, so it must
	// never change between releases
	if k != pinnedKey {
		t.Errorf("Key() = %s, want %s", k, pinnedKey)
	}
	other := sg
	other.Snapshot, other.Time, other.Suppressed = "v2", t2020.Add(time.Hour), true
	if other.Key() != k {
		t.Error("key depends on snapshot, time or suppression")
	}
	for _, mod := range []func(*match.Sighting){
		func(s *match.Sighting) { s.Line = 8 },
		func(s *match.Sighting) { s.Offset = 101 },
		func(s *match.Sighting) { s.Field = "dns.answer" },
		func(s *match.Sighting) { s.Value = "b.evil.com" },
		func(s *match.Sighting) { s.File = "/logs/dns2.log" },
		func(s *match.Sighting) { s.IndicatorID = "indicator--2" },
	} {
		c := sg
		mod(&c)
		if c.Key() == k {
			t.Errorf("key unchanged by %+v", c)
		}
	}
}

const pinnedKey = "f95f0f8cab97390783ee54aa702fbc4d"
