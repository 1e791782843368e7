package jsonl_test

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/jsonl"
	"github.com/whodunit-project/whodunit/internal/telemetry/readertest"
)

func read(t testing.TB, f telemetry.Format, in, name string) readertest.Result {
	t.Helper()
	return readertest.ReadString(t, f, in, name)
}

func mustMapping(t testing.TB, s string) jsonl.Mapping {
	t.Helper()
	m, err := jsonl.ParseMapping(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var opts = cmp.Options{cmpopts.IgnoreFields(telemetry.Event{}, "File", "Offset"), cmpopts.EquateEmpty(), cmpopts.EquateComparable(netip.Addr{})}

func TestParseMapping(t *testing.T) {
	tests := []struct {
		in      string
		want    []jsonl.Entry
		wantErr string
	}{
		{in: "src_ip=source.ip, dst_ip = destination.ip,query=dns.question.name",
			want: []jsonl.Entry{{Field: "src_ip", Source: "source.ip"}, {Field: "dst_ip", Source: "destination.ip"}, {Field: "query", Source: "dns.question.name"}}},
		{in: "# a proxy log\nurl=request.url\n\nkind='http'\nlog=\"proxy, v2\"\n",
			want: []jsonl.Entry{{Field: "url", Source: "request.url"}, {Field: "kind", Source: "http", Literal: true}, {Field: "log", Source: "proxy, v2", Literal: true}}},
		{in: "colour=x", wantErr: `unknown event field "colour"`},
		{in: "query", wantErr: "is not field=source"},
		{in: "query=a,query=b", wantErr: "mapped twice"},
		{in: "  \n# nothing\n", wantErr: "empty"},
	}
	for _, tt := range tests {
		m, err := jsonl.ParseMapping(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseMapping(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseMapping(%q): %v", tt.in, err)
			continue
		}
		if d := cmp.Diff(tt.want, m.Entries, cmpopts.IgnoreUnexported(jsonl.Entry{})); d != "" {
			t.Errorf("ParseMapping(%q) (-want +got)\n%s", tt.in, d)
		}
		if again, err := jsonl.ParseMapping(m.String()); err != nil || !cmp.Equal(again.Entries, m.Entries, cmpopts.IgnoreUnexported(jsonl.Entry{})) {
			t.Errorf("String() %q does not parse back: %v", m.String(), err)
		}
	}
}

func TestLoadMapping(t *testing.T) {
	path := filepath.Join(t.TempDir(), "map.txt")
	os.WriteFile(path, []byte("# ECS\ntime=@timestamp\nsrc_ip=source.ip\n"), 0o644)
	m, err := jsonl.LoadMapping(path)
	if err != nil || len(m.Entries) != 2 {
		t.Fatalf("LoadMapping: %v %v", m, err)
	}
	os.WriteFile(path, bytes.Repeat([]byte("a"), 70<<10), 0o644)
	if _, err := jsonl.LoadMapping(path); err == nil {
		t.Error("a 70 KiB mapping file was accepted")
	}
}

func TestJSONL(t *testing.T) {
	// an ECS-shaped export: nested objects, dotted keys, arrays, epoch ms
	m := mustMapping(t, "time=@timestamp,src_ip=source.ip,src_port=source.port,dst_ip=destination.ip,dst_port=destination.port,"+
		"query=dns.question.name,answers=dns.resolved_ip,url=url.full,user_agent=user_agent.original,"+
		"sha256=file.hash.sha256,signature=rule.name,label=tags")
	in := `{"@timestamp":"2024-03-01T10:00:00.250Z","source":{"ip":"10.0.0.7","port":51000},"destination":{"ip":"8.8.8.8","port":53},"dns":{"question":{"name":"c2.evil.example"},"resolved_ip":["203.0.113.5","203.0.113.6"]}}
{"@timestamp":1709287200250,"source.ip":"10.0.0.7","url":{"full":"https://evil.example:8443/gate.php?id=7"},"user_agent":{"original":"Go-http-client/1.1"},"tags":["c2","beacon"]}
{"@timestamp":"2024-03-01T10:00:02Z","file":{"hash":{"sha256":"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"}},"rule":{"name":"Bad file"}}
{"@timestamp":"2024-03-01T10:00:03Z","source":{"ip":"not-an-ip"}}
[1,2]
{"source":{"port":80}}
`
	res := read(t, jsonl.JSONL{Mapping: m}, in, "ecs.json")
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	ts := time.Date(2024, 3, 1, 10, 0, 0, 250e6, time.UTC)
	want := []*telemetry.Event{
		{Kind: telemetry.KindDNS, Line: 1, Time: ts, SrcIP: netip.MustParseAddr("10.0.0.7"), SrcPort: 51000,
			DstIP: netip.MustParseAddr("8.8.8.8"), DstPort: 53, Query: "c2.evil.example", Answers: []string{"203.0.113.5", "203.0.113.6"}},
		{Kind: telemetry.KindHTTP, Line: 2, Time: ts, SrcIP: netip.MustParseAddr("10.0.0.7"), Host: "evil.example",
			URI: "/gate.php?id=7", UserAgent: "Go-http-client/1.1", Label: "c2"},
		{Kind: telemetry.KindAlert, Line: 3, Time: time.Date(2024, 3, 1, 10, 0, 2, 0, time.UTC), Signature: "Bad file",
			SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{Kind: telemetry.KindOther, Line: 6, SrcPort: 80},
	}
	if d := cmp.Diff(want, res.Events, opts); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
	readertest.CheckBad(t, res, "ecs.json", 4, 5)
}

func TestCSV(t *testing.T) {
	m := mustMapping(t, "time=date,src_ip=client,dst_ip=#3,host=host,uri=path,user_agent=agent,kind='http',answers=ips,label=missing_column")
	in := "date,client,server,host,path,agent,ips\n" +
		"2024-03-01 10:00:00,10.0.0.7,203.0.113.5,evil.example,/a?b=1,\"Mozilla/5.0 (X11; \"\"quoted\"\")\",1.1.1.1;2.2.2.2\n" +
		"1709287201,10.0.0.8,203.0.113.6,ok.example,\"/multi\nline\",curl,\n" +
		"bad-date,10.0.0.9,203.0.113.7,x,/,y,\n" +
		"too,few\n" +
		"1709287202,10.0.0.9,203.0.113.7,\"unclosed,/,y,\n"
	res := read(t, jsonl.CSV{Mapping: m}, in, "proxy.csv")
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	want := []*telemetry.Event{
		{Kind: telemetry.KindHTTP, Line: 2, Time: time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC),
			SrcIP: netip.MustParseAddr("10.0.0.7"), DstIP: netip.MustParseAddr("203.0.113.5"), Host: "evil.example", URI: "/a?b=1",
			UserAgent: `Mozilla/5.0 (X11; "quoted")`, Answers: []string{"1.1.1.1", "2.2.2.2"}},
		{Kind: telemetry.KindHTTP, Line: 3, Time: time.Unix(1709287201, 0).UTC(),
			SrcIP: netip.MustParseAddr("10.0.0.8"), DstIP: netip.MustParseAddr("203.0.113.6"), Host: "ok.example", URI: "/multi\nline", UserAgent: "curl"},
	}
	if d := cmp.Diff(want, res.Events, opts); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
	readertest.CheckBad(t, res, "proxy.csv", 5, 6, 7)

	// a header without any mapped column ends the file with a clear error
	res = read(t, jsonl.CSV{Mapping: m}, "a,b\n1,2\n", "other.csv")
	if res.Err == nil || !strings.Contains(res.Err.Error(), "none of the mapped columns") {
		t.Errorf("unrelated CSV: %v", res.Err)
	}
}

func TestSniff(t *testing.T) {
	m := mustMapping(t, "src_ip=client")
	if (jsonl.JSONL{}).Sniff([]byte(`{"a":1}`), "x") || (jsonl.CSV{}).Sniff([]byte("client,b\n"), "x") {
		t.Error("sniffed without a mapping")
	}
	if !(jsonl.JSONL{Mapping: m}).Sniff([]byte(`{"a":1}`), "x") {
		t.Error("JSONL did not sniff a JSON object")
	}
	if !(jsonl.CSV{Mapping: m}).Sniff([]byte("date,client\n1,2\n"), "x") || (jsonl.CSV{Mapping: m}).Sniff([]byte("date,server\n"), "x") {
		t.Error("CSV sniff does not follow the mapped columns")
	}
}

func TestLongLine(t *testing.T) {
	m := mustMapping(t, "query=q")
	in := `{"q":"a.example"}` + "\n" + `{"q":"` + strings.Repeat("x", 2<<20) + `"}` + "\n" + `{"q":"b.example"}` + "\n"
	res := read(t, jsonl.JSONL{Mapping: m}, in, "l.json")
	readertest.CheckBad(t, res, "l.json", 2)
	if res.Err != nil || len(res.Events) != 2 {
		t.Fatalf("err %v events %d bad %v", res.Err, len(res.Events), res.Bad)
	}
}

func FuzzJSONL(f *testing.F) {
	f.Add([]byte(`{"a":{"b":"10.0.0.1"},"a.b":"x","t":1709287200250,"l":["x",1,null,{}]}` + "\n"))
	f.Add([]byte("{\"t\":\"2024-03-01T10:00:00+01:00\",\"a\":{\"b\":{\"c\":[[]]}}}\n{"))
	f.Add([]byte("t,a.b,l\n1,::1,x;y\n\"2\",\"\"\"\",\n"))
	m, err := jsonl.ParseMapping("time=t,src_ip=a.b,answers=l,url=a.b.c,kind=k")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range []telemetry.Format{jsonl.JSONL{Mapping: m, MaxLineBytes: 4096}, jsonl.CSV{Mapping: m, MaxLineBytes: 4096}} {
			readertest.Fuzz(t, format, data, "fuzz", len(data)+1, nil)
		}
	})
}
