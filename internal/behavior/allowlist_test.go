package behavior_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/behavior"
)

func TestAllowlistParse(t *testing.T) {
	const text = `# site allowlist
203.0.113.7              # backup server
198.51.100.0/24
*.Updates.Example.com.   # vendor updates
2001:db8::/32
10.1.2.3 -> 192.0.2.10   # monitoring probe
10.1.2.0/24 -> backup.example.net
10.9.9.9 -> *            # vulnerability scanner
`
	a, err := behavior.ParseAllowlist(strings.NewReader(text), "site.allow")
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 7 {
		t.Errorf("Len = %d, want 7", a.Len())
	}
	tests := []struct {
		name     string
		src, dst string
		host     string
		want     string // "" = no match
	}{
		{"address", "", "203.0.113.7", "", "allowlist site.allow:2 (backup server)"},
		{"network", "", "198.51.100.99", "", "allowlist site.allow:3"},
		{"v4-mapped", "", "::ffff:198.51.100.1", "", "allowlist site.allow:3"},
		{"outside", "", "198.51.101.1", "", ""},
		{"domain itself", "", "", "updates.example.com", "allowlist site.allow:4 (vendor updates)"},
		{"subdomain", "", "", "eu.cdn.UPDATES.example.com.", "allowlist site.allow:4 (vendor updates)"},
		{"parent not covered", "", "", "example.com", ""},
		{"suffix trick", "", "", "evilupdates.example.com", ""},
		{"v6 network", "", "2001:db8:1::5", "", "allowlist site.allow:5"},
		{"pair needs source", "", "192.0.2.10", "", ""},
		{"pair", "10.1.2.3", "192.0.2.10", "", "allowlist site.allow:6 (monitoring probe)"},
		{"pair wrong source", "10.1.2.4", "192.0.2.10", "", ""},
		{"pair by name", "10.1.2.77", "", "db.backup.example.net", "allowlist site.allow:7"},
		{"source wildcard", "10.9.9.9", "8.8.4.4", "", "allowlist site.allow:8 (vulnerability scanner)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dst, src netip.Addr
			if tt.dst != "" {
				dst = netip.MustParseAddr(tt.dst)
			}
			var got string
			if tt.src != "" {
				src = netip.MustParseAddr(tt.src)
				got, _ = a.BenignPair(src, dst, tt.host)
			} else {
				got, _ = a.Benign(dst, tt.host)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAllowlistErrors(t *testing.T) {
	tests := []struct {
		text, want string
	}{
		{"ok.example.com\n300.1.2.3\n", "site.allow:2: destination \"300.1.2.3\""},
		{"10.0.0.0/33\n", "site.allow:1: destination \"10.0.0.0/33\""},
		{"bad_host!.com\n", "site.allow:1: destination \"bad_host!.com\": character '!'"},
		{"a..b.com\n", "site.allow:1: destination \"a..b.com\": empty or over-long label"},
		{"1.2.3.4 5.6.7.8\n", "site.allow:1: \"1.2.3.4 5.6.7.8\": one destination per line"},
		{"nonsense -> 1.2.3.4\n", "site.allow:1: source \"nonsense\""},
		{"\n\n" + strings.Repeat("a", 5000) + ".com\n", "site.allow:3: line longer than 4096 bytes"},
	}
	for _, tt := range tests {
		_, err := behavior.ParseAllowlist(strings.NewReader(tt.text), "site.allow")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want it to contain %q", tt.text[:min(len(tt.text), 30)], err, tt.want)
		}
	}
}

func TestLoadAllowlist(t *testing.T) {
	p := filepath.Join(t.TempDir(), "site.allow")
	if err := os.WriteFile(p, []byte("192.0.2.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := behavior.LoadAllowlist(p)
	if err != nil || a.Len() != 1 {
		t.Fatalf("LoadAllowlist: %v, %v", a, err)
	}
	if _, err := behavior.LoadAllowlist(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing file: no error")
	}
}

func FuzzParseAllowlist(f *testing.F) {
	for _, s := range []string{
		"203.0.113.7 # x\n198.51.100.0/24\n",
		"*.updates.example.com.\n",
		"10.1.2.3 -> 192.0.2.10\n10.9.9.9 -> *\n",
		"10.0.0.0/8 -> backup.example.net # b\n",
		"::1\nfe80::1%eth0\n2001:db8::/129\n",
		"-> \n->->\n#\n\t\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := behavior.ParseAllowlist(strings.NewReader(s), "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "allowlist fuzz:") {
				t.Fatalf("error without file and line: %v", err)
			}
			return
		}
		// lookups never panic
		a.Benign(netip.MustParseAddr("192.0.2.1"), "")
		a.Benign(netip.Addr{}, "a.b.example.com")
		a.BenignPair(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("192.0.2.1"), "x.example.net")
	})
}
