package pcap_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/pcap"
	"github.com/whodunit-project/whodunit/internal/telemetry/pcap/capfile"
	"github.com/whodunit-project/whodunit/internal/telemetry/readertest"
)

// TestAllCaptures reads every capture of the shared data set: no panic, no
// fatal error, the bad records of the corrupt ones reported, and the event
// counts pinned so that a change in decoding shows up.
func TestAllCaptures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sharedDir, "*.pcap*"))
	if len(files) == 0 {
		t.Skip("shared data not present")
	}
	type counts struct{ Conn, DNS, TLS, HTTP, SMTP, Errs int }
	want := map[string]counts{
		"dns-edns-ecs.pcap":                               {Conn: 69, DNS: 70},
		"dns-svcb-rdlength-mismatch.pcap":                 {Conn: 1, Errs: 1},
		"dns-two-responses.pcap":                          {Conn: 1, DNS: 2},
		"dns-txt-multiple.pcap":                           {Conn: 1, DNS: 1},
		"dns_dns-corrupt.pcap":                            {Conn: 1, Errs: 2},
		"ftp_ipv6.pcap":                                   {Conn: 6},
		"http_1000-requests-one-dropped-response.pcap.gz": {Conn: 1, HTTP: 1000},
		"http_bro.org.pcap":                               {Conn: 13, HTTP: 31},
		"http_methods.pcap":                               {Conn: 49, HTTP: 26},
		"http_proxy.pcap":                                 {Conn: 1, HTTP: 1},
		"irc-dcc-send.pcapng":                             {Conn: 3},
		"quic_merlinc2_Zeek_example.pcapng":               {Conn: 1},
		"smtp.pcap":                                       {Conn: 9, DNS: 1, TLS: 1, SMTP: 2},
		"tls_client-certificate.pcap":                     {Conn: 1, TLS: 1},
		"tls_google-cert-repeat.pcap":                     {Conn: 8, TLS: 8},
		"tls_heartbleed.pcap":                             {Conn: 1, TLS: 1},
		"tls_ssl.v3.pcap":                                 {Conn: 3, TLS: 3},
		"tls_tls-conn-with-extensions.pcap":               {Conn: 1, TLS: 1},
		"wikipedia.pcap":                                  {Conn: 34, DNS: 26, HTTP: 15},
	}
	if len(files) != len(want) {
		t.Errorf("%d captures in %s, want %d", len(files), sharedDir, len(want))
	}
	for _, fn := range files {
		name := filepath.Base(fn)
		t.Run(name, func(t *testing.T) {
			res := readPath(t, fn, pcap.Options{})
			if res.Err != nil {
				t.Fatalf("fatal: %v", res.Err)
			}
			got := counts{
				Conn: len(res.Kind(telemetry.KindConn)), DNS: len(res.Kind(telemetry.KindDNS)),
				TLS: len(res.Kind(telemetry.KindTLS)), HTTP: len(res.Kind(telemetry.KindHTTP)),
				SMTP: len(res.Kind(telemetry.KindSMTP)), Errs: len(res.Bad),
			}
			if d := cmp.Diff(want[name], got); d != "" {
				t.Errorf("counts (-want +got)\n%s", d)
				for _, e := range res.Bad {
					t.Log(e)
				}
			}
			readertest.CheckProvenance(t, res, name, 24)
			for _, ev := range res.Events {
				if ev.Time.IsZero() || ev.UID == "" {
					t.Errorf("event without time or uid: %s %+v", ev.Kind, ev)
				}
			}
		})
	}
}

