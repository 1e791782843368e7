package behavior

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"net/netip"
	"sync"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/warninglist"
)

// The project's own known-benign data (see lists/README.md): a MISP
// warninglist of vendor update, telemetry and push hosts, and the
// autonomous systems of security vendors, large software vendors and clouds.
//
//go:embed lists/vendor-services.json lists/vendor-networks.json
var listFS embed.FS

// VendorNetwork is one autonomous system of the vendor-network list.
type VendorNetwork struct {
	ASN   uint32 `json:"asn"`
	Org   string `json:"org"`   // the organisation as the AS registry names it
	Group string `json:"group"` // "security vendor", "software vendor", "cloud hosting"
}

// NetworkListName prefixes the list name of a vendor-network match; the
// group follows ("whodunit vendor networks: security vendor"), so that
// BenignRules can give each group its factor.
const NetworkListName = "whodunit vendor networks"

type networkFile struct {
	Name        string            `json:"name"`
	Version     int               `json:"version"`
	Description string            `json:"description"`
	Groups      map[string]string `json:"groups"`
	Networks    []VendorNetwork   `json:"networks"`
}

var vendorData struct {
	once     sync.Once
	services Benign
	networks []VendorNetwork
	err      error
}

func loadVendorData() {
	vendorData.once.Do(func() {
		vendorData.services, vendorData.err = parseServiceList("lists/vendor-services.json")
		if vendorData.err != nil {
			return
		}
		vendorData.networks, vendorData.err = parseNetworkList("lists/vendor-networks.json")
	})
}

// VendorServices returns the embedded warninglist of vendor update,
// telemetry and push hosts ("whodunit vendor services"), parsed once.
func VendorServices() (Benign, error) {
	loadVendorData()
	return vendorData.services, vendorData.err
}

// VendorNetworks returns the embedded list of vendor and cloud autonomous
// systems, parsed once. The slice is shared: do not modify it.
func VendorNetworks() ([]VendorNetwork, error) {
	loadVendorData()
	return vendorData.networks, vendorData.err
}

// mustVendorData is for DefaultConfig: the embedded files are checked by
// the tests, so a failure here is a broken build, not bad input.
func mustVendorData() (Benign, []VendorNetwork) {
	loadVendorData()
	if vendorData.err != nil {
		panic("behavior: embedded vendor lists: " + vendorData.err.Error())
	}
	return vendorData.services, vendorData.networks
}

type listSink struct{ lists []*intel.Warninglist }

func (s *listSink) Put(context.Context, *intel.Object) error { return nil }
func (s *listSink) PutWarninglist(_ context.Context, w *intel.Warninglist) error {
	s.lists = append(s.lists, w)
	return nil
}

func parseServiceList(name string) (Benign, error) {
	data, err := listFS.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var sink listSink
	st, err := warninglist.Importer{}.Import(context.Background(), bytes.NewReader(data), name, intel.DefaultOptions(), &sink)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(st.Errors) > 0 || st.Skipped > 0 || len(sink.lists) != 1 {
		return nil, fmt.Errorf("%s: %d bad entries, %d lists", name, len(st.Errors)+st.Skipped, len(sink.lists))
	}
	set, skipped, err := warninglist.NewSet(sink.lists)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(skipped) > 0 {
		return nil, fmt.Errorf("%s: %v", name, skipped[0])
	}
	return warninglistSet{set}, nil
}

func parseNetworkList(name string) ([]VendorNetwork, error) {
	data, err := listFS.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return decodeNetworkList(data, name)
}

// decodeNetworkList reads the vendor-network format (see lists/README.md).
func decodeNetworkList(data []byte, name string) ([]VendorNetwork, error) {
	var f networkFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	seen := map[uint32]bool{}
	for i, n := range f.Networks {
		if n.ASN == 0 || n.Org == "" || f.Groups[n.Group] == "" || seen[n.ASN] {
			return nil, fmt.Errorf("%s: network %d (AS%d): needs a unique asn, an org and a known group", name, i, n.ASN)
		}
		seen[n.ASN] = true
	}
	return f.Networks, nil
}

// warninglistSet adapts a compiled warninglist set to Benign and
// MultiBenign.
type warninglistSet struct{ set *warninglist.Set }

func (w warninglistSet) Benign(ip netip.Addr, name string) (string, bool) {
	if l := w.BenignLists(ip, name); len(l) > 0 {
		return l[0], true
	}
	return "", false
}

func (w warninglistSet) BenignLists(ip netip.Addr, name string) []string {
	if ip.IsValid() {
		ip = ip.Unmap()
		t := intel.IPv4
		if ip.Is6() {
			t = intel.IPv6
		}
		return w.set.Check(t, ip.String())
	}
	if name == "" {
		return nil
	}
	return w.set.Check(intel.Domain, name)
}

// vendorNetwork returns the list entry of an autonomous system.
func vendorNetwork(nets []VendorNetwork, asn uint32) (VendorNetwork, bool) {
	if asn == 0 {
		return VendorNetwork{}, false
	}
	for _, n := range nets {
		if n.ASN == asn {
			return n, true
		}
	}
	return VendorNetwork{}, false
}
