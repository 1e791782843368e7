package zeek_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/readertest"
	"github.com/whodunit-project/whodunit/internal/telemetry/zeek"
)

func sharedZeek(t testing.TB) string {
	return readertest.SharedData(t, "telemetry", "zeek")
}

// readFileEach reads a file as the scan engine does, sniffed as Zeek TSV or
// JSON; the format name is "" when neither recognises it.
func readFileEach(t testing.TB, path string, keep readertest.Keep) (readertest.Result, string) {
	t.Helper()
	return readertest.ReadFile(t, path, "", keep, zeek.TSV{}, zeek.JSON{})
}

// TestRealData reads every Zeek log of ../shared: each one must be
// recognised, read to the end without a fatal error, and give the events
// its data lines hold.
func TestRealData(t *testing.T) {
	dir := sharedZeek(t)
	files, err := fileio.Expand([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		format     string
		events     int
		bad        int
		kind       telemetry.Kind
		withLabels bool
	}{
		"wrccdc-2018/dns.log.gz":                                 {"zeek", 53624 - 9, 0, telemetry.KindDNS, false},
		"wrccdc-2018/ssl.log.gz":                                 {"zeek", 49474, 0, telemetry.KindTLS, false},
		"wrccdc-2018/x509.log.gz":                                {"zeek", 348, 0, telemetry.KindX509, false},
		"wrccdc-2018/weird.log.gz":                               {"zeek", 24202, 0, telemetry.KindNotice, false},
		"wrccdc-2018/json/dns.json.gz":                           {"zeek-json", 53615, 0, telemetry.KindDNS, false},
		"wrccdc-2018/json/ssl.json.gz":                           {"zeek-json", 49474, 0, telemetry.KindTLS, false},
		"wrccdc-2018/json/smtp.json.gz":                          {"zeek-json", 1188, 0, telemetry.KindSMTP, false},
		"stratosphere/008-zeek-mixed/data/conn.log.labeled":      {"zeek", 5663, 0, telemetry.KindConn, true},
		"stratosphere/009-zeek-malicious/data/files.log.labeled": {"zeek", 2029, 0, telemetry.KindFile, true},
		"stratosphere/002-zeek-scenario-port-scanning/conn.log":  {"zeek-json", 4504, 0, telemetry.KindConn, false},
		"stratosphere/007-zeek-scenario-ssh-infected/ssh.log":    {"zeek-json", 8528, 0, telemetry.KindSSH, false},
	}
	logs := 0
	for _, path := range files {
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		isLog := strings.Contains(rel, ".log") || strings.Contains(rel, ".json")
		w, wanted := want[rel]
		provenance, kind, labels := true, true, true
		res, format := readFileEach(t, path, func(ev *telemetry.Event) *telemetry.Event {
			provenance = provenance && ev.File == path && ev.Line > 0 && ev.Log != ""
			kind = kind && (!wanted || ev.Kind == w.kind)
			labels = labels && (!wanted || !w.withLabels || ev.Label != "")
			return nil
		})
		if format == "" {
			if isLog {
				t.Errorf("%s: not recognised as a Zeek log", rel)
			}
			continue
		}
		logs++
		if res.Err != nil {
			t.Errorf("%s: %v", rel, res.Err)
		}
		if !provenance {
			t.Errorf("%s: an event without file, line or log name", rel)
		}
		if !wanted {
			continue
		}
		delete(want, rel)
		if format != w.format || res.N != w.events || len(res.Bad) != w.bad {
			t.Errorf("%s: format %s, %d events, %d bad records; want %s, %d, %d (first bad: %v)",
				rel, format, res.N, len(res.Bad), w.format, w.events, w.bad, res.FirstBad())
		}
		if !kind {
			t.Errorf("%s: an event is not of kind %v", rel, w.kind)
		}
		if !labels {
			t.Errorf("%s: an event has no label", rel)
		}
	}
	for rel := range want {
		t.Errorf("%s: not found", rel)
	}
	if logs < 80 {
		t.Errorf("read %d logs, expected the ~90 of ../shared", logs)
	}
}

// TestRealPinned checks decoded values of real lines against the text.
func TestRealPinned(t *testing.T) {
	dir := sharedZeek(t)
	at := func(rel string, line int64) *telemetry.Event {
		t.Helper()
		res, _ := readFileEach(t, filepath.Join(dir, rel), func(ev *telemetry.Event) *telemetry.Event {
			if ev.Line == line {
				return ev.Clone()
			}
			return nil
		})
		if len(res.Events) == 1 {
			return res.Events[0]
		}
		t.Fatalf("%s: no event at line %d", rel, line)
		return nil
	}
	ignore := cmpopts.IgnoreFields(telemetry.Event{}, "File", "Offset")
	empty := cmp.Options{cmpopts.EquateEmpty(), cmpopts.EquateComparable(netip.Addr{})}

	// wrccdc dns.log line 9: the first record.
	got := at("wrccdc-2018/dns.log.gz", 9)
	want := &telemetry.Event{
		Kind: telemetry.KindDNS, Time: time.Unix(1521911720, 865716000).UTC(), Line: 9, Log: "dns",
		UID: "CqKst53mF3det3eDV9", SrcIP: netip.MustParseAddr("10.47.1.100"), SrcPort: 41772,
		DstIP: netip.MustParseAddr("10.0.0.100"), DstPort: 53, Proto: "udp", Duration: 870 * time.Microsecond,
		Query: "ise.wrccdc.org", QType: "A", RCode: "NOERROR",
		Answers: []string{"ise.wrccdc.cpp.edu", "134.71.3.16"}, TTLs: []float64{2230, 41830},
	}
	if d := cmp.Diff(want, got, ignore, empty); d != "" {
		t.Errorf("dns.log:9 (-want +got)\n%s", d)
	}

	// wrccdc x509.log line 9: subject with escaped commas (\\, in the file).
	got = at("wrccdc-2018/x509.log.gz", 9)
	want = &telemetry.Event{
		Kind: telemetry.KindX509, Time: time.Unix(1521911720, 624556000).UTC(), Line: 9, Log: "x509",
		CertSHA256:  "b2dafbcdbc75210672f137f27ce882ccb799887631655d4f11191d5a678e44fe",
		CertSerial:  "cc57fe54011e",
		CertSubject: `unstructuredName=1315656901\,564d7761726520496e632e,CN=localhost.localdomain,emailAddress=ssl-certificates@vmware.com,OU=VMware ESX Server Default Certificate,O=VMware\, Inc,L=Palo Alto,ST=California,C=US`,
		CertIssuer:  "O=VMware Installer",
		CertSANs:    []string{"localhost.localdomain"},
		NotBefore:   time.Unix(1315656902, 0).UTC(), NotAfter: time.Unix(1678536902, 0).UTC(),
	}
	if d := cmp.Diff(want, got, ignore, empty); d != "" {
		t.Errorf("x509.log:9 (-want +got)\n%s", d)
	}

	// a negative serial keeps its sign instead of failing the record
	if got := at("wrccdc-2018/x509.log.gz", 25); got.CertSerial != "-569f830c7efe69e6025edba0067250c4" {
		t.Errorf("x509.log:25 serial %q", got.CertSerial)
	}

	// ssl.log line 9: Zeek 6 logs SHA-256 fingerprints in cert_chain_fps.
	got = at("wrccdc-2018/ssl.log.gz", 9)
	if got.TLSVersion != "TLSv10" || got.CertSHA256 != "b2dafbcdbc75210672f137f27ce882ccb799887631655d4f11191d5a678e44fe" ||
		len(got.CertChain) != 1 || got.SNI != "" {
		t.Errorf("ssl.log:9 = %+v", got)
	}

	// labelled conn: extra label / detailedlabel columns.
	got = at("stratosphere/008-zeek-mixed/data/conn.log.labeled", 9)
	want = &telemetry.Event{
		Kind: telemetry.KindConn, Time: time.Unix(1655071198, 444458000).UTC(), Line: 9, Log: "conn",
		UID: "CHLXQF2OBY4onAR0Ug", SrcIP: netip.MustParseAddr("147.32.81.167"), SrcPort: 62771,
		DstIP: netip.MustParseAddr("40.74.108.123"), DstPort: 443, Proto: "tcp", Service: "ssl",
		Duration: 1135424 * time.Microsecond, SrcBytes: 1596, DstBytes: 4039, ConnState: "SF",
		SrcPackets: 14, DstPackets: 16, Label: "Benign", DetailedLabel: "Microsoft",
	}
	if d := cmp.Diff(want, got, ignore, empty); d != "" {
		t.Errorf("conn.log.labeled:9 (-want +got)\n%s", d)
	}

	// http.log: request_body_len / response_body_len are the byte counts.
	got = at("stratosphere/009-zeek-malicious/data/http.log.labeled", 9)
	if got.Kind != telemetry.KindHTTP || got.Host != "www.msftncsi.com" || got.SrcBytes != 0 || got.DstBytes != 14 || got.StatusCode != 200 {
		t.Errorf("http.log.labeled:9 = %+v", got)
	}

	// files.log: hashes, MIME type, hosts, label.
	got = at("stratosphere/009-zeek-malicious/data/files.log.labeled", 9)
	if got.MD5 != "cd5a4d3fdd5bffc16bf959ef75cf37bc" || got.SHA1 != "33bf88d5b82df3723d5863c7d23445e345828904" ||
		got.MIMEType != "text/plain" || got.FileSize != 14 || got.UID != "Cjaazc3XueL18CGpgf" ||
		got.SrcIP != netip.MustParseAddr("195.113.232.73") || got.DstIP != netip.MustParseAddr("192.168.1.113") ||
		got.Label != "Benign" || got.DetailedLabel != "Windows" {
		t.Errorf("files.log.labeled:9 = %+v", got)
	}

	// Zeek JSON without _path: the log comes from the file name; \\x
	// escapes in a JSON string are Zeek's byte escapes.
	got = at("stratosphere/004-zeek-scenario-ssh/ssh.log", 6)
	if got.Kind != telemetry.KindSSH || !strings.HasPrefix(got.UserAgent, "\x16\x03\x01\x00\xee\x01") {
		t.Errorf("ssh.log:6 = %v %q", got.Kind, got.UserAgent)
	}
}

// TestTSVMatchesJSON reads the same WRCCDC traffic as Zeek TSV and as Zeek
// JSON: the events must agree (rtt is rounded to microseconds in TSV).
func TestTSVMatchesJSON(t *testing.T) {
	dir := sharedZeek(t)
	opts := cmp.Options{
		cmpopts.IgnoreFields(telemetry.Event{}, "File", "Line", "Offset", "Duration"),
		cmpopts.EquateEmpty(), cmpopts.EquateComparable(netip.Addr{}),
	}
	open := func(path string, f telemetry.Format) (telemetry.Reader, func() error) {
		in, err := fileio.Open(path, fileio.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		r, err := f.Open(in.R, path)
		if err != nil {
			t.Fatal(err)
		}
		return r, in.Close
	}
	for _, name := range []string{"dns", "ssl", "x509", "smtp"} {
		tr, c1 := open(filepath.Join(dir, "wrccdc-2018", name+".log.gz"), zeek.TSV{})
		jr, c2 := open(filepath.Join(dir, "wrccdc-2018", "json", name+".json.gz"), zeek.JSON{})
		var a, b telemetry.Event
		n, diffs := 0, 0
		for {
			e1, e2 := tr.Next(&a), jr.Next(&b)
			if e1 != nil || e2 != nil {
				if e1 != io.EOF || e2 != io.EOF {
					t.Errorf("%s after %d events: TSV %v, JSON %v", name, n, e1, e2)
				}
				break
			}
			n++
			if a.Kind != b.Kind || a.UID != b.UID || a.Time != b.Time || a.Query != b.Query || a.SNI != b.SNI || a.CertSubject != b.CertSubject {
				if d := cmp.Diff(&a, &b, opts); d != "" {
					if diffs++; diffs <= 3 {
						t.Errorf("%s event %d (TSV line %d) (-tsv +json)\n%s", name, n, a.Line, d)
					}
				}
			} else if n%50 == 1 {
				// a full comparison of a sample, the cheap one of all
				if d := cmp.Diff(&a, &b, opts); d != "" {
					if diffs++; diffs <= 3 {
						t.Errorf("%s event %d (TSV line %d) (-tsv +json)\n%s", name, n, a.Line, d)
					}
				}
			}
		}
		c1()
		c2()
		if n < 300 || diffs > 0 {
			t.Errorf("%s: %d events compared, %d differ", name, n, diffs)
		}
	}
}

const hdr = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n#open\t2024-01-01-00-00-00\n" +
	"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tquery\tanswers\tTTLs\n" +
	"#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tvector[string]\tvector[interval]\n"

func TestTSVCases(t *testing.T) {
	type ev struct {
		Line    int64
		Kind    telemetry.Kind
		Log     string
		Query   string
		Answers []string
		TTLs    []float64
		Host    string
		URI     string
		Label   string
		Detail  string
	}
	tests := []struct {
		name  string
		in    string
		want  []ev
		badAt []int64 // lines of bad records
		fatal bool
	}{
		{
			name: "unset and empty",
			in: hdr +
				"1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t53\t-\t-\t-\n" +
				"1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t53\t(empty)\t(empty)\t(empty)\n",
			want: []ev{{Line: 9, Kind: telemetry.KindDNS, Log: "dns"}, {Line: 10, Kind: telemetry.KindDNS, Log: "dns"}},
		},
		{
			name: "escapes: \\x sequences, an escaped separator, a literal dash and backslash",
			in: hdr +
				"1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t53\ta\\x09b\\x2cc.example\t\\x2d,x\\\\y\\x2cz\t1.0,2.0\n",
			want: []ev{{Line: 9, Kind: telemetry.KindDNS, Log: "dns", Query: "a\tb,c.example", Answers: []string{"-", `x\y,z`}, TTLs: []float64{1, 2}}},
		},
		{
			name: "unset element inside a vector",
			in:   hdr + "1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t53\tq\ta,-,b\t-\n",
			want: []ev{{Line: 9, Kind: telemetry.KindDNS, Log: "dns", Query: "q", Answers: []string{"a", "b"}}},
		},
		{
			name: "header changes mid-file: dns then http, after #close",
			in: hdr + "1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t53\tq1\t-\t-\n#close\t2024\n" +
				"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\thttp\n" +
				"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\thost\turi\n" +
				"#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tstring\n" +
				"2.5\tC2\t10.0.0.1\t1\t10.0.0.2\t80\tevil.example\t/x?y=1\n",
			want: []ev{{Line: 9, Kind: telemetry.KindDNS, Log: "dns", Query: "q1"}, {Line: 18, Kind: telemetry.KindHTTP, Log: "http", Host: "evil.example", URI: "/x?y=1"}},
		},
		{
			name: "extra label columns, declared in the header",
			in: strings.Replace(hdr, "\tTTLs\n", "\tTTLs\tlabel\tdetailedlabel\n", 1) +
				"1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t53\tq\t-\t-\tMalicious\tC&C\n",
			want: []ev{{Line: 9, Kind: telemetry.KindDNS, Log: "dns", Query: "q", Label: "Malicious", Detail: "C&C"}},
		},
		{
			name: "IoT-23 style: last columns separated by spaces",
			in: strings.Replace(hdr, "\tTTLs\n", "\tTTLs   label   detailed-label\n", 1) +
				"1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t53\tq\t-\t-   Malicious   PartOfAHorizontalPortScan\n",
			want: []ev{{Line: 9, Kind: telemetry.KindDNS, Log: "dns", Query: "q", Label: "Malicious", Detail: "PartOfAHorizontalPortScan"}},
		},
		{
			name:  "wrong field count, bad address, bad time: each one bad record, the rest read",
			in:    hdr + "1.5\tC1\t10.0.0.1\n1.5\tC1\tnot-an-ip\t1\t10.0.0.2\t53\tq\t-\t-\nyesterday\tC1\t10.0.0.1\t1\t10.0.0.2\t53\tq\t-\t-\n1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t53\tok\t-\t-\n",
			want:  []ev{{Line: 12, Kind: telemetry.KindDNS, Log: "dns", Query: "ok"}},
			badAt: []int64{9, 10, 11},
		},
		{
			name:  "data before any header",
			in:    "1.5\tC1\n" + hdr + "1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t53\tq\t-\t-\n",
			want:  []ev{{Line: 10, Kind: telemetry.KindDNS, Log: "dns", Query: "q"}},
			badAt: []int64{1},
		},
		{
			name:  "binary junk",
			in:    hdr + "\x00\x01\x02\xff\xfe\t\x80\n1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t53\tq\t-\t-\n",
			want:  []ev{{Line: 10, Kind: telemetry.KindDNS, Log: "dns", Query: "q"}},
			badAt: []int64{9},
		},
		{
			name: "CRLF line ends and no final newline",
			in:   strings.ReplaceAll(hdr, "\n", "\r\n") + "1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t53\tq\t-\t-",
			want: []ev{{Line: 9, Kind: telemetry.KindDNS, Log: "dns", Query: "q"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := readertest.ReadString(t, zeek.TSV{}, tt.in, "x.log")
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			var got []ev
			for _, e := range res.Events {
				got = append(got, ev{e.Line, e.Kind, e.Log, e.Query, e.Answers, e.TTLs, e.Host, e.URI, e.Label, e.DetailedLabel})
			}
			if d := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("events (-want +got)\n%s", d)
			}
			readertest.CheckBad(t, res, "x.log", tt.badAt...)
		})
	}
}

func TestLongLine(t *testing.T) {
	long := "1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t53\t" + strings.Repeat("a", 100<<20) + "\t-\t-\n"
	in := hdr + long + "1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t53\tafter\t-\t-\n"
	res := readertest.ReadString(t, zeek.TSV{}, in, "big.log")
	readertest.CheckBad(t, res, "big.log", 9)
	if res.Err != nil || len(res.Events) != 1 || res.Events[0].Query != "after" {
		t.Fatalf("100 MB line: err %v, bad %v, %d events", res.Err, res.Bad, len(res.Events))
	}
}

func gz(t testing.TB, s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

// TestTruncatedGzip: the events before the cut are kept and the cut is
// reported as the error that ends the file, with the line reached.
func TestTruncatedGzip(t *testing.T) {
	var sb strings.Builder
	sb.WriteString(hdr)
	for i := 0; i < 5000; i++ {
		sb.WriteString("1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t53\tq.example\t1.2.3.4\t60.0\n")
	}
	z := gz(t, sb.String())
	cut := z[:len(z)*2/3]
	res := readertest.ReadBytes(t, zeek.TSV{}, cut, "cut.log.gz")
	if res.Err == nil || !strings.Contains(res.Err.Error(), "cut.log.gz") || !strings.Contains(res.Err.Error(), "line") {
		t.Fatalf("want an error naming file and line, got %v", res.Err)
	}
	if len(res.Events) < 1000 || len(res.Events) >= 5000 {
		t.Fatalf("%d events kept before the cut", len(res.Events))
	}
	// through fileio.Open too, as the scan engine reads files
	path := filepath.Join(t.TempDir(), "cut.log.gz")
	os.WriteFile(path, cut, 0o644)
	fr, format := readFileEach(t, path, readertest.Clone)
	if format != "zeek" || fr.Err == nil || len(fr.Events) != len(res.Events) {
		t.Fatalf("via fileio: format %q err %v, %d events", format, fr.Err, len(fr.Events))
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		head string
		tsv  bool
		json bool
	}{
		{hdr, true, false},
		{"#fields\tts\tuid\n", true, false},
		{`{"_path":"dns","ts":"2018-03-24T17:15:20Z","uid":"C"}` + "\n", false, true},
		{`{"ts":1664462456.755299,"uid":"C5x","id.orig_h":"172.16.1.11"}`, false, true},
		{`{"timestamp":"2017-04-07T22:24:37.251547+0100","event_type":"alert","src_ip":"1.2.3.4"}`, false, false},
		{"ts,uid\n1,2\n", false, false},
		{"\x1f\x8b\x08", false, false},
	}
	for _, tt := range tests {
		if got := (zeek.TSV{}).Sniff([]byte(tt.head), "x"); got != tt.tsv {
			t.Errorf("TSV.Sniff(%.30q) = %v", tt.head, got)
		}
		if got := (zeek.JSON{}).Sniff([]byte(tt.head), "x"); got != tt.json {
			t.Errorf("JSON.Sniff(%.30q) = %v", tt.head, got)
		}
	}
}

func TestJSONCases(t *testing.T) {
	in := `{"_path":"dns","ts":1.5,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":53,"query":"q.example","answers":["1.2.3.4","c\u0061.example"],"TTLs":[60.0,7]}
{"_path":"http","ts":"2020-01-02T03:04:05.5Z","id":{"orig_h":"10.0.0.1","orig_p":5,"resp_h":"10.0.0.3","resp_p":80},"host":"evil.example","uri":"/a","user_agent":"curl/8","status_code":200,"request_body_len":7,"response_body_len":4096}
{"_path":"dns","ts":1.5,"id.orig_h":"bad"}
not json
{"_path":"conn","ts":2.5,"id.orig_h":"10.0.0.1","orig_bytes":10,"resp_bytes":20,"duration":1.25,"conn_state":"SF"} trailing
{"_path":"conn","ts":2.5,"id.orig_h":"10.0.0.1","orig_bytes":10,"resp_bytes":20,"duration":1.25,"conn_state":"SF","label":"x"}
`
	res := readertest.ReadString(t, zeek.JSON{}, in, "mixed.json")
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(res.Events) != 3 || len(res.Bad) != 3 {
		t.Fatalf("%d events %d bad: %v", len(res.Events), len(res.Bad), res.Bad)
	}
	readertest.CheckBad(t, res, "mixed.json", 3, 4, 5)
	dns, http, conn := res.Events[0], res.Events[1], res.Events[2]
	if dns.Kind != telemetry.KindDNS || dns.Query != "q.example" || !cmp.Equal(dns.Answers, []string{"1.2.3.4", "ca.example"}) ||
		!cmp.Equal(dns.TTLs, []float64{60, 7}) || dns.DstPort != 53 || dns.Time != time.Unix(1, 5e8).UTC() {
		t.Errorf("dns = %+v", dns)
	}
	if http.Kind != telemetry.KindHTTP || http.Host != "evil.example" || http.SrcIP != netip.MustParseAddr("10.0.0.1") ||
		http.DstPort != 80 || http.StatusCode != 200 || http.SrcBytes != 7 || http.DstBytes != 4096 || http.Time != time.Date(2020, 1, 2, 3, 4, 5, 5e8, time.UTC) {
		t.Errorf("http = %+v", http)
	}
	if conn.Kind != telemetry.KindConn || conn.SrcBytes != 10 || conn.DstBytes != 20 || conn.Duration != 1250*time.Millisecond || conn.Label != "x" {
		t.Errorf("conn = %+v", conn)
	}
}

// TestNoAllocs: the steady state of the TSV reader allocates nothing per
// event.
func TestNoAllocs(t *testing.T) {
	conn, dns, ssl := genAll(1 << 20)
	for log, data := range map[string][]byte{"conn": conn, "dns": dns, "ssl": ssl} {
		r, err := zeek.TSV{}.Open(&readertest.Loop{Data: data}, "a.log")
		if err != nil {
			t.Fatal(err)
		}
		if n := readertest.AllocsPerEvent(t, r, 1000, 5000); n != 0 {
			t.Errorf("%s: %v allocations per event", log, n)
		}
	}
}
