package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/whodunit-project/whodunit/internal/geo"
)

// writeTgz packs files the way `npm pack` does (under package/).
func writeTgz(t *testing.T, name, version, license string, files map[string]string) string {
	t.Helper()
	manifest, _ := json.Marshal(map[string]string{"name": name, "version": version, "license": license})
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	add := func(n, body string) {
		if err := tw.WriteHeader(&tar.Header{Name: "package/" + n, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	add("package.json", string(manifest))
	for n, body := range files {
		add(n, body)
	}
	tw.Close()
	zw.Close()
	p := filepath.Join(t.TempDir(), filepath.Base(name)+".tgz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func fixtures(t *testing.T) (country, registry, asn string) {
	country = writeTgz(t, "@ip-location-db/geo-whois-asn-country", "9.9.9", "CC0-1.0", map[string]string{
		"geo-whois-asn-country-ipv4.csv": "1.0.0.0,1.0.0.255,AU\n" +
			"2.58.196.0,2.58.197.255,DE\n2.58.197.15,2.58.197.15,BE\n" + // nested geofeed entry
			"43.249.44.0,43.249.44.255,AU\n", // IPv4 AU over a JP holder: kept
		"geo-whois-asn-country-ipv6.csv": "2001:200::,2001:218:2000:51:ffff:ffff:ffff:ffff,AU\n" +
			"2001:218:2000:52::,2001:218:2000:52:ffff:ffff:ffff:ffff,JP\n" +
			"2406:da00::,2406:da00:ffff:ffff:ffff:ffff:ffff:ffff,AU\n", // AU over a US holder: kept
		"NRO_LICENSE": "NRO licence text",
	})
	registry = writeTgz(t, "@ip-location-db/asn-country", "9.9.9", "CC0-1.0", map[string]string{
		"asn-country-ipv4.csv": "43.249.44.0,43.249.44.255,JP\n9.0.0.0,9.255.255.255,US\n",
		"asn-country-ipv6.csv": "2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,JP\n2406:da00::,2406:da00:ffff:ffff:ffff:ffff:ffff:ffff,US\n",
	})
	asn = writeTgz(t, "@ip-location-db/asn", "9.9.9", "SEE LICENSE IN ROUTEVIEWS-LICENSE and DBIP-LICENSE (CC-BY-4.0)", map[string]string{
		"asn-ipv4.csv": "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n1.0.1.0,1.0.1.255,0,Nobody\n" +
			"214.95.0.0,215.0.255.255,749,DoD\n215.0.0.0,215.1.3.255,721,DoD NIC\n",
		"asn-ipv6.csv":       "2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,2500,WIDE Project\n",
		"DBIP-LICENSE":       "DB-IP licence text",
		"ROUTEVIEWS-LICENSE": "RouteViews licence text",
	})
	return
}

func TestRun(t *testing.T) {
	country, registry, asn := fixtures(t)
	dir := t.TempDir()
	out, notice := filepath.Join(dir, "geo.bin.gz"), filepath.Join(dir, "NOTICE")
	if err := run(country, registry, asn, out, notice); err != nil {
		t.Fatal(err)
	}
	gz, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	db, err := geo.Parse(gz)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ip   string
		want geo.Info
		ok   bool
	}{
		{"1.0.0.1", geo.Info{Country: "AU", CountryName: "Australia", ASN: 13335, ASOrg: "Cloudflare, Inc."}, true},
		{"1.0.1.1", geo.Info{}, false}, // AS0 dropped, no country
		{"2.58.197.14", geo.Info{Country: "DE", CountryName: "Germany"}, true},
		{"2.58.197.15", geo.Info{Country: "BE", CountryName: "Belgium"}, true},
		{"2.58.197.16", geo.Info{Country: "DE", CountryName: "Germany"}, true},
		{"43.249.44.1", geo.Info{Country: "AU", CountryName: "Australia"}, true},
		{"9.1.2.3", geo.Info{Country: "US", CountryName: "United States"}, true}, // gap filled from the registry
		{"215.0.0.1", geo.Info{ASN: 721, ASOrg: "DoD NIC"}, true},
		{"214.95.0.1", geo.Info{ASN: 749, ASOrg: "DoD"}, true},
		{"2001:200::1", geo.Info{Country: "JP", CountryName: "Japan", ASN: 2500, ASOrg: "WIDE Project"}, true}, // NIR correction
		{"2001:201::1", geo.Info{Country: "AU", CountryName: "Australia"}, true},                               // registry silent: kept
		{"2001:218:2000:52::1", geo.Info{Country: "JP", CountryName: "Japan"}, true},
		{"2406:da00::1", geo.Info{Country: "AU", CountryName: "Australia"}, true},
	}
	for _, tt := range tests {
		got, ok := db.Lookup(netip.MustParseAddr(tt.ip))
		if ok {
			tt.want.Source = "ip-location-db 9.9.9"
		}
		if diff := cmp.Diff(tt.want, got); diff != "" || ok != tt.ok {
			t.Errorf("Lookup(%s) ok=%v (-want +got)\n%s", tt.ip, ok, diff)
		}
	}
	n, err := os.ReadFile(notice)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"@ip-location-db/geo-whois-asn-country 9.9.9", "@ip-location-db/asn-country 9.9.9", "@ip-location-db/asn 9.9.9", "NRO licence text", "DB-IP licence text", "RouteViews licence text"} {
		if !strings.Contains(string(n), want) {
			t.Errorf("NOTICE lacks %q", want)
		}
	}
	// The same input gives the same bytes.
	out2 := filepath.Join(dir, "again.bin.gz")
	if err := run(country, registry, asn, out2, notice); err != nil {
		t.Fatal(err)
	}
	gz2, _ := os.ReadFile(out2)
	if !bytes.Equal(gz, gz2) {
		t.Error("output differs between two runs on the same input")
	}
}

func TestRefusesLicences(t *testing.T) {
	for _, tt := range []struct{ name, license, want string }{
		{"@ip-location-db/geolite2-country", "CC-BY-SA-4.0", "GeoLite2"},
		{"@ip-location-db/x", "SEE LICENSE IN GEOLITE2-LICENSE", "GeoLite2"},
		{"@ip-location-db/y", "UNLICENSED", "not CC0-1.0"},
	} {
		p := writeTgz(t, tt.name, "1", tt.license, nil)
		if _, err := readPackage(p); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("readPackage(%s, %s) error = %v, want %q", tt.name, tt.license, err, tt.want)
		}
	}
}

func TestBadInput(t *testing.T) {
	_, registry, asn := fixtures(t)
	tests := []struct {
		name, csv4, want string
	}{
		{"bad address", "1.0.0.0,1.0.0.255,AU\n1.0.0.x,1.0.1.0,AU\n", "geo-whois-asn-country-ipv4.csv:2"},
		{"inverted", "1.0.0.9,1.0.0.1,AU\n", "geo-whois-asn-country-ipv4.csv:1: bad range"},
		{"IPv6 in the IPv4 file", "2001::,2001::1,AU\n", "bad range"},
		{"bad code", "1.0.0.0,1.0.0.255,Australia\n", "not two letters"},
		{"wrong field count", "1.0.0.0,1.0.0.255\n", "wrong number of fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			country := writeTgz(t, "@ip-location-db/geo-whois-asn-country", "1", "CC0-1.0", map[string]string{
				"geo-whois-asn-country-ipv4.csv": tt.csv4,
				"geo-whois-asn-country-ipv6.csv": "",
			})
			dir := t.TempDir()
			err := run(country, registry, asn, filepath.Join(dir, "o"), filepath.Join(dir, "n"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	missing := writeTgz(t, "@ip-location-db/geo-whois-asn-country", "1", "CC0-1.0", nil)
	if err := run(missing, registry, asn, filepath.Join(t.TempDir(), "o"), filepath.Join(t.TempDir(), "n")); err == nil || !strings.Contains(err.Error(), "no geo-whois-asn-country-ipv4.csv") {
		t.Errorf("missing CSV: %v", err)
	}
	notTgz := filepath.Join(t.TempDir(), "x.tgz")
	os.WriteFile(notTgz, []byte("plain"), 0o644)
	if _, err := readPackage(notTgz); err == nil || !strings.Contains(err.Error(), "x.tgz") {
		t.Errorf("not a tarball: %v", err)
	}
}