// TestZeekBaselines checks values against what Zeek logs for the same
// traces (the btest baselines of zeek/zeek named at each case).
func TestZeekBaselines(t *testing.T) {
	t.Run("tls-conn-with-extensions", func(t *testing.T) {
		// testing/btest/Baseline/scripts.base.protocols.ssl.basic/ssl.log and x509.log
		// (zeek -r Traces/tls/tls-conn-with-extensions.trace).
		res := readPath(t, filepath.Join("testdata", "tls_tls-conn-with-extensions.pcap"), pcap.Options{})
		tls := res.Kind(telemetry.KindTLS)
		if len(tls) != 1 {
			t.Fatalf("%d TLS events", len(tls))
		}
		ev := tls[0]
		got := []any{ev.SrcIP.String(), ev.SrcPort, ev.DstIP.String(), ev.DstPort, ev.TLSVersion, ev.SNI,
			ev.CertSHA256, ev.CertSerial, ev.CertSubject, ev.CertIssuer, ev.CertSANs, len(ev.CertChain)}
		want := []any{"192.168.1.105", uint16(62045), "74.125.224.79", uint16(443), "TLSv10", "ssl.gstatic.com",
			"a580247a25324adf4add5af648de4ac5798030dfd622f26a5f2280d7528ae244", "36f5da5300000000505e",
			"CN=*.gstatic.com,O=Google Inc,L=Mountain View,ST=California,C=US",
			"CN=Google Internet Authority,O=Google Inc,C=US",
			[]string{"*.gstatic.com", "gstatic.com", "*.metric.gstatic.com"}, 2}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("(-want +got)\n%s", d)
		}
		if ev.CertChain[0] != ev.CertSHA1 || len(ev.CertSHA1) != 40 || len(ev.JA3) != 32 || len(ev.JA3S) != 32 {
			t.Errorf("fingerprints: sha1 %q chain %q ja3 %q ja3s %q", ev.CertSHA1, ev.CertChain, ev.JA3, ev.JA3S)
		}
	})
	t.Run("ssl.v3", func(t *testing.T) {
		// testing/btest/Baseline/scripts.policy.frameworks.intel.seen.certs/intel-all.log:
		// the certificate SHA-1 2c322ae2… is seen on three connections from
		// 192.150.187.164 (ports 58868–58870) to 194.127.84.106:443, and the
		// domain www.dresdner-privat.de in that certificate.
		res := readPath(t, sharedFile(t, "tls_ssl.v3.pcap"), pcap.Options{})
		var got []string
		for _, ev := range res.Kind(telemetry.KindTLS) {
			got = append(got, fmt.Sprintf("%s:%d>%s:%d %s %s %v", ev.SrcIP, ev.SrcPort, ev.DstIP, ev.DstPort,
				ev.CertSHA1, ev.TLSVersion, strings.Contains(ev.CertSubject, "CN=www.dresdner-privat.de")))
		}
		want := []string{
			"192.150.187.164:58868>194.127.84.106:443 2c322ae2b7fe91391345e070b63668978bb1c9da TLSv10 true",
			"192.150.187.164:58869>194.127.84.106:443 2c322ae2b7fe91391345e070b63668978bb1c9da TLSv10 true",
			"192.150.187.164:58870>194.127.84.106:443 2c322ae2b7fe91391345e070b63668978bb1c9da TLSv10 true",
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("(-want +got)\n%s", d)
		}
	})
	t.Run("multiple-txt-strings", func(t *testing.T) {
		// testing/btest/Baseline/scripts.base.protocols.dns.multiple-txt-strings/dns.log
		// Zeek's ts there (…67.286885) is the response: it drops the query,
		// whose UDP checksum was left to the NIC (offload), and this reader
		// keeps it, so the event has the query's time (…67.281938).
		res := readPath(t, filepath.Join("testdata", "dns-txt-multiple.pcap"), pcap.Options{})
		dns := res.Kind(telemetry.KindDNS)
		if len(dns) != 1 {
			t.Fatalf("%d DNS events", len(dns))
		}
		ev := dns[0]
		got := []any{ev.Time.Format("2006-01-02T15:04:05.000000"), ev.SrcIP.String(), ev.SrcPort, ev.DstIP.String(), ev.DstPort,
			ev.Proto, ev.Query, ev.RCode, ev.Answers, ev.TTLs}
		want := []any{time.Unix(1398382067, 281938000).UTC().Format("2006-01-02T15:04:05.000000"),
			"192.150.187.50", uint16(51946), "68.142.255.16", uint16(53), "udp",
			"flkr._domainkey.flickr.com", "NOERROR",
			[]string{"fa14._domainkey.flickr.com", "fa14._domainkey.yahoo.com",
				"TXT 127 k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDPdPfyJM2R2GqMyZM1flTzFeDIU+e7KmiKRw5yz3Xht+cgEIiHmm5lIGBuWCc5rtiy0CcxePpqccPKjn TXT 98 HSrDI23PU+HOuqJ6ergE1IOsL6LOEgG6YT53vMb8Z6UiBSsYPlrDEC+8CUIkTLMLXJauRK5bNRKV1ATGzGFpf3TjZtWwIDAQAB"},
			[]float64{900, 900, 7200}}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("(-want +got)\n%s", d)
		}
	})
	t.Run("duplicate-responses", func(t *testing.T) {
		// testing/btest/Baseline/scripts.base.protocols.dns.duplicate-reponses/dns.log:
		// www.cmu.edu answered by a CNAME chain to 128.2.10.163. (Zeek folds
		// the second, duplicate response into its two log lines; here each
		// response is one event.)
		res := readPath(t, filepath.Join("testdata", "dns-two-responses.pcap"), pcap.Options{})
		dns := res.Kind(telemetry.KindDNS)
		if len(dns) != 2 {
			t.Fatalf("%d DNS events", len(dns))
		}
		want := []any{"www.cmu.edu", "A", []string{"www-cmu.andrew.cmu.edu", "www-cmu-2.andrew.cmu.edu", "128.2.10.163"}, []float64{86400, 5, 21600}}
		for _, ev := range dns {
			if d := cmp.Diff(want, []any{ev.Query, ev.QType, ev.Answers, ev.TTLs}); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
		}
		if got := dns[0].Time.Format("15:04:05.000000"); got != time.Unix(1363716396, 798072000).UTC().Format("15:04:05.000000") {
			t.Errorf("time of the answered query = %s", got)
		}
	})
	t.Run("smtp", func(t *testing.T) {
		// testing/btest/Baseline/scripts.base.protocols.smtp.basic/smtp.log
		res := readPath(t, sharedFile(t, "smtp.pcap"), pcap.Options{})
		var got [][]any
		for _, ev := range res.Kind(telemetry.KindSMTP) {
			rcpt := slices.Clone(ev.RcptTo)
			slices.Sort(rcpt)
			got = append(got, []any{ev.SrcIP.String(), ev.SrcPort, ev.DstIP.String(), ev.DstPort, ev.MailFrom, rcpt, ev.From, ev.Subject})
		}
		want := [][]any{
			{"10.10.1.4", uint16(1470), "74.53.140.153", uint16(25), "gurpartap@patriots.in", []string{"raj_deol2002in@yahoo.co.in"},
				`"Gurpartap Singh" <gurpartap@patriots.in>`, "SMTP"},
			{"192.168.133.100", uint16(49648), "192.168.133.102", uint16(25), "albert@example.com",
				[]string{"davis_mark1@outlook.com", "ericlim220@yahoo.com", "felica4uu@hotmail.com"},
				"Albert Zaharovits <albert@example.com>", "Re: Bro SMTP CC Header"},
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("(-want +got)\n%s", d)
		}
	})
	t.Run("http-methods", func(t *testing.T) {
		// testing/btest/Baseline/scripts.base.protocols.http.http-methods/http.log
		// (Traces/http/methods.trace): every request Zeek logs with a method.
		res := readPath(t, sharedFile(t, "http_methods.pcap"), pcap.Options{})
		var got []string
		for _, ev := range res.Kind(telemetry.KindHTTP) {
			if ev.SrcIP.String() != "128.2.6.136" || ev.DstIP.String() != "173.194.75.103" || ev.DstPort != 80 || ev.Host != "www.google.com" {
				t.Errorf("unexpected endpoints or host: %+v", ev)
			}
			got = append(got, fmt.Sprintf("%d %s %s", ev.SrcPort, ev.Method, ev.URI))
		}
		want := []string{
			"46562 OPTIONS *", "46563 OPTIONS HTTP/1.1", "46566 GET /", "46567 GET /", "46568 GET /HTTP/1.1",
			"46571 GET /", "46577 CCM_POST /", "46578 CCM_POST /HTTP/1.1", "46581 CCM_POST /",
			"46582 CONNECT /", "46583 CONNECT /HTTP/1.1", "46586 CONNECT /",
			"46587 TRACE /", "46588 TRACE /HTTP/1.1", "46591 TRACE /",
			"46592 DELETE /", "46593 DELETE /HTTP/1.1", "46596 DELETE /",
			"46597 PUT /", "46598 PUT /HTTP/1.1", "46601 PUT /",
			"46602 POST /", "46603 POST /HTTP/1.1",
			"46606 HEAD /", "46607 HEAD /", "46608 HEAD /HTTP/1.1",
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("(-want +got)\n%s", d)
		}
	})
}

