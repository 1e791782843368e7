package flat_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/flat"
)

// csvView is what the CSV tests compare of an indicator.
type csvView struct {
	Type       intel.ValueType
	Value      string
	Port       int
	Desc       string
	Labels     []string
	Confidence int
	ValidFrom  time.Time
	Context    bool
}

func csvViews(t *testing.T, c *intel.Collector) []csvView {
	t.Helper()
	checkIndicators(t, c)
	var out []csvView
	for _, o := range byType(c, intel.TypeIndicator) {
		obs := o.Indicator.Observables[0]
		out = append(out, csvView{obs.Type, obs.Value, obs.Port, o.Description, o.Labels, o.Confidence, o.Indicator.ValidFrom, o.Indicator.Context})
	}
	return out
}

func day(y, m, d, h int) time.Time { return time.Date(y, time.Month(m), d, h, 0, 0, 0, time.UTC) }

func TestCSV(t *testing.T) {
	tests := []struct {
		file      string
		want      []csvView
		skipLines []int64
	}{
		{file: "indicators.csv", skipLines: []int64{6}, want: []csvView{
			{intel.IPv4, "198.51.100.23", 0, "Staging server, seen in phishing wave", []string{"apt", "staging"}, 80, day(2024, 3, 1, 0), false},
			{intel.Domain, "update.bad.example", 0, "C2 domain", []string{"c2"}, 70, day(2024, 3, 2, 8), false},
			{intel.URL, "https://login.bad.example/owa/", 0, `Credential "harvester" page`, []string{"phishing"}, -1, time.Time{}, false},
			{intel.MD5, "5d41402abc4b2a76b9719d911017c592", 0, "Dropper", nil, 90, time.Time{}, false},
		}},
		{file: "urlhaus-style.csv", want: []csvView{
			{intel.URL, "http://198.51.100.77:8080/bins/mips", 0, "", []string{"malware_download", "32-bit", "elf", "mips"}, -1, time.Date(2024, 9, 5, 10, 48, 5, 0, time.UTC), false},
			{intel.URL, "https://drop.bad.example/a/b.exe", 0, "", []string{"malware_download", "exe"}, -1, time.Date(2024, 9, 5, 10, 40, 11, 0, time.UTC), false},
		}},
		{file: "threatfox-style.csv", want: []csvView{
			{intel.IPv4, "203.0.113.9", 443, "", []string{"botnet_cc", "Cobalt Strike", "CobaltStrike"}, 100, time.Date(2024, 9, 5, 10, 50, 27, 0, time.UTC), false},
			{intel.Domain, "cs.bad.example", 0, "", []string{"botnet_cc", "Cobalt Strike", "c2"}, 75, time.Date(2024, 9, 5, 10, 50, 27, 0, time.UTC), false},
			{intel.SHA256, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", 0, "", []string{"payload", "Cobalt Strike"}, 50, time.Date(2024, 9, 5, 10, 50, 27, 0, time.UTC), false},
		}},
		{file: "misp-export.csv", skipLines: []int64{6}, want: []csvView{
			{intel.IPv4, "198.51.100.99", 8443, "C2 with port", []string{"tlp:green"}, -1, time.Unix(1710000000, 0).UTC(), false},
			{intel.Domain, "mail.bad.example", 0, "resolution", nil, -1, time.Unix(1710000000, 0).UTC(), false},
			{intel.IPv4, "198.51.100.98", 0, "resolution", nil, -1, time.Unix(1710000000, 0).UTC(), false},
			{intel.FileName, "report.doc", 0, "attachment", nil, -1, time.Unix(1710000000, 0).UTC(), false},
			{intel.MD5, "7215ee9c7d9dc229d2921a40e899ec5f", 0, "attachment", nil, -1, time.Unix(1710000000, 0).UTC(), false},
			{intel.Domain, "benign.example", 0, "context only", nil, -1, time.Unix(1710000000, 0).UTC(), true},
		}},
		{file: "headerless.csv", skipLines: []int64{3}, want: []csvView{
			{intel.IPv4, "198.51.100.5", 0, "", nil, -1, time.Time{}, false},
			{intel.IPv4, "198.51.100.6", 0, "", nil, -1, time.Time{}, false},
		}},
		{file: "semicolon.csv", want: []csvView{
			{intel.Domain, "bad.example", 0, "semicolon separated", nil, -1, time.Time{}, false},
			{intel.IPv4, "198.51.100.4", 0, "quoted; with delimiter", nil, -1, time.Time{}, false},
		}},
		{file: "multiline.csv", want: []csvView{
			{intel.Domain, "multi.bad.example", 0, "line one\nline two, with comma\n\nline four", nil, -1, time.Time{}, false},
			{intel.Domain, "after.bad.example", 0, "plain", nil, -1, time.Time{}, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c, st := mustRun(t, flat.CSV{}, "testdata/"+tt.file, intel.DefaultOptions())
			if d := cmp.Diff(tt.want, csvViews(t, c)); d != "" {
				t.Errorf("indicators (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.skipLines, errLines(st)); d != "" {
				t.Errorf("skipped lines (-want +got):\n%s\n%v", d, st.Errors)
			}
		})
	}
}

func TestCSVContext(t *testing.T) {
	c, _ := mustRun(t, flat.CSV{}, "testdata/urlhaus-style.csv", intel.DefaultOptions())
	o := byValue(t, c)["http://198.51.100.77:8080/bins/mips"]
	if d := cmp.Diff([]intel.ExternalRef{{SourceName: "researcher_a", URL: "https://ref.example/url/1001/"}}, o.ExternalRefs); d != "" {
		t.Errorf("refs (-want +got):\n%s", d)
	}
	if o.CreatedBy != intel.DeriveID(intel.TypeIdentity, "name", "researcher_a") {
		t.Errorf("created_by %q", o.CreatedBy)
	}
	if !strings.Contains(string(o.Raw), `"urlhaus_link":"https://ref.example/url/1001/"`) || !strings.HasPrefix(string(o.Raw), `{"id":"1001",`) {
		t.Errorf("raw keeps the row by header: %s", o.Raw)
	}
	if !o.Modified.Equal(time.Date(2024, 9, 5, 10, 48, 5, 0, time.UTC)) {
		t.Errorf("modified from last_online: %v", o.Modified)
	}
	c, _ = mustRun(t, flat.CSV{}, "testdata/headerless.csv", intel.DefaultOptions())
	if raw := string(byValue(t, c)["198.51.100.5"].Raw); raw != `["2024-01-01","198.51.100.5","scanner"]` {
		t.Errorf("headerless raw %s", raw)
	}
}

func TestCSVBadInput(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"unterminated quote, nothing after", "indicator,description\nopen.bad.example,\"never closes\n",
			"x.csv: no indicator read, 1 bad records (first: x.csv:2: quoted field opened on this line is not closed (the file ends first)"},
		{"binary", "indicator\n\x1f\x8b\x08\x00\x00\x00\x00\x00garbage\n", "x.csv:2 (byte offset 13): NUL byte"},
		{"nothing usable", "indicator,description\nfoo,bar\nbaz,qux\n", "x.csv: no indicator read, 2 bad records"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c intel.Collector
			_, err := flat.CSV{}.Import(t.Context(), strings.NewReader(tt.in), "x.csv", intel.DefaultOptions(), &c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestCSVOverlongRecord(t *testing.T) {
	// a quoted field that spans many lines and passes the record bound is
	// skipped as one record, and the rows after it still import
	var b strings.Builder
	b.WriteString("indicator,description\nfirst.bad.example,\"")
	line := strings.Repeat("x", flat.MaxLineBytes*6/10) + "\n"
	b.WriteString(line + line[:len(line)-1] + "\"\nlast.bad.example,ok\n") // closes on line 3, over the bound
	var c intel.Collector
	st, err := flat.CSV{}.Import(t.Context(), strings.NewReader(b.String()), "big.csv", intel.DefaultOptions(), &c)
	if err != nil {
		t.Fatal(err)
	}
	if st.Skipped != 1 || st.Errors[0].Line != 2 || !strings.Contains(st.Errors[0].Error(), "record longer than") {
		t.Errorf("errors %v", st.Errors)
	}
	if _, ok := byValue(t, &c)["last.bad.example"]; !ok || len(byValue(t, &c)) != 1 {
		t.Errorf("indicators %v", byValue(t, &c))
	}
}

func TestCSVForcedType(t *testing.T) {
	in := "hash,comment\ne7d705a3286e19ea42f587b344ee6865,client\nnot-hex,broken\n"
	opt := intel.DefaultOptions()
	opt.Type = intel.JA3
	var c intel.Collector
	st, err := flat.CSV{}.Import(t.Context(), strings.NewReader(in), "ja3.csv", opt, &c)
	if err != nil {
		t.Fatal(err)
	}
	o := byValue(t, &c)["e7d705a3286e19ea42f587b344ee6865"]
	if o == nil || o.Indicator.Observables[0].Type != intel.JA3 || o.Indicator.Pattern != "[x-ja3:value = 'e7d705a3286e19ea42f587b344ee6865']" {
		t.Errorf("forced ja3: %+v", o)
	}
	if d := cmp.Diff([]int64{3}, errLines(st)); d != "" {
		t.Errorf("skipped (-want +got):\n%s", d)
	}
}

// A stray quote in a real feed is one bad record with its line; the lines
// after it are read as records again.
func TestCSVStrayQuoteResumes(t *testing.T) {
	data, err := os.ReadFile("testdata/indicators.csv")
	if err != nil {
		t.Fatal(err)
	}
	in := strings.Replace(string(data), ",md5,Dropper,", ",md5,\"Dropper,", 1) // line 5
	var c intel.Collector
	st, err := flat.CSV{}.Import(t.Context(), strings.NewReader(in), "stray.csv", intel.DefaultOptions(), &c)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]int64{5, 6}, errLines(st)); d != "" {
		t.Errorf("bad records (-want +got):\n%s", d)
	}
	if !strings.Contains(st.Errors[0].Error(), "stray.csv:5: quoted field opened on this line is not closed") {
		t.Errorf("first error %v", st.Errors[0])
	}
	got := byValue(t, &c)
	if _, ok := got["5d41402abc4b2a76b9719d911017c592"]; ok || len(got) != 3 {
		t.Errorf("indicators %v, want the three rows without the stray quote", keys(got))
	}
}

// A stray quote far from the end does not swallow the rows after it: the
// bound on a quoted field's lines gives them back.
func TestCSVStrayQuoteBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("indicator,type,description\nfirst.bad.example,domain,\"stray\n")
	const rows = 3 * 256
	for i := range rows {
		fmt.Fprintf(&b, "host-%d.bad.example,domain,row %d\n", i, i)
	}
	var c intel.Collector
	st, err := flat.CSV{}.Import(t.Context(), strings.NewReader(b.String()), "long.csv", intel.DefaultOptions(), &c)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]int64{2}, errLines(st)); d != "" {
		t.Errorf("bad records (-want +got):\n%s", d)
	}
	if got := byValue(t, &c); len(got) != rows || got["host-0.bad.example"] == nil || got[fmt.Sprintf("host-%d.bad.example", rows-1)] == nil {
		t.Errorf("%d indicators, want %d", len(got), rows)
	}
}

func keys(m map[string]*intel.Object) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
