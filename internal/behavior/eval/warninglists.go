package eval

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/warninglist"
)

// Warninglists adapts a compiled warninglist set to behavior.Benign (and
// MultiBenign, so every list holding a value is reported).
type Warninglists struct{ Set *warninglist.Set }

// Benign implements behavior.Benign.
func (w Warninglists) Benign(ip netip.Addr, name string) (string, bool) {
	if l := w.BenignLists(ip, name); len(l) > 0 {
		return l[0], true
	}
	return "", false
}

// BenignLists implements behavior.MultiBenign.
func (w Warninglists) BenignLists(ip netip.Addr, name string) []string {
	if w.Set == nil {
		return nil
	}
	if ip.IsValid() {
		ip = ip.Unmap()
		t := intel.IPv4
		if ip.Is6() {
			t = intel.IPv6
		}
		return w.Set.Check(t, ip.String())
	}
	if name == "" {
		return nil
	}
	return w.Set.Check(intel.Domain, name)
}

type collect struct{ lists []*intel.Warninglist }

func (c *collect) Put(context.Context, *intel.Object) error { return nil }
func (c *collect) PutWarninglist(_ context.Context, w *intel.Warninglist) error {
	c.lists = append(c.lists, w)
	return nil
}

// LoadWarninglists reads every lists/*/list.json under dir.
func LoadWarninglists(dir string) (Warninglists, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "lists", "*", "list.json"))
	if err != nil {
		return Warninglists{}, err
	}
	sort.Strings(paths)
	var c collect
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return Warninglists{}, err
		}
		_, err = warninglist.Importer{}.Import(context.Background(), f, p, intel.DefaultOptions(), &c)
		f.Close()
		if err != nil {
			return Warninglists{}, fmt.Errorf("warninglist %s: %w", p, err)
		}
	}
	set, _, err := warninglist.NewSet(c.lists)
	if err != nil {
		return Warninglists{}, err
	}
	return Warninglists{Set: set}, nil
}
