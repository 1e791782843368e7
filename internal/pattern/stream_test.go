package pattern

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/telemetry"
)

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func conn(sec int, dst string, port uint16) *telemetry.Event {
	return &telemetry.Event{Kind: telemetry.KindConn, Time: t0.Add(time.Duration(sec) * time.Second), File: "conn.log", Line: int64(sec + 1),
		SrcIP: netip.MustParseAddr("10.0.0.5"), DstIP: netip.MustParseAddr(dst), SrcPort: 50000, DstPort: port, Proto: "tcp"}
}

func dns(sec int, q string, answers ...string) *telemetry.Event {
	return &telemetry.Event{Kind: telemetry.KindDNS, Time: t0.Add(time.Duration(sec) * time.Second), File: "dns.log", Line: int64(sec + 1),
		SrcIP: netip.MustParseAddr("10.0.0.5"), DstIP: netip.MustParseAddr("10.0.0.1"), DstPort: 53, Proto: "udp", Query: q, Answers: answers}
}

func mustIndex(t testing.TB, patterns ...string) *Index {
	t.Helper()
	var rules []Rule
	for _, src := range patterns {
		p, err := Parse(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		prog, err := Compile(p)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		rules = append(rules, Rule{ID: src, Program: prog})
	}
	ix, err := NewIndex(rules)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// feed runs events through a stream and returns, per event, the lines of
// the events of each match ("rule: lines").
func feed(ix *Index, events ...*telemetry.Event) [][]string {
	s := ix.NewStream(StreamOptions{})
	var out [][]string
	for _, ev := range events {
		var got []string
		for _, m := range s.Feed(ev) {
			line := m.ID + ":"
			for _, e := range m.Events {
				line += " " + e.File + "#" + itoa(int(e.Line))
			}
			got = append(got, line)
		}
		out = append(out, got)
	}
	return out
}

func itoa(n int) string { return Literal{Kind: LitInt, Int: int64(n)}.String() }

func TestStream(t *testing.T) {
	const (
		ipPort   = "[network-traffic:dst_ref.value = '203.0.113.9' AND network-traffic:dst_port = 443]"
		follow   = "([domain-name:value = 'evil.example'] FOLLOWEDBY [network-traffic:dst_ref.value = '203.0.113.9']) WITHIN 60 SECONDS"
		repeats  = "[network-traffic:dst_port = 22] REPEATS 3 TIMES WITHIN 10 SECONDS"
		resolves = "[domain-name:resolves_to_refs[*].value ISSUBSET '198.51.100.0/24']"
		andRule  = "[domain-name:value = 'a.example'] AND [domain-name:value = 'b.example']"
	)
	tests := []struct {
		name    string
		pattern string
		events  []*telemetry.Event
		want    [][]string
	}{
		{"stateless equality", ipPort,
			[]*telemetry.Event{conn(0, "203.0.113.9", 80), conn(1, "203.0.113.9", 443)},
			[][]string{nil, {ipPort + ": conn.log#2"}}},
		{"followedby within", follow,
			[]*telemetry.Event{conn(0, "203.0.113.9", 443), dns(10, "evil.example"), conn(40, "203.0.113.9", 443), conn(200, "203.0.113.9", 443)},
			[][]string{nil, nil, {follow + ": dns.log#11 conn.log#41"}, nil}},
		{"followedby window expired", follow,
			[]*telemetry.Event{dns(0, "evil.example"), conn(61, "203.0.113.9", 443)},
			[][]string{nil, nil}},
		{"repeats within", repeats,
			[]*telemetry.Event{conn(0, "192.0.2.1", 22), conn(5, "192.0.2.1", 22), conn(20, "192.0.2.1", 22), conn(21, "192.0.2.2", 22), conn(22, "192.0.2.3", 22), conn(23, "192.0.2.3", 22)},
			[][]string{nil, nil, nil, nil, {repeats + ": conn.log#21 conn.log#22 conn.log#23"}, nil}},
		{"resolves_to_refs", resolves,
			[]*telemetry.Event{dns(0, "x.example", "192.0.2.1"), dns(1, "y.example", "cname.example", "198.51.100.20")},
			[][]string{nil, {resolves + ": dns.log#2"}}},
		{"and without window", andRule,
			[]*telemetry.Event{dns(0, "a.example"), dns(5000, "c.example"), dns(90000, "b.example"), dns(90001, "b.example")},
			[][]string{nil, nil, {andRule + ": dns.log#1 dns.log#90001"}, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := feed(mustIndex(t, tt.pattern), tt.events...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("matches (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStreamEventObjects(t *testing.T) {
	tls := &telemetry.Event{Kind: telemetry.KindTLS, Time: t0, File: "ssl.log", Line: 7,
		SrcIP: netip.MustParseAddr("10.0.0.5"), DstIP: netip.MustParseAddr("2001:db8::1"), DstPort: 443, Proto: "tcp",
		SNI: "mail.example", JA3: "e7d705a3286e19ea42f587b344ee6865", CertSerial: "4c0b1d197486a766b41abf4027217628",
		CertIssuer: "CN=WEBMAIL", CertSHA1: "0123456789abcdef0123456789abcdef01234567"}
	http := &telemetry.Event{Kind: telemetry.KindHTTP, Time: t0, File: "http.log", Line: 3,
		SrcIP: netip.MustParseAddr("10.0.0.5"), DstIP: netip.MustParseAddr("192.0.2.80"), DstPort: 80, Proto: "tcp",
		Method: "GET", Host: "www.example", URI: "/admin/login.php?x=1", UserAgent: "Mozilla/4.0 (compatible; MSIE 6.0)"}
	file := &telemetry.Event{Kind: telemetry.KindFile, Time: t0, File: "files.log", Line: 9,
		MD5: "001dd76872d80801692ff942308c64e6", FileName: "invoice.exe", FileSize: 371712}
	smtp := &telemetry.Event{Kind: telemetry.KindSMTP, Time: t0, File: "smtp.log", Line: 4,
		SrcIP: netip.MustParseAddr("10.0.0.9"), DstIP: netip.MustParseAddr("10.0.0.25"), DstPort: 25,
		From: "Bad Guy <bad@evil.example>", MailFrom: "bounce@evil.example", To: []string{"victim@corp.example"}, Subject: "[IMPORTANT] Please Review Before"}
	tests := []struct {
		pattern string
		ev      *telemetry.Event
		want    bool
	}{
		{"[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28']", tls, true},
		{"[x509-certificate:hashes.'SHA-1' = '0123456789abcdef0123456789abcdef01234567']", tls, true},
		{"[x-ja3:value = 'e7d705a3286e19ea42f587b344ee6865']", tls, true},
		{"[domain-name:value = 'mail.example' AND network-traffic:dst_ref.value ISSUBSET '2001:db8::/32']", tls, true},
		{"[ipv6-addr:value = '2001:db8::1']", tls, true},
		{"[url:value = 'http://www.example/admin/login.php?x=1']", http, true},
		{"[url:value LIKE '%/admin/%']", http, true},
		{"[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' MATCHES 'MSIE [0-9]']", http, true},
		{"[network-traffic:extensions.'http-request-ext'.request_method = 'get']", http, true},
		{"[file:hashes.md5 = '001dd76872d80801692ff942308c64e6']", file, true},
		{"[file:hashes.MD5 = '001dd76872d80801692ff942308c64e6' AND file:size > 1000]", file, true},
		{"[file:name = 'invoice.pdf']", file, false},
		{"[email-message:from_ref.value = 'bad@evil.example' AND email-message:to_refs[*].value = 'victim@corp.example']", smtp, true},
		{"[email-message:subject MATCHES '^\\\\[IMPORTANT\\\\]']", smtp, true},
		{"[email-message:sender_ref.value LIKE '%@evil.example']", smtp, true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			got := feed(mustIndex(t, tt.pattern), tt.ev)
			if matched := len(got[0]) > 0; matched != tt.want {
				t.Errorf("matched = %v, want %v", matched, tt.want)
			}
		})
	}
}

// TestStreamStateBounded feeds a week of events to rules that never
// complete and checks that what they remember stays bounded.
func TestStreamStateBounded(t *testing.T) {
	ix := mustIndex(t,
		"[network-traffic:dst_port = 22] REPEATS 50 TIMES WITHIN 60 SECONDS",
		"([network-traffic:dst_port = 22] FOLLOWEDBY [network-traffic:dst_port = 3389]) WITHIN 300 SECONDS",
		"[network-traffic:dst_port = 22] AND [network-traffic:dst_port = 3389] AND [network-traffic:dst_port = 3390]",
	)
	s := ix.NewStream(StreamOptions{})
	ev := conn(0, "192.0.2.1", 22)
	week := 7 * 24 * 3600
	for sec := 0; sec < week; sec += 5 { // one SSH connection every 5 s
		ev.Time = t0.Add(time.Duration(sec) * time.Second)
		ev.Line = int64(sec)
		if ms := s.Feed(ev); len(ms) > 0 {
			t.Fatalf("unexpected match %+v", ms)
		}
	}
	for ri, st := range s.shared.states {
		if len(st.events) > 64 {
			t.Errorf("rule %d remembers %d entries after a week", ri, len(st.events))
		}
	}
}

// TestIndexSharedByGoroutines runs streams on one index concurrently (run
// with -race): compiled programs and the index are read-only.
func TestIndexSharedByGoroutines(t *testing.T) {
	ix := mustIndex(t,
		"([domain-name:value = 'evil.example'] FOLLOWEDBY [network-traffic:dst_ref.value = '203.0.113.9']) WITHIN 60 SECONDS",
		"[network-traffic:dst_port = 22] REPEATS 3 TIMES WITHIN 10 SECONDS",
		"[url:value LIKE '%/admin%']")
	done := make(chan int)
	for g := 0; g < 4; g++ {
		go func() {
			s := ix.NewStream(StreamOptions{})
			n := 0
			for i := 0; i < 200; i++ {
				for _, ev := range []*telemetry.Event{dns(i*100, "evil.example"), conn(i*100+1, "203.0.113.9", 22),
					conn(i*100+2, "203.0.113.9", 22), conn(i*100+3, "203.0.113.9", 22)} {
					n += len(s.Feed(ev))
				}
			}
			done <- n
		}()
	}
	for g := 0; g < 4; g++ {
		if n := <-done; n != 400 {
			t.Errorf("goroutine saw %d matches, want 400", n)
		}
	}
}

// TestStreamsShareState feeds the two events of one binding to two streams
// of one State, as two scan workers reading neighbouring chunks would: the
// binding is found, and a stream that has moved far ahead in time does not
// make the other forget what it still needs.
func TestStreamsShareState(t *testing.T) {
	ix := mustIndex(t,
		"([domain-name:value = 'evil.example'] FOLLOWEDBY [network-traffic:dst_ref.value = '203.0.113.9']) WITHIN 60 SECONDS",
		"[network-traffic:dst_port = 22] REPEATS 3 TIMES WITHIN 10 SECONDS")
	st := ix.NewState(StreamOptions{})
	a, b := st.NewStream(), st.NewStream()
	if ms := a.Feed(dns(0, "evil.example")); len(ms) != 0 {
		t.Fatalf("first event matched: %+v", ms)
	}
	// b is an hour ahead, and its events touch the FOLLOWEDBY rule
	for i := 0; i < 5; i++ {
		if ms := b.Feed(dns(3600+i, "evil.example")); len(ms) != 0 {
			t.Fatalf("b matched: %+v", ms)
		}
	}
	ms := a.Feed(conn(30, "203.0.113.9", 443))
	if len(ms) != 1 || len(ms[0].Events) != 2 || !ms[0].Events[0].Time.Equal(t0) {
		t.Fatalf("binding across streams: %+v", ms)
	}
	// REPEATS across three streams of another State
	st = ix.NewState(StreamOptions{})
	var got int
	for i := 0; i < 3; i++ {
		got += len(st.NewStream().Feed(conn(i, "192.0.2.7", 22)))
	}
	if got != 1 {
		t.Errorf("REPEATS 3 over three streams: %d matches, want 1", got)
	}
	// streams of separate States do not share
	got = 0
	for i := 0; i < 3; i++ {
		got += len(ix.NewStream(StreamOptions{}).Feed(conn(i, "192.0.2.7", 22)))
	}
	if got != 0 {
		t.Errorf("separate states: %d matches, want 0", got)
	}
}

// TestStreamKeepsLatestByTime: a leaf set keeps its earliest and latest
// events by time, not by arrival. Here worker b reads a later chunk than
// worker a, so the latest event by time arrives before earlier ones; it is
// the one a's final event needs.
func TestStreamKeepsLatestByTime(t *testing.T) {
	const rule = "([domain-name:value LIKE '%.example'] FOLLOWEDBY [domain-name:value = 'a.example']) WITHIN 3 SECONDS"
	st := mustIndex(t, rule).NewState(StreamOptions{})
	a, b := st.NewStream(), st.NewStream()
	steps := []struct {
		s  *Stream
		ev *telemetry.Event
	}{
		{a, dns(3, "b.example")}, {a, dns(4, "b.example")},
		{b, dns(24, "c.example")},
		{a, dns(5, "b.example")}, {a, dns(6, "b.example")}, // five of one leaf set: one must go
		{b, dns(26, "a.example")},
	}
	for i, step := range steps {
		ms := step.s.Feed(step.ev)
		if last := i == len(steps)-1; last != (len(ms) == 1) {
			t.Fatalf("event %d (+%vs %s): %d matches", i+1, step.ev.Time.Sub(t0).Seconds(), step.ev.Query, len(ms))
		}
		if i == len(steps)-1 && (len(ms[0].Events) != 2 || ms[0].Events[0].Line != 25) {
			t.Errorf("binding %+v, want dns.log#25 and #27", ms[0].Events)
		}
	}
}