// TestProvenance checks that Line and Offset point at the packet record
// that completed each event.
func TestProvenance(t *testing.T) {
	path := filepath.Join("testdata", "tls_tls-conn-with-extensions.pcap")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	offsets := map[int64]int64{}
	cr, err := capfile.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var first time.Time
	for {
		var p capfile.Packet
		if err := cr.Next(&p); err != nil {
			break
		}
		if first.IsZero() {
			first = p.Time
		}
		offsets[p.Num] = p.Offset
	}
	res := readBytes(t, "x.pcap", b, pcap.Options{})
	if len(res.Events) != 2 {
		t.Fatalf("%d events", len(res.Events))
	}
	for _, ev := range res.Events {
		if off, ok := offsets[ev.Line]; !ok || off != ev.Offset {
			t.Errorf("%s event: packet %d at offset %d; the file has it at %d", ev.Kind, ev.Line, ev.Offset, off)
		}
		if !ev.Time.Equal(first) {
			t.Errorf("%s event time %v, want the flow start %v", ev.Kind, ev.Time, first)
		}
	}
	conn := res.Kind(telemetry.KindConn)[0]
	if conn.ConnState != "S1" { // handshake seen, no FIN or RST before the trace ends
		t.Errorf("conn state %q", conn.ConnState)
	}
	if conn.SrcPackets == 0 || conn.DstPackets == 0 || conn.SrcBytes == 0 || conn.DstBytes == 0 || conn.Duration <= 0 {
		t.Errorf("conn totals: %+v", conn)
	}
}

