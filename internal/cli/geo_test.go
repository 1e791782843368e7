package cli

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// runGeoCLI runs whodunit with args through Main.
func runGeoCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runMain(args...)
}

func TestGeoCLI(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantLines  []string // fields of each stdout line
		wantStderr string   // substring
	}{
		{
			"public, reserved and unknown",
			[]string{"geo", "8.8.8.8", "2001:4860:4860::8888", "223.166.0.1", "10.1.2.3", "[fe80::1]", "4000::1"},
			0,
			[]string{
				"8.8.8.8 US United States AS15169 Google LLC",
				"2001:4860:4860::8888 US United States AS15169 Google LLC",
				"223.166.0.1 CN China AS17621 China Unicom Shanghai network",
				"10.1.2.3 -- private (RFC 1918) - -",
				"fe80::1 -- link-local (RFC 4291) - -",
				"4000::1 -- unknown - -",
			},
			"embedded data ip-location-db",
		},
		{"quiet prints nothing but errors", []string{"-q", "geo", "100.64.1.1"}, 0, nil, ""},
		// a bad argument is reported and the others still answered; exit 1
		{"invalid address", []string{"geo", "999.1.1.1", "8.8.8.8"}, 1, []string{"8.8.8.8 US United States AS15169 Google LLC"}, `"999.1.1.1" is not an IP address`},
		{"a network is not an address", []string{"geo", "223.166.0.0/15"}, 1, nil, `"223.166.0.0/15" is not an IP address`},
		{"no address", []string{"geo"}, 2, nil, "requires at least 1 arg"},
		{"missing mmdb", []string{"geo", "--geoip", "/nonexistent/x.mmdb", "8.8.8.8"}, 1, nil, "/nonexistent/x.mmdb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runGeoCLI(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			var got []string
			for _, l := range strings.Split(strings.TrimRight(stdout, "\n"), "\n") {
				if l != "" {
					got = append(got, strings.Join(strings.Fields(l), " "))
				}
			}
			if diff := cmp.Diff(tt.wantLines, got); diff != "" {
				t.Errorf("stdout (-want +got)\n%s", diff)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.wantStderr)
			}
			if tt.wantStderr == "" && stderr != "" {
				t.Errorf("unexpected stderr %q", stderr)
			}
		})
	}
}

func TestGeoCLIJSON(t *testing.T) {
	code, stdout, stderr := runGeoCLI(t, "--json", "-q", "geo", "1.1.1.1", "192.168.0.1", "4000::1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	if len(got) != 3 {
		t.Fatalf("%d results, want 3", len(got))
	}
	if got[0]["ip"] != "1.1.1.1" || got[0]["found"] != true || got[0]["asn"] != float64(13335) || !strings.Contains(got[0]["as_org"].(string), "Cloudflare") {
		t.Errorf("1.1.1.1: %v", got[0])
	}
	want := []map[string]any{
		{"ip": "192.168.0.1", "found": true, "reserved": "private (RFC 1918)", "source": "IANA special-purpose registry"},
		{"ip": "4000::1", "found": false},
	}
	if diff := cmp.Diff(want, got[1:]); diff != "" {
		t.Errorf("JSON (-want +got)\n%s", diff)
	}
}

func writeTestMMDB(t *testing.T, dbType string, nets map[string]mmdbtype.Map) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, RecordSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, data := range nets {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(n, data); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(t.TempDir(), dbType+".mmdb")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGeoCLIMMDB(t *testing.T) {
	city := writeTestMMDB(t, "Test-City", map[string]mmdbtype.Map{
		"81.2.69.0/24": {"country": mmdbtype.Map{"iso_code": mmdbtype.String("GB"), "names": mmdbtype.Map{"en": mmdbtype.String("United Kingdom")}}},
	})
	asn := writeTestMMDB(t, "Test-ASN", map[string]mmdbtype.Map{
		"81.2.64.0/19": {"autonomous_system_number": mmdbtype.Uint32(20712), "autonomous_system_organization": mmdbtype.String("Andrews & Arnold Ltd")},
	})
	code, stdout, stderr := runGeoCLI(t, "geo", "--geoip", city, "--geoip", asn, "81.2.69.160", "8.8.8.8")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "81.2.69.160  GB  United Kingdom  AS20712  Andrews & Arnold Ltd\n8.8.8.8      --  unknown         -        -\n"
	if diff := cmp.Diff(want, stdout); diff != "" {
		t.Errorf("stdout (-want +got)\n%s", diff)
	}
	if strings.Contains(stderr, "embedded data") {
		t.Errorf("stderr names the embedded data while --geoip is used: %q", stderr)
	}
	// A file that is not a MaxMind database fails the run, naming it.
	bad := filepath.Join(t.TempDir(), "bad.mmdb")
	os.WriteFile(bad, []byte("not a database"), 0o644)
	if code, _, stderr := runGeoCLI(t, "geo", "--geoip", bad, "8.8.8.8"); code != 1 || !strings.Contains(stderr, "bad.mmdb") {
		t.Errorf("bad mmdb: exit %d, stderr %q", code, stderr)
	}
}
