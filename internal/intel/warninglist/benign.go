package warninglist

import (
	"net/netip"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// Benign lets the behaviour analytics ask a compiled set whether an
// address or name is known-benign or shared infrastructure. It implements
// behavior.Benign and behavior.MultiBenign; a nil Set knows nothing.
type Benign struct{ Set *Set }

// Benign names the first list holding ip (when valid) or name.
func (b Benign) Benign(ip netip.Addr, name string) (string, bool) {
	lists := b.BenignLists(ip, name)
	if len(lists) == 0 {
		return "", false
	}
	return lists[0], true
}

// BenignLists names every list holding ip (when valid) or else name.
func (b Benign) BenignLists(ip netip.Addr, name string) []string {
	if b.Set == nil {
		return nil
	}
	if ip.IsValid() {
		ip = ip.Unmap()
		t := intel.IPv4
		if ip.Is6() {
			t = intel.IPv6
		}
		return b.Set.Check(t, ip.String())
	}
	if name != "" {
		return b.Set.Check(intel.Domain, name)
	}
	return nil
}
