package flat_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/flat"
)

func TestZeekAPT1(t *testing.T) {
	dir := aptDir(t)
	tests := []struct {
		file   string
		want   int
		typ    intel.ValueType
		values []string // real values from the file
		absent []string // commented-out test rows
		desc   map[string]string
	}{
		{file: "apt1-fqdn.dat", want: 2046, typ: intel.Domain,
			values: []string{"advanbusiness.com", "aoldaily.com", "zone.todayusa.org", "ztl.firefoxupdata.com"},
			absent: []string{"time.windows.com"}},
		{file: "apt1-md5.dat", want: 1007, typ: intel.MD5,
			values: []string{"001dd76872d80801692ff942308c64e6", "ffcc7271e951055f12b61f520ce1e4c7"},
			absent: []string{"4285358dd748ef74cb8161108e11cb73"}},
		{file: "apt1-certs.dat", want: 25, typ: intel.X509SHA1,
			values: []string{"b054e26ef827fbbf5829f84a9bdbb697a5b042fc", "86a48093d9b577955c4c9bd19e30536aae5543d4"},
			desc: map[string]string{
				"b054e26ef827fbbf5829f84a9bdbb697a5b042fc": "ALPHA",
				"86a48093d9b577955c4c9bd19e30536aae5543d4": "YAHOO",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c, st := mustRun(t, flat.ZeekIntel{}, filepath.Join(dir, tt.file), intel.DefaultOptions())
			if st.Skipped != 0 {
				t.Errorf("skipped %d records: %v", st.Skipped, st.Errors)
			}
			if got := st.Objects[intel.TypeIndicator]; got != tt.want {
				t.Errorf("stats: %d indicators, want %d", got, tt.want)
			}
			if st.Network != tt.want {
				t.Errorf("stats: %d network indicators, want %d", st.Network, tt.want)
			}
			ind := byValue(t, c)
			if len(ind) != tt.want {
				t.Errorf("sink: %d distinct indicators, want %d", len(ind), tt.want)
			}
			checkIndicators(t, c)
			for _, o := range ind {
				if got := o.Indicator.Observables[0].Type; got != tt.typ {
					t.Fatalf("%s: type %s, want %s", o.Name, got, tt.typ)
				}
				if o.CreatedBy == "" || !contains(o.Labels, "zeek:do_notice") {
					t.Fatalf("%s: source or do_notice lost: %+v", o.Name, o)
				}
			}
			for _, v := range tt.values {
				o := ind[v]
				if o == nil {
					t.Errorf("%s missing", v)
					continue
				}
				var raw map[string]string
				if err := json.Unmarshal(o.Raw, &raw); err != nil || raw["indicator"] != v || !strings.HasPrefix(raw["indicator_type"], "Intel::") {
					t.Errorf("%s: raw %s (%v)", v, o.Raw, err)
				}
				if d, ok := tt.desc[v]; ok && o.Description != d {
					t.Errorf("%s: description %q, want %q", v, o.Description, d)
				}
			}
			for _, v := range tt.absent {
				if ind[v] != nil {
					t.Errorf("commented-out row %s was imported", v)
				}
			}
			ids := byType(c, intel.TypeIdentity)
			if len(ids) != 1 || !strings.EqualFold(ids[0].Name, "Mandiant APT1 Report") {
				t.Errorf("identities: %+v", ids)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestZeekAllTypes(t *testing.T) {
	c, st := mustRun(t, flat.ZeekIntel{}, "testdata/all-types.intel", intel.DefaultOptions())
	if st.Skipped != 0 {
		t.Fatalf("skipped: %v", st.Errors)
	}
	checkIndicators(t, c)
	type row struct {
		Type        intel.ValueType
		Value       string
		PatternType string
	}
	var got []row
	for _, o := range byType(c, intel.TypeIndicator) {
		obs := o.Indicator.Observables[0]
		got = append(got, row{obs.Type, obs.Value, o.Indicator.PatternType})
	}
	want := []row{
		{intel.IPv4, "198.51.100.7", "stix"},
		{intel.IPv6, "2001:db8::1", "stix"},
		{intel.CIDR, "203.0.113.0/24", "stix"},
		{intel.URL, "http://evil.example/gate.php?id=1", "stix"},
		{intel.Software, "Evil-Agent/1.0", "zeek-intel"},
		{intel.Email, "phish@mail.example", "stix"},
		{intel.Domain, "bad.example", "stix"},
		{intel.UserName, "svc_backup", "zeek-intel"},
		{intel.X509SHA1, "b054e26ef827fbbf5829f84a9bdbb697a5b042fc", "stix"},
		{intel.PubkeyHash, "e4:b1:8e:ca:6e:0b:ae:d4:c8:73:7e:3a:b7:7f:61:7a", "zeek-intel"},
		{intel.MD5, "d41d8cd98f00b204e9800998ecf8427e", "stix"},
		{intel.SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709", "stix"},
		{intel.SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "stix"},
		{intel.FileName, "invoice\tfinal.exe", "stix"},
		{intel.JA3, "e7d705a3286e19ea42f587b344ee6865", "stix"},
		{intel.Domain, "www.example.com", "stix"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("indicators (-want +got):\n%s", d)
	}

	ind := byValue(t, c)
	addr := ind["198.51.100.7"]
	if addr.Description != "C2 server" ||
		!cmp.Equal(addr.ExternalRefs, []intel.ExternalRef{{SourceName: "Example Feed", URL: "https://feed.example/c2/1"}}) ||
		!cmp.Equal(addr.Labels, []string{"zeek:do_notice", "zeek:if_in=Conn::IN_RESP"}) {
		t.Errorf("meta columns of 198.51.100.7: %+v", addr)
	}
	if ind["2001:db8::1"].Labels != nil {
		t.Errorf("do_notice=F must not label: %v", ind["2001:db8::1"].Labels)
	}
	allow := ind["www.example.com"]
	if !allow.Indicator.Context || !contains(allow.Labels, "zeek:whitelist") {
		t.Errorf("meta.whitelist=T must make a context-only indicator: %+v %+v", allow, allow.Indicator)
	}
	if ind["bad.example"].Indicator.Context {
		t.Errorf("bad.example is not whitelisted")
	}
	want2 := map[string]string{"Example Feed": "", "Local allow list": ""}
	for _, o := range byType(c, intel.TypeIdentity) {
		want2[o.Name] = o.ID
	}
	if allow.CreatedBy != want2["Local allow list"] || addr.CreatedBy != want2["Example Feed"] || addr.CreatedBy == "" {
		t.Errorf("created_by: %q %q, identities %v", allow.CreatedBy, addr.CreatedBy, want2)
	}
}

func TestZeekDirectives(t *testing.T) {
	c, st := mustRun(t, flat.ZeekIntel{}, "testdata/separator.intel", intel.DefaultOptions())
	if st.Skipped != 0 {
		t.Fatalf("skipped: %v", st.Errors)
	}
	ind := byValue(t, c)
	bad := ind["bad.example"]
	if bad == nil || bad.Confidence != 85 || !cmp.Equal(bad.Labels, []string{"malware", "botnet"}) || bad.CreatedBy == "" {
		t.Errorf("bad.example: %+v", bad)
	}
	worse := ind["worse.example"]
	if worse == nil || worse.Labels != nil || worse.CreatedBy != "" || worse.Confidence != -1 {
		t.Errorf("worse.example (unset and empty fields): %+v", worse)
	}
}

func TestZeekBadRows(t *testing.T) {
	c, st := mustRun(t, flat.ZeekIntel{}, "testdata/bad-rows.intel", intel.DefaultOptions())
	if d := cmp.Diff([]int64{3, 4, 5, 6, 7}, errLines(st)); d != "" {
		t.Errorf("bad lines (-want +got):\n%s\n%v", d, st.Errors)
	}
	if st.Skipped != 5 || len(byValue(t, c)) != 2 {
		t.Errorf("skipped %d, indicators %d", st.Skipped, len(byValue(t, c)))
	}
	for _, e := range st.Errors {
		if e.File != "testdata/bad-rows.intel" || !strings.HasPrefix(e.Error(), "testdata/bad-rows.intel:") {
			t.Errorf("record error without its file: %v", e)
		}
	}
}

func TestZeekRejectsFile(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no header", "evil.example\tIntel::DOMAIN\n", "x.intel:1: data before a #fields header"},
		{"no indicator_type", "#fields\tindicator\tmeta.source\nevil.example\tfeed\n", "x.intel:1: #fields lacks indicator and indicator_type"},
		{"space separated", "#fields indicator indicator_type\nevil.example Intel::DOMAIN\n", "x.intel:1: #fields is not separated by \"\\t\""},
		{"binary", "#fields\tindicator\tindicator_type\n\x00\x01\x02garbage\n", "x.intel:2 (byte offset 33): NUL byte"},
		{"only bad rows", "#fields\tindicator\tindicator_type\nnope\tIntel::ADDR\n", "x.intel: no indicator read, 1 bad records"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c intel.Collector
			_, err := flat.ZeekIntel{}.Import(t.Context(), strings.NewReader(tt.in), "x.intel", intel.DefaultOptions(), &c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
