package geo_test

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/whodunit-project/whodunit/internal/geo"
)

type mmdbEntry struct {
	cidr string
	data mmdbtype.Map
}

// writeMMDB builds a small MaxMind-format database in a temporary file.
func writeMMDB(t testing.TB, dbType string, ipVersion int, entries []mmdbEntry) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            dbType,
		IPVersion:               ipVersion,
		RecordSize:              24,
		IncludeReservedNetworks: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		_, n, err := net.ParseCIDR(e.cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(n, e.data); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(t.TempDir(), dbType+".mmdb")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func names(en string) mmdbtype.Map {
	return mmdbtype.Map{"en": mmdbtype.String(en), "de": mmdbtype.String("x-" + en)}
}

// cityDB follows the GeoIP2 / GeoLite2 / DB-IP City schema.
func cityDB(t testing.TB) string {
	return writeMMDB(t, "Test-City", 6, []mmdbEntry{
		{"81.2.69.0/24", mmdbtype.Map{
			"city":               mmdbtype.Map{"geoname_id": mmdbtype.Uint32(2643743), "names": names("London")},
			"country":            mmdbtype.Map{"iso_code": mmdbtype.String("GB"), "geoname_id": mmdbtype.Uint32(2635167), "names": names("United Kingdom of GB")},
			"registered_country": mmdbtype.Map{"iso_code": mmdbtype.String("US")},
			"location":           mmdbtype.Map{"latitude": mmdbtype.Float64(51.5), "longitude": mmdbtype.Float64(-0.09)},
			"subdivisions":       mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String("ENG")}},
		}},
		// Anycast: only the registered country is known.
		{"175.16.199.0/24", mmdbtype.Map{"registered_country": mmdbtype.Map{"iso_code": mmdbtype.String("CN"), "names": names("China")}}},
		{"2a02:ff0::/32", mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String("DE")}}},
		// A code our table does not know keeps the database's name.
		{"5.5.5.0/24", mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String("QZ"), "names": names("Test Land")}}},
	})
}

// asnDB follows the GeoLite2 / DB-IP ASN schema.
func asnDB(t testing.TB) string {
	return writeMMDB(t, "Test-ASN", 6, []mmdbEntry{
		{"81.2.64.0/19", mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(20712), "autonomous_system_organization": mmdbtype.String("Andrews & Arnold Ltd")}},
		{"2a02:ff0::/32", mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(64500), "autonomous_system_organization": mmdbtype.String("Example AS")}},
		{"9.9.9.0/24", mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(19281), "autonomous_system_organization": mmdbtype.String("Quad9")}},
	})
}

