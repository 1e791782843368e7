package misp_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/misp"
)

func galaxyFile(t testing.TB) string {
	p := filepath.Join("..", "..", "..", "..", "shared", "data", "intel", "misp-galaxy", "threat-actor.json")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	return p
}

func TestRealThreatActorGalaxy(t *testing.T) {
	path := galaxyFile(t)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, _ := f.Read(head)
	if !(misp.GalaxyImporter{}).Sniff(head[:n], path) || (misp.Importer{}).Sniff(head[:n], path) {
		t.Error("galaxy file not sniffed as misp-galaxy only")
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	var c intel.Collector
	st, err := misp.GalaxyImporter{}.Import(context.Background(), f, path, intel.DefaultOptions(), &c)
	if err != nil {
		t.Fatal(err)
	}
	if st.Objects[intel.TypeIntrusionSet] != 1041 || st.Skipped != 0 {
		t.Fatalf("stats %s, want 1041 intrusion sets and nothing skipped", st.String())
	}
	byName := map[string]*intel.Object{}
	for _, o := range c.Objects {
		if o.Type == intel.TypeIntrusionSet {
			byName[o.Name] = o
		}
	}
	apt1 := byName["APT1"]
	if apt1 == nil {
		t.Fatal("no APT1")
	}
	if apt1.ID != "intrusion-set--1cb7e1cc-d695-42b1-92f4-fd0112a3c9be" {
		t.Errorf("APT1 id %s is not the cluster uuid", apt1.ID)
	}
	if apt1.Actor.Country != "CN" || apt1.Actor.StateSponsor != "China" {
		t.Errorf("APT1 country %q sponsor %q", apt1.Actor.Country, apt1.Actor.StateSponsor)
	}
	for _, alias := range []string{"Comment Crew", "PLA Unit 61398", "COMMENT PANDA", "Byzantine Candor"} {
		found := false
		for _, a := range apt1.Aliases {
			found = found || a == alias
		}
		if !found {
			t.Errorf("APT1 aliases %q lack %q", apt1.Aliases, alias)
		}
	}
	for _, a := range apt1.Aliases {
		if a == "G0006" {
			t.Error("the ATT&CK id G0006 is an alias; want it as an external reference only")
		}
	}
	if apt1.AttackID() != "G0006" {
		t.Errorf("APT1 ATT&CK id %q", apt1.AttackID())
	}
	if diff := cmp.Diff([]string{"Private sector", "Government"}, apt1.Actor.TargetSectors); diff != "" {
		t.Errorf("APT1 sectors (-want +got):\n%s", diff)
	}
	if len(apt1.Actor.Victims) != 15 || apt1.Actor.Victims[0] != "United States" {
		t.Errorf("APT1 victims %q", apt1.Actor.Victims)
	}
	apt28 := byName["APT28"]
	if apt28 == nil || apt28.Actor.Country != "RU" || apt28.AttackID() != "G0007" {
		t.Fatalf("APT28 = %+v", apt28)
	}
	// APT17 states two ATT&CK groups (G0025 and, through Axiom, G0001).
	var ids []string
	for _, r := range byName["APT17"].ExternalRefs {
		if r.SourceName == "mitre-attack" {
			ids = append(ids, r.ExternalID)
		}
	}
	if diff := cmp.Diff([]string{"G0001", "G0025"}, ids); diff != "" {
		t.Errorf("APT17 ATT&CK refs (-want +got):\n%s", diff)
	}
	// An actor without a stated ATT&CK id gets none.
	for _, o := range byName {
		if o.AttackID() != "" && !containsAttack(o) {
			t.Errorf("%s has ATT&CK id %s that the cluster does not state", o.Name, o.AttackID())
		}
	}
	t.Logf("%s", st.String())
}

// containsAttack reports whether the raw cluster names its ATT&CK id.
func containsAttack(o *intel.Object) bool {
	id := o.AttackID()
	raw := string(o.Raw)
	return len(id) == 5 && (strings.Contains(raw, `"`+id+`"`) || strings.Contains(raw, "groups/"+id) || strings.Contains(raw, `"`+id+":"))
}