// TestLinkTypes re-frames the packets of a real capture for every link
// layer the reader decodes, and expects the same DNS event from each.
func TestLinkTypes(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join("testdata", "dns-txt-multiple.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	pkts := readPcapPackets(t, orig)
	reframe := func(link uint32, wrap func(ip []byte) []byte) []byte {
		var out []packet
		for _, p := range pkts {
			ip := p.data[14:] // strip Ethernet
			out = append(out, packet{sec: p.sec, usec: p.usec, data: wrap(ip)})
		}
		return pcapBytes(link, out...)
	}
	vlan := func(tags ...uint16) func([]byte) []byte {
		return func(ip []byte) []byte {
			var b []byte
			b = append(b, macB...)
			b = append(b, macA...)
			for _, tpid := range tags {
				b = append(b, byte(tpid>>8), byte(tpid), 0, 42)
			}
			return append(append(b, 0x08, 0x00), ip...)
		}
	}
	sll := func(ip []byte) []byte {
		h := make([]byte, 16)
		binary.BigEndian.PutUint16(h[2:], 1)
		binary.BigEndian.PutUint16(h[4:], 6)
		binary.BigEndian.PutUint16(h[14:], 0x0800)
		return append(h, ip...)
	}
	sll2 := func(ip []byte) []byte {
		h := make([]byte, 20)
		binary.BigEndian.PutUint16(h, 0x0800)
		return append(h, ip...)
	}
	null := func(ip []byte) []byte { return append([]byte{2, 0, 0, 0}, ip...) }
	raw := func(ip []byte) []byte { return append([]byte(nil), ip...) }
	pcapng := func() []byte {
		le := binary.LittleEndian
		blk := func(typ uint32, body []byte) []byte {
			for len(body)%4 != 0 {
				body = append(body, 0)
			}
			n := uint32(12 + len(body))
			out := le.AppendUint32(le.AppendUint32(nil, typ), n)
			return le.AppendUint32(append(out, body...), n)
		}
		shb := blk(0x0A0D0D0A, []byte{0x4D, 0x3C, 0x2B, 0x1A, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		idb := blk(1, []byte{1, 0, 0, 0, 0xff, 0xff, 0, 0, 9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0}) // nanoseconds
		out := append(shb, idb...)
		for _, p := range pkts {
			ts := uint64(p.sec)*1e9 + uint64(p.usec)*1e3
			body := le.AppendUint32(nil, 0)
			body = le.AppendUint32(body, uint32(ts>>32))
			body = le.AppendUint32(body, uint32(ts))
			body = le.AppendUint32(body, uint32(len(p.data)))
			body = le.AppendUint32(body, uint32(len(p.data)))
			out = append(out, blk(6, append(body, p.data...))...)
		}
		return out
	}
	tests := []struct {
		name string
		file []byte
	}{
		{"ethernet", orig},
		{"802.1Q", reframe(1, vlan(0x8100))},
		{"QinQ", reframe(1, vlan(0x88a8, 0x8100))},
		{"Linux cooked v1", reframe(113, sll)},
		{"Linux cooked v2", reframe(276, sll2)},
		{"BSD loopback", reframe(0, null)},
		{"raw IP", reframe(101, raw)},
		{"IPv4", reframe(228, raw)},
		{"pcapng nanoseconds", pcapng()},
	}
	var want *telemetry.Event
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := readBytes(t, "x", tt.file, pcap.Options{})
			if len(res.Bad) > 0 || res.Err != nil {
				t.Fatalf("errors %v fatal %v", res.Bad, res.Err)
			}
			dns := res.Kind(telemetry.KindDNS)
			if len(dns) != 1 {
				t.Fatalf("%d DNS events", len(dns))
			}
			ev := dns[0]
			if want == nil {
				want = ev
			}
			got := []any{ev.Time, ev.SrcIP, ev.DstIP, ev.SrcPort, ev.DstPort, ev.Query, ev.Answers}
			if d := cmp.Diff([]any{want.Time, want.SrcIP, want.DstIP, want.SrcPort, want.DstPort, want.Query, want.Answers}, got,
				cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
		})
	}
}

// TestBadInput: every kind of damage is reported with the file and the
// packet number or offset, and reading goes on where it can.
func TestBadInput(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "dns-two-responses.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("junk", func(t *testing.T) {
		_, err := pcap.Format{}.Open(strings.NewReader("this is not a capture at all"), "junk.bin")
		if err == nil || !strings.Contains(err.Error(), "junk.bin") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("snaplen 0", func(t *testing.T) {
		b := slices.Clone(good)
		binary.LittleEndian.PutUint32(b[16:], 0)
		res := readBytes(t, "snap0.pcap", b, pcap.Options{})
		if len(res.Bad) != 1 || res.Bad[0].Offset != 16 || !strings.Contains(res.Bad[0].Error(), "snap0.pcap: offset 16: snapshot length is 0") {
			t.Errorf("errors: %v", res.Bad)
		}
		if len(res.Kind(telemetry.KindDNS)) != 2 || res.Err != nil {
			t.Errorf("events after the header error: %d DNS, fatal %v", len(res.Kind(telemetry.KindDNS)), res.Err)
		}
	})
	t.Run("truncated packet", func(t *testing.T) {
		pkts := readPcapPackets(t, good)
		cut := len(good) - len(pkts[len(pkts)-1].data)/2
		res := readBytes(t, "cut.pcap", good[:cut], pcap.Options{})
		lastOff := int64(len(good) - len(pkts[len(pkts)-1].data) - 16)
		if len(res.Bad) != 1 || res.Bad[0].Line != int64(len(pkts)) || res.Bad[0].Offset != lastOff ||
			!strings.Contains(res.Bad[0].Error(), fmt.Sprintf("cut.pcap:%d: file ends inside a packet record", len(pkts))) {
			t.Errorf("errors: %v (want packet %d at offset %d)", res.Bad, len(pkts), lastOff)
		}
		if res.Err != nil || len(res.Kind(telemetry.KindDNS)) != 1 || len(res.Kind(telemetry.KindConn)) != 1 {
			t.Errorf("fatal %v, %d events", res.Err, len(res.Events))
		}
	})
	t.Run("truncated gzip", func(t *testing.T) {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(good)
		zw.Close()
		in, err := fileio.Wrap(bytes.NewReader(z.Bytes()[:z.Len()/2]), "cut.pcap.gz", fileio.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		rd, err := pcap.Format{}.Open(in.R, "cut.pcap.gz")
		if err != nil {
			t.Fatal(err)
		}
		res := readertest.Drain(t, rd)
		if res.Err == nil || !strings.Contains(res.Err.Error(), "cut.pcap.gz") {
			t.Errorf("fatal = %v; want the read error naming the file", res.Err)
		}
	})
	t.Run("corrupt DNS checksums", func(t *testing.T) {
		res := readPath(t, filepath.Join("testdata", "dns_dns-corrupt.pcap"), pcap.Options{})
		var got []string
		for _, e := range res.Bad {
			got = append(got, e.Error())
		}
		want := []string{
			"dns_dns-corrupt.pcap:1: dns: wrong UDP checksum 0x1234; datagram ignored",
			"dns_dns-corrupt.pcap:2: dns: wrong UDP checksum 0x1234; datagram ignored",
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("(-want +got)\n%s", d)
		}
		if len(res.Kind(telemetry.KindDNS)) != 0 || len(res.Kind(telemetry.KindConn)) != 1 {
			t.Errorf("events: %d", len(res.Events))
		}
	})
	t.Run("malformed SVCB record", func(t *testing.T) {
		res := readPath(t, filepath.Join("testdata", "dns-svcb-rdlength-mismatch.pcap"), pcap.Options{})
		if len(res.Bad) != 1 || res.Bad[0].Line != 1 || res.Bad[0].Offset != 24 || !strings.Contains(res.Bad[0].Error(), "(SVCB)") {
			t.Errorf("errors: %v", res.Bad)
		}
	})
	t.Run("malformed frames", func(t *testing.T) {
		b := pcapBytes(1,
			packet{sec: 1, data: []byte{1, 2, 3}},                                                                // short Ethernet
			packet{sec: 1, data: ether(0x0800, []byte{0x45, 0, 0, 10})},                                          // short IPv4
			packet{sec: 1, data: ether(0x0800, ipv4([4]byte{1, 1, 1, 1}, [4]byte{2, 2, 2, 2}, 6, []byte{0, 1}))}, // short TCP
			packet{sec: 1, data: ether(0x0806, make([]byte, 28))},                                                // ARP: not an error
		)
		res := readBytes(t, "bad.pcap", b, pcap.Options{})
		readertest.CheckBad(t, res, "bad.pcap", 1, 2, 3)
	})
}

// TestTCPReassembly sends an HTTP request in three segments, out of order
// and with a retransmission, then a DNS-over-TCP exchange.
func TestTCPReassembly(t *testing.T) {
	c, s := [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}
	req := "GET /a/b?c=d HTTP/1.1\r\nHost: example.org\r\nUser-Agent: test-agent\r\nReferer: http://r.example/\r\n\r\n"
	p1, p2, p3 := req[:10], req[10:40], req[40:]
	toS := func(seq uint32, flags byte, data string, usec uint32) packet {
		return packet{sec: 100, usec: usec, data: ether(0x0800, ipv4(c, s, 6, tcp(40000, 8080, seq, flags, []byte(data))))}
	}
	toC := func(seq uint32, flags byte, data string, usec uint32) packet {
		return packet{sec: 100, usec: usec, data: ether(0x0800, ipv4(s, c, 6, tcp(8080, 40000, seq, flags, []byte(data))))}
	}
	const isn, rsn = 1000, 5000
	b := pcapBytes(1,
		toS(isn, fSYN, "", 1),
		toC(rsn, fSYN|fACK, "", 2),
		toS(isn+1, fACK, "", 3),
		toS(isn+1+10, fACK|fPSH, p2, 4), // early
		toS(isn+1, fACK|fPSH, p1, 5),
		toS(isn+1, fACK|fPSH, p1, 6), // retransmission
		toS(isn+1+40, fACK|fPSH, p3, 7),
		toC(rsn+1, fACK|fPSH, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 8),
		toS(isn+1+uint32(len(req)), fACK|fFIN, "", 9),
		toC(rsn+1+38, fACK|fFIN, "", 10),
	)
	res := readBytes(t, "tcp.pcap", b, pcap.Options{})
	if len(res.Bad) > 0 || res.Err != nil {
		t.Fatalf("errors %v %v", res.Bad, res.Err)
	}
	http := res.Kind(telemetry.KindHTTP)
	if len(http) != 1 {
		t.Fatalf("%d HTTP events", len(http))
	}
	ev := http[0]
	got := []any{ev.Method, ev.Host, ev.URI, ev.UserAgent, ev.Referrer, ev.Line, ev.Service}
	want := []any{"GET", "example.org", "/a/b?c=d", "test-agent", "http://r.example/", int64(7), "http"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
	conn := res.Kind(telemetry.KindConn)
	if len(conn) != 1 {
		t.Fatalf("%d conn events", len(conn))
	}
	cg := []any{conn[0].ConnState, conn[0].SrcBytes, conn[0].DstBytes, conn[0].SrcPackets, conn[0].DstPackets, conn[0].Duration}
	cw := []any{"SF", int64(len(req)), int64(38), int64(7), int64(3), 9 * time.Microsecond}
	if d := cmp.Diff(cw, cg); d != "" {
		t.Errorf("conn (-want +got)\n%s", d)
	}
}

func dnsQuery(id uint16, name string, response bool, answer [4]byte) []byte {
	m := []byte{byte(id >> 8), byte(id), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}
	if response {
		m[2] = 0x81
		m[7] = 1
	}
	for _, l := range strings.Split(name, ".") {
		m = append(m, byte(len(l)))
		m = append(m, l...)
	}
	m = append(m, 0, 0, 1, 0, 1)
	if response {
		m = append(m, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
		m = append(m, answer[:]...)
	}
	return m
}

func TestDNSOverTCP(t *testing.T) {
	c, s := [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}
	frame := func(m []byte) []byte { return append([]byte{byte(len(m) >> 8), byte(len(m))}, m...) }
	q1, q2 := frame(dnsQuery(7, "a.example", false, [4]byte{})), frame(dnsQuery(8, "b.example", false, [4]byte{}))
	r1, r2 := frame(dnsQuery(7, "a.example", true, [4]byte{192, 0, 2, 1})), frame(dnsQuery(8, "B.Example", true, [4]byte{192, 0, 2, 2}))
	both := append(append([]byte(nil), r1...), r2...)
	b := pcapBytes(1,
		packet{sec: 1, data: ether(0x0800, ipv4(c, s, 6, tcp(5555, 53, 1, fSYN, nil)))},
		packet{sec: 1, data: ether(0x0800, ipv4(s, c, 6, tcp(53, 5555, 9, fSYN|fACK, nil)))},
		packet{sec: 1, data: ether(0x0800, ipv4(c, s, 6, tcp(5555, 53, 2, fACK|fPSH, append(append([]byte(nil), q1...), q2...))))},
		packet{sec: 2, data: ether(0x0800, ipv4(s, c, 6, tcp(53, 5555, 10, fACK|fPSH, both[:20])))}, // split inside r1
		packet{sec: 2, data: ether(0x0800, ipv4(s, c, 6, tcp(53, 5555, 30, fACK|fPSH, both[20:])))},
	)
	res := readBytes(t, "dnstcp.pcap", b, pcap.Options{})
	var got []string
	for _, ev := range res.Kind(telemetry.KindDNS) {
		got = append(got, fmt.Sprintf("%s %s %s %v %d", ev.Proto, ev.Query, ev.QType, ev.Answers, ev.Time.Unix()))
	}
	want := []string{"tcp a.example A [192.0.2.1] 1", "tcp b.example A [192.0.2.2] 1"}
	if d := cmp.Diff(want, got); d != "" || len(res.Bad) > 0 {
		t.Errorf("(-want +got)\n%s\nerrors %v", d, res.Bad)
	}
}

// TestFlowLimits: flows end when idle and when the table is full, and
// every flow still gets its conn event.
func TestFlowLimits(t *testing.T) {
	var pkts []packet
	for i := 0; i < 50; i++ {
		src := [4]byte{10, 1, 0, byte(i)}
		pkts = append(pkts, packet{sec: 10, usec: uint32(i), data: ether(0x0800, ipv4(src, [4]byte{10, 2, 0, 1}, 17, udp(30000, 9999, []byte("x"))))})
	}
	// The first flow again, three minutes later: a new flow after the idle timeout.
	pkts = append(pkts, packet{sec: 190, data: pkts[0].data})
	res := readBytes(t, "flows.pcap", pcapBytes(1, pkts...), pcap.Options{MaxFlows: 10})
	conn := res.Kind(telemetry.KindConn)
	if len(conn) != 51 {
		t.Fatalf("%d conn events, want 51", len(conn))
	}
	if conn[0].SrcIP.String() != "10.1.0.0" || conn[0].Line != 1 || conn[0].ConnState != "S0" {
		t.Errorf("first evicted flow: %+v", conn[0])
	}
	if last := conn[50]; last.SrcIP.String() != "10.1.0.0" || last.Time.Unix() != 190 {
		t.Errorf("flow after the idle timeout: %+v", last)
	}
}