func TestMMDBCityAndASN(t *testing.T) {
	m, err := geo.OpenMMDB(cityDB(t), asnDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if diff := cmp.Diff([]string{"Test-City", "Test-ASN"}, m.Types()); diff != "" {
		t.Errorf("Types (-want +got)\n%s", diff)
	}
	tests := []struct {
		ip   string
		want geo.Info
		ok   bool
	}{
		{"81.2.69.160", geo.Info{Country: "GB", CountryName: "United Kingdom", ASN: 20712, ASOrg: "Andrews & Arnold Ltd", Source: "Test-City+Test-ASN"}, true},
		{"::ffff:81.2.69.160", geo.Info{Country: "GB", CountryName: "United Kingdom", ASN: 20712, ASOrg: "Andrews & Arnold Ltd", Source: "Test-City+Test-ASN"}, true},
		{"81.2.70.1", geo.Info{ASN: 20712, ASOrg: "Andrews & Arnold Ltd", Source: "Test-ASN"}, true},
		{"175.16.199.9", geo.Info{Country: "CN", CountryName: "China", Source: "Test-City"}, true},
		{"2a02:ff0::1", geo.Info{Country: "DE", CountryName: "Germany", ASN: 64500, ASOrg: "Example AS", Source: "Test-City+Test-ASN"}, true},
		{"5.5.5.5", geo.Info{Country: "QZ", CountryName: "Test Land", Source: "Test-City"}, true},
		{"9.9.9.9", geo.Info{ASN: 19281, ASOrg: "Quad9", Source: "Test-ASN"}, true},
		{"192.168.1.1", geo.Info{Reserved: "private (RFC 1918)", Source: geo.ReservedSource}, true},
		{"8.8.8.8", geo.Info{}, false},
		{"2600::1", geo.Info{}, false},
	}
	for _, tt := range tests {
		got, ok := m.Lookup(netip.MustParseAddr(tt.ip))
		if diff := cmp.Diff(tt.want, got); diff != "" || ok != tt.ok {
			t.Errorf("Lookup(%s) ok=%v (-want +got)\n%s", tt.ip, ok, diff)
		}
	}
	if err := m.Err(); err != nil {
		t.Errorf("Err = %v", err)
	}
}

// The flat schemas of ip-location-db (country_code) and IPinfo (country as
// a name, asn as "AS…", as_name), in an IPv4-only file.
func TestMMDBFlatSchemas(t *testing.T) {
	p := writeMMDB(t, "flat", 4, []mmdbEntry{
		{"1.0.16.0/24", mmdbtype.Map{"country_code": mmdbtype.String("jp")}},
		{"1.0.64.0/18", mmdbtype.Map{"country": mmdbtype.String("Japan"), "country_code": mmdbtype.String("JP"), "asn": mmdbtype.String("AS18144"), "as_name": mmdbtype.String("Enecom,Inc.")}},
		{"1.1.1.0/24", mmdbtype.Map{"asn": mmdbtype.Uint32(13335), "as_org": mmdbtype.String("Cloudflare")}},
		{"1.2.3.0/24", mmdbtype.Map{"country_code": mmdbtype.String("not a code"), "asn": mmdbtype.String("ASx")}},
	})
	m, err := geo.OpenMMDB(p)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tests := []struct {
		ip   string
		want geo.Info
		ok   bool
	}{
		{"1.0.16.1", geo.Info{Country: "JP", CountryName: "Japan", Source: "flat"}, true},
		{"1.0.64.1", geo.Info{Country: "JP", CountryName: "Japan", ASN: 18144, ASOrg: "Enecom,Inc.", Source: "flat"}, true},
		{"1.1.1.1", geo.Info{ASN: 13335, ASOrg: "Cloudflare", Source: "flat"}, true},
		{"1.2.3.4", geo.Info{}, false},
		{"2a02:ff0::1", geo.Info{}, false}, // IPv6 in an IPv4-only file: not known, not an error
	}
	for _, tt := range tests {
		got, ok := m.Lookup(netip.MustParseAddr(tt.ip))
		if diff := cmp.Diff(tt.want, got); diff != "" || ok != tt.ok {
			t.Errorf("Lookup(%s) ok=%v (-want +got)\n%s", tt.ip, ok, diff)
		}
	}
	if err := m.Err(); err != nil {
		t.Errorf("Err = %v", err)
	}
}

func TestOpenMMDBErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.mmdb")
	os.WriteFile(garbage, []byte("this is not a MaxMind database"), 0o644)
	empty := filepath.Join(dir, "empty.mmdb")
	os.WriteFile(empty, nil, 0o644)
	tests := []struct {
		name  string
		paths []string
		want  string
	}{
		{"none", nil, "no MaxMind database"},
		{"missing", []string{filepath.Join(dir, "missing.mmdb")}, "missing.mmdb"},
		{"garbage", []string{garbage}, "garbage.mmdb"},
		{"empty", []string{empty}, "empty.mmdb"},
		{"second bad", []string{asnDB(t), garbage}, "garbage.mmdb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := geo.OpenMMDB(tt.paths...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				if m != nil {
					m.Close()
				}
				t.Fatalf("OpenMMDB error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// Corrupting any byte of a database must give an open error, a lookup
// error (Err) or a wrong answer, never a panic.
func TestMMDBCorruptNeverPanics(t *testing.T) {
	good, err := os.ReadFile(cityDB(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	addrs := []netip.Addr{netip.MustParseAddr("81.2.69.160"), netip.MustParseAddr("175.16.199.9"), netip.MustParseAddr("2a02:ff0::1"), netip.MustParseAddr("5.5.5.5")}
	for i := 0; i < len(good); i += 3 {
		b := append([]byte(nil), good...)
		b[i] ^= 0xa5
		p := filepath.Join(dir, "c.mmdb")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := geo.OpenMMDB(p)
		if err != nil {
			continue
		}
		for _, a := range addrs {
			m.Lookup(a)
		}
		m.Close()
	}
}
