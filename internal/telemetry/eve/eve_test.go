package eve_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/eve"
	"github.com/whodunit-project/whodunit/internal/telemetry/readertest"
)

func read(t testing.TB, r io.Reader, name string) readertest.Result {
	t.Helper()
	return readertest.Read(t, eve.Format{}, r, name)
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestFixture(t *testing.T) {
	f, err := os.Open("testdata/eve.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res := read(t, f, "eve.json")
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UTC()
	}
	want := []*telemetry.Event{
		{Kind: telemetry.KindAlert, Log: "alert", Line: 1, Time: utc("2023-09-18T06:13:41.532140Z"), UID: "1676750115612680",
			SrcIP: ip("142.11.240.191"), SrcPort: 35361, DstIP: ip("192.168.100.237"), DstPort: 49175, Proto: "tcp", Service: "http",
			Signature: "ET ATTACK_RESPONSE Test Stealer Extension Download", SignatureID: 2045001, Severity: 1,
			Host: "dl.example.net", URI: "/ext/bad.crx?v=2", UserAgent: "Mozilla/5.0", Method: "GET", StatusCode: 200,
			MIMEType: "application/x-chrome-extension"},
		{Kind: telemetry.KindDNS, Log: "dns", Line: 2, Time: utc("2017-11-29T09:27:18.148282Z"), UID: "268",
			SrcIP: ip("10.16.1.11"), SrcPort: 51234, DstIP: ip("10.16.1.1"), DstPort: 53, Proto: "udp",
			Query: "twitter.com", QType: "A"},
		{Kind: telemetry.KindDNS, Log: "dns", Line: 3, Time: utc("2017-11-29T09:27:18.15Z"), UID: "268",
			SrcIP: ip("10.16.1.1"), SrcPort: 53, DstIP: ip("10.16.1.11"), DstPort: 51234, Proto: "udp",
			Query: "twitter.com", QType: "A", RCode: "NOERROR", Answers: []string{"199.16.156.6"}, TTLs: []float64{8}},
		{Kind: telemetry.KindDNS, Log: "dns", Line: 4, Time: utc("2017-11-29T09:27:19.000001Z"), UID: "269",
			SrcIP: ip("10.16.1.1"), SrcPort: 53, DstIP: ip("10.16.1.11"), DstPort: 51235, Proto: "udp",
			Query: "www.suricata-ids.org", QType: "A", RCode: "NOERROR",
			Answers: []string{"suricata-ids.org", "192.0.78.24", "192.0.78.25"}, TTLs: []float64{3324, 10, 10}},
		{Kind: telemetry.KindDNS, Log: "dns", Line: 5, Time: utc("2017-11-29T09:27:20.5Z"), UID: "270",
			SrcIP: ip("10.16.1.1"), SrcPort: 53, DstIP: ip("10.16.1.11"), DstPort: 51236, Proto: "udp",
			Query: "grouped.example.org", QType: "A", RCode: "NOERROR", Answers: []string{"192.0.2.24", "192.0.2.25"}},
		{Kind: telemetry.KindDNS, Log: "dns", Line: 6, Time: utc("2024-05-01T12:00:00Z"), UID: "271",
			SrcIP: ip("10.16.1.1"), SrcPort: 53, DstIP: ip("10.16.1.11"), DstPort: 51237, Proto: "udp",
			Query: "nx.example.com", QType: "AAAA", RCode: "NXDOMAIN"},
		{Kind: telemetry.KindTLS, Log: "tls", Line: 7, Time: utc("2017-04-07T21:24:37.251547Z"), UID: "586497171462735",
			SrcIP: ip("192.168.2.14"), SrcPort: 50096, DstIP: ip("209.53.113.5"), DstPort: 443, Proto: "tcp",
			CertSubject: "C=US, ST=California, L=Mountain View, O=Google Inc, CN=*.google.com",
			CertIssuer:  "C=US, O=Google Inc, CN=Google Internet Authority G2",
			CertSerial:  "c0099b7d754c9f67726317ebaea7c1c", CertSHA1: "8f511206a0cc4ecde8a38b38f88759e5af95cacd",
			SNI: "calendar.google.com", TLSVersion: "TLS 1.2",
			NotBefore: utc("2017-01-04T10:48:43Z"), NotAfter: utc("2017-03-29T10:18:00Z"),
			JA3: "e7d705a3286e19ea42f587b344ee6865", JA3S: "623de93db17d313345d7ea481e7443cf"},
		{Kind: telemetry.KindHTTP, Log: "http", Line: 8, Time: utc("2016-01-11T13:10:54.61211Z"), UID: "412547343494194",
			SrcIP: ip("192.168.122.149"), SrcPort: 49324, DstIP: ip("69.195.71.174"), DstPort: 80, Proto: "tcp",
			Host: "direkte.example.no", URI: "/feed?id=1", UserAgent: "Wget/1.13.4 (linux-gnu)", MIMEType: "application/json",
			Referrer: "http://www.example.no/", Method: "POST", StatusCode: 404},
		{Kind: telemetry.KindFile, Log: "fileinfo", Line: 9, Time: utc("2016-01-11T13:10:55Z"), UID: "412547343494194",
			SrcIP: ip("69.195.71.174"), SrcPort: 80, DstIP: ip("192.168.122.149"), DstPort: 49324, Proto: "tcp", Service: "http",
			Host: "direkte.example.no", URI: "/payload.exe", FileName: "/payload.exe", FileSize: 73802,
			MD5: "d41d8cd98f00b204e9800998ecf8427e", SHA1: "da39a3ee5e6b4b0d3255bfef95601890afd80709",
			SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{Kind: telemetry.KindConn, Log: "flow", Line: 10, Time: utc("2019-05-28T21:35:28.071281Z"), UID: "1676750115612681",
			SrcIP: ip("10.0.0.5"), SrcPort: 44321, DstIP: ip("203.0.113.9"), DstPort: 8443, Proto: "tcp", Service: "tls",
			SrcPackets: 23, DstPackets: 21, SrcBytes: 4884, DstBytes: 7392, ConnState: "bypassed",
			Duration: 179*time.Second + 46025*time.Microsecond},
		{Kind: telemetry.KindSMTP, Log: "smtp", Line: 11, Time: utc("2021-02-03T04:05:06.000007Z"), UID: "77",
			SrcIP: ip("10.1.1.20"), SrcPort: 51000, DstIP: ip("10.1.1.25"), DstPort: 25, Proto: "tcp",
			MailFrom: "attacker@evil.example", RcptTo: []string{"victim@corp.example", "cfo@corp.example"},
			From: `"Payroll" <payroll@evil.example>`, To: []string{"victim@corp.example"}, Subject: "Urgent: invoice été",
			FileName: "invoice.doc"},
		{Kind: telemetry.KindNotice, Log: "anomaly", Line: 12, Time: utc("2016-01-11T13:10:52.828802Z"), UID: "201217772575257",
			SrcIP: ip("192.168.122.149"), SrcPort: 49323, DstIP: ip("69.195.71.174"), DstPort: 443, Proto: "tcp", Service: "tls",
			Signature: "INVALID_RECORD_TYPE"},
		{Kind: telemetry.KindSSH, Log: "ssh", Line: 13, Time: utc("2020-06-01T00:00:00Z"), UID: "88",
			SrcIP: ip("2001:db8::5"), SrcPort: 40000, DstIP: ip("2001:db8::22"), DstPort: 22, Proto: "tcp", UserAgent: "libssh_0.7.0"},
		{Kind: telemetry.KindOther, Log: "stats", Line: 14, Time: utc("2020-06-01T00:00:01Z")},
	}
	opts := cmp.Options{cmpopts.IgnoreFields(telemetry.Event{}, "File", "Offset"), cmpopts.EquateEmpty(), cmpopts.EquateComparable(netip.Addr{})}
	if d := cmp.Diff(want, res.Events, opts); d != "" {
		t.Errorf("events (-want +got)\n%s", d)
	}
	readertest.CheckBad(t, res, "eve.json", 15, 16)
}

func TestSniff(t *testing.T) {
	for _, tt := range []struct {
		head string
		want bool
	}{
		{`{"timestamp":"2017-04-07T22:24:37.251547+0100","flow_id":1,"event_type":"alert"}`, true},
		{"\n\n" + `{"event_type":"dns","timestamp":"x"}`, true},
		{`{"_path":"dns","ts":1.5}`, false},
		{`{"timestamp":"x"}` + "\n" + `{"event_type":"dns"}`, false},
		{"#separator \\x09\n", false},
	} {
		if got := (eve.Format{}).Sniff([]byte(tt.head), "eve.json"); got != tt.want {
			t.Errorf("Sniff(%q) = %v", tt.head, got)
		}
	}
}

// TestBadInput: a long line, junk and a truncated gzip stream are reported
// and the rest of the input is read.
func TestBadInput(t *testing.T) {
	good := `{"timestamp":"2020-06-01T00:00:00Z","event_type":"dns","src_ip":"10.0.0.1","dns":{"type":"query","rrname":"ok.example"}}` + "\n"
	in := good + `{"timestamp":"2020-06-01T00:00:00Z","event_type":"http","http":{"url":"` + strings.Repeat("A", 3<<20) + `"}}` + "\n" +
		"\x00\xff\xfe garbage\n" + good
	res := read(t, strings.NewReader(in), "big.json")
	readertest.CheckBad(t, res, "big.json", 2, 3)
	if res.Err != nil || len(res.Events) != 2 {
		t.Fatalf("err %v, %d events, bad %v", res.Err, len(res.Events), res.Bad)
	}

	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(w, `{"timestamp":"2020-06-01T00:00:00Z","event_type":"dns","src_ip":"10.0.0.1","dns":{"type":"query","rrname":"q%d.example"}}`+"\n", i)
	}
	w.Close()
	cut := b.Bytes()[:b.Len()/2]
	res = read(t, bytes.NewReader(cut), "cut.json.gz")
	if res.Err == nil || !strings.Contains(res.Err.Error(), "cut.json.gz") || len(res.Events) == 0 || len(res.Events) >= 3000 {
		t.Fatalf("truncated gzip: err %v, %d events", res.Err, len(res.Events))
	}
}

func TestNoAllocs(t *testing.T) {
	line := `{"timestamp":"2017-04-07T22:24:37.251547+0100","flow_id":586497171462735,"event_type":"tls","src_ip":"192.168.2.14","src_port":50096,"dest_ip":"209.53.113.5","dest_port":443,"proto":"TCP","tls":{"subject":"CN=*.google.com","issuerdn":"CN=G2","serial":"0C:00:99","fingerprint":"8f:51:12:06:a0:cc:4e:cd:e8:a3:8b:38:f8:87:59:e5:af:95:ca:cd","sni":"calendar.google.com","version":"TLS 1.2","ja3":{"hash":"e7d705a3286e19ea42f587b344ee6865"}}}` + "\n" +
		`{"timestamp":"2017-11-29T10:27:19.000001+0100","flow_id":269,"event_type":"dns","src_ip":"10.16.1.1","src_port":53,"dest_ip":"10.16.1.11","dest_port":51235,"proto":"UDP","dns":{"version":2,"type":"answer","rrname":"www.suricata-ids.org","rrtype":"A","rcode":"NOERROR","answers":[{"rrname":"a","rrtype":"CNAME","ttl":3324,"rdata":"suricata-ids.org"},{"rrname":"b","rrtype":"A","ttl":10,"rdata":"192.0.78.24"}]}}` + "\n"
	data := []byte(strings.Repeat(line, 200))
	r, err := eve.Format{}.Open(&readertest.Loop{Data: data}, "a.json")
	if err != nil {
		t.Fatal(err)
	}
	if n := readertest.AllocsPerEvent(t, r, 100, 2000); n != 0 {
		t.Errorf("%v allocations per event", n)
	}
}

// BenchmarkEVE reads the fixture's good records repeated to about 8 MB,
// with every field decoded and with Needs.MatchOnly.
func BenchmarkEVE(b *testing.B) {
	data, err := os.ReadFile("testdata/eve.json")
	if err != nil {
		b.Fatal(err)
	}
	// only the good records, repeated to about 8 MB
	lines := bytes.SplitAfter(data, []byte("\n"))
	good := bytes.Join(lines[:14], nil)
	data = bytes.Repeat(good, 8<<20/len(good))
	b.Run("full", func(b *testing.B) { benchEVE(b, eve.Format{}, data) })
	b.Run("match-only", func(b *testing.B) { benchEVE(b, eve.Format{Needs: telemetry.Needs{MatchOnly: true}}, data) })
}

func benchEVE(b *testing.B, f eve.Format, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var ev telemetry.Event
	cpu0 := cpuTime()
	for b.Loop() {
		r, _ := f.Open(bytes.NewReader(data), "bench.json")
		for {
			err := r.Next(&ev)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	// CPU time does not count the moments another process had the core
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(len(data))*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func FuzzEVE(f *testing.F) {
	data, _ := os.ReadFile("testdata/eve.json")
	for _, line := range bytes.Split(data, []byte("\n")) {
		f.Add(line)
	}
	f.Add([]byte(`{"event_type":"dns","dns":{"answers":["a",1,{"rdata":"x","ttl":"y"}],"grouped":{"A":[[]]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		readertest.Fuzz(t, eve.Format{MaxLineBytes: 4096}, data, "fuzz", len(data)+1, nil)
		readertest.Fuzz(t, eve.Format{MaxLineBytes: 4096, Needs: telemetry.Needs{MatchOnly: true}}, data, "fuzz", len(data)+1, nil)
	})
}
