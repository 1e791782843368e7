package behavior_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/geo"
	"github.com/whodunit-project/whodunit/internal/geo/geobin"
)

// TestVendorListsParse: the embedded lists load, and names below a listed
// vendor host are on "whodunit vendor services" while look-alikes are not.
func TestVendorListsParse(t *testing.T) {
	svc, err := behavior.VendorServices()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		want bool
	}{
		{"epns.eset.com", true},
		{"client.wns.windows.com", true},
		{"kv601.prod.do.dsp.mp.microsoft.com", true},
		{"1-courier.push.apple.com", true},
		{"mtalk.google.com", true},
		{"eset.com.attacker.example", false},
		{"notwindowsupdate.com", false},
		{"microsoft.com", false}, // only the listed services, not the whole domain
	} {
		l, ok := svc.Benign(netip.Addr{}, tt.name)
		if ok != tt.want || ok && l != "whodunit vendor services" {
			t.Errorf("%s: on %q %v, want %v", tt.name, l, ok, tt.want)
		}
	}
	nets, err := behavior.VendorNetworks()
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string]int{}
	for _, n := range nets {
		groups[n.Group]++
	}
	if groups["security vendor"] == 0 || groups["software vendor"] == 0 || groups["cloud hosting"] == 0 || len(groups) != 3 {
		t.Errorf("groups %v", groups)
	}
}

// TestVendorNetworksMatchGeo keeps the list honest: every autonomous system
// it names belongs, in the embedded geo data, to the organisation the list
// says.
func TestVendorNetworksMatchGeo(t *testing.T) {
	nets, err := behavior.VendorNetworks()
	if err != nil {
		t.Fatal(err)
	}
	// the embedded geo database's table of autonomous systems
	gz, err := os.ReadFile(filepath.Join("..", "geo", "data", "geo.bin.gz"))
	if err != nil {
		t.Skip("geo data not present:", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	data, err := geobin.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	orgs := map[uint32]string{}
	for _, as := range data.ASes {
		orgs[as.Number] = as.Org
	}
	for _, n := range nets {
		if got := orgs[n.ASN]; got != n.Org {
			t.Errorf("AS%d: list says %q, geo data %q", n.ASN, n.Org, got)
		}
	}
}

// fakeLocator answers from a map.
type fakeLocator map[netip.Addr]geo.Info

func (f fakeLocator) Lookup(a netip.Addr) (geo.Info, bool) {
	i, ok := f[a]
	return i, ok
}

// TestVendorNetworkRules: a beacon into a security vendor's network is
// lowered ×0.3, into a software vendor's ×0.6, into a cloud ×0.8, each with
// the AS in the reason; an unlisted AS is only named in the facts. The AS
// is stored in the finding, so Reapply without a database keeps the
// verdict, and a Locator given to Reapply fills findings stored without it.
func TestVendorNetworkRules(t *testing.T) {
	sec, soft, cloud, other := extAddr(30), extAddr(31), extAddr(32), extAddr(33)
	cfg := behavior.DefaultConfig()
	cfg.Locator = fakeLocator{
		sec:   {ASN: 50881, ASOrg: "ESET, spol. s r.o.", Country: "SK"},
		soft:  {ASN: 8075, ASOrg: "Microsoft Corporation", Country: "US"},
		cloud: {ASN: 14061, ASOrg: "DigitalOcean, LLC", Country: "US"},
		other: {ASN: 64500, ASOrg: "Example Transit", Country: "NL"},
	}
	var flows []flow
	for _, d := range []netip.Addr{sec, soft, cloud, other} {
		flows = append(flows, beaconTo(d, "")...)
	}
	ds := run(cfg, nil, flows)
	for _, tt := range []struct {
		dst    netip.Addr
		factor float64
		reason string
	}{
		{sec, 0.3, sec.String() + " (AS50881 ESET, spol. s r.o.) on whodunit vendor networks: security vendor: network of a security vendor"},
		{soft, 0.6, soft.String() + " (AS8075 Microsoft Corporation) on whodunit vendor networks: software vendor: network of a large software vendor"},
		{cloud, 0.8, cloud.String() + " (AS14061 DigitalOcean, LLC) on whodunit vendor networks: cloud hosting: shared cloud"},
		{other, 1, ""},
	} {
		d, ok := find(ds, behavior.Beacon, hostAddr(1), tt.dst)
		if !ok {
			t.Fatalf("%s: beacon missing", tt.dst)
		}
		if d.DstASN == 0 || !hasFact(d, "destination in AS") {
			t.Errorf("%s: AS not recorded: %d %v", tt.dst, d.DstASN, d.Facts)
		}
		if tt.factor == 1 {
			if len(d.Modifiers) != 0 || d.Score != d.RawScore {
				t.Errorf("%s: unlisted AS changed the score: %s", tt.dst, explain(d))
			}
			continue
		}
		if len(d.Modifiers) != 1 || d.Modifiers[0].Name != "network" || d.Modifiers[0].Factor != tt.factor ||
			!strings.HasPrefix(d.Modifiers[0].Reason, tt.reason) {
			t.Errorf("%s: modifiers %+v, want ×%v %q…", tt.dst, d.Modifiers, tt.factor, tt.reason)
		}
	}

	// stored findings keep their AS: Reapply without a Locator agrees
	plain := behavior.DefaultConfig()
	if diff := cmp.Diff(ds, behavior.Reapply(ds, nil, plain), addrCmp); diff != "" {
		t.Errorf("Reapply without a Locator changed the findings (-want +got):\n%s", diff)
	}
	// findings made without a Locator get their AS from Reapply's
	bare := run(plain, nil, beaconTo(sec, ""))
	re := behavior.Reapply(bare, nil, cfg)
	d, _ := find(re, behavior.Beacon, hostAddr(1), sec)
	if d.DstASN != 50881 || len(d.Modifiers) != 1 || d.Modifiers[0].Factor != 0.3 {
		t.Errorf("Reapply with a Locator: %s", explain(d))
	}
}

// TestVendorServicesByDefault: the project's list lowers a named vendor
// service with no other list given.
func TestVendorServicesByDefault(t *testing.T) {
	cfg := behavior.DefaultConfig()
	ds := run(cfg, nil, beaconTo(extAddr(40), "epns.eset.com"))
	d, ok := find(ds, behavior.Beacon, hostAddr(1), extAddr(40))
	if !ok || cfg.Detected(d) || len(d.Modifiers) != 1 || !strings.Contains(d.Modifiers[0].Reason, "epns.eset.com on whodunit vendor services") {
		t.Errorf("vendor service not lowered by the project list: %s", explain(d))
	}
	cfg.VendorServices = nil
	ds = run(cfg, nil, beaconTo(extAddr(40), "epns.eset.com"))
	if d, _ := find(ds, behavior.Beacon, hostAddr(1), extAddr(40)); !cfg.Detected(d) {
		t.Errorf("without the list the beacon should be detected: %s", explain(d))
	}
}

func hasFact(d behavior.Detection, prefix string) bool {
	for _, f := range d.Facts {
		if strings.HasPrefix(f, prefix) {
			return true
		}
	}
	return false
}
