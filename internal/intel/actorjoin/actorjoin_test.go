package actorjoin

import (
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/intel"
)

func rec(id, name string, aliases []string, country string, ids ...string) *Names {
	n := &Names{ID: id, Country: country}
	n.Add(KindName, name)
	for _, a := range aliases {
		n.Add(KindAlias, a)
	}
	for _, x := range ids {
		n.Add(KindExternalID, x)
	}
	return n
}

// The records below carry the names, aliases, ids and countries that
// ATT&CK and the MISP galaxy give these groups.
var (
	attackAPT1      = rec("attack-apt1", "APT1", []string{"APT1", "Comment Crew", "Comment Group", "Comment Panda"}, "", "G0006")
	galaxyAPT1      = rec("galaxy-apt1", "APT1", []string{"COMMENT PANDA", "PLA Unit 61398", "Comment Crew", "Byzantine Candor", "G0006"}, "CN")
	galaxyComment   = rec("galaxy-cc", "Comment Crew", []string{"APT1", "PLA Unit 61398"}, "")
	labelComment    = rec("label-cc", "Comment Crew", nil, "")
	attackSandworm  = rec("attack-sandworm", "Sandworm Team", []string{"ELECTRUM", "Telebots", "IRIDIUM", "Voodoo Bear"}, "", "G0034")
	galaxyIridium   = rec("galaxy-iridium", "IRIDIUM", nil, "IR")
	galaxyAPT28     = rec("galaxy-apt28", "APT28", []string{"Fancy Bear", "Sofacy"}, "RU")
	otherFancy      = rec("other-fancy", "Fancy Bear", []string{"APT28"}, "CN")
	attackWinnti    = rec("attack-winnti", "Winnti Group", []string{"Blackfly"}, "", "G0044")
	attackAPT41     = rec("attack-apt41", "APT41", []string{"Wicked Panda", "Winnti"}, "", "G0096")
	groupOne        = rec("one", "Group One", []string{"Shadow"}, "")
	groupTwo        = rec("two", "Group Two", []string{"Shadow"}, "")
	lowerCaseDomain = rec("cn-lower", "Comment Crew", []string{"APT1"}, "cn")
)

func TestJoin(t *testing.T) {
	for _, tc := range []struct {
		name     string
		a, b     *Names
		rule     string // "" = not joined
		candName string // the shared name when not joined, "" = not a candidate either
	}{
		{"APT1 by ATT&CK id", attackAPT1, galaxyAPT1, RuleExternalID, ""},
		{"APT1 and Comment Crew name each other", attackAPT1, galaxyComment, RuleName, ""},
		{"a bare label joins the profile it names", labelComment, attackAPT1, RuleName, ""},
		{"a bare label joins, either order", attackAPT1, labelComment, RuleName, ""},
		{"galaxy IRIDIUM is not ATT&CK Sandworm Team", attackSandworm, galaxyIridium, "", "IRIDIUM"},
		{"different countries never join", galaxyAPT28, otherFancy, "", "APT28"},
		{"countries compare in any case", galaxyAPT1, lowerCaseDomain, RuleName, ""},
		{"different ATT&CK ids never join", attackWinnti, attackAPT41, "", ""},
		{"a shared secondary alias is a candidate", groupOne, groupTwo, "", "Shadow"},
		{"nothing shared", attackAPT1, attackSandworm, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rule, detail, ok := Join(tc.a, tc.b)
			if ok != (tc.rule != "") || rule != tc.rule {
				t.Fatalf("Join = %q %q %v, want rule %q", rule, detail, ok, tc.rule)
			}
			if ok && detail == "" {
				t.Error("a join without a detail")
			}
			r2, _, ok2 := Join(tc.b, tc.a)
			if ok2 != ok || r2 != rule {
				t.Errorf("Join is not symmetric: %q/%v the other way", r2, ok2)
			}
			name, cand := Candidate(tc.a, tc.b)
			if cand != (tc.candName != "") || NormName(name) != NormName(tc.candName) {
				t.Errorf("Candidate = %q %v, want %q", name, cand, tc.candName)
			}
		})
	}
}

func TestAddCountsGroupIDAliasAsExternalID(t *testing.T) {
	n := rec("x", "APT1", []string{"g0006"}, "")
	if _, ok := n.ExternalIDs["G0006"]; !ok || len(n.Aliases) != 0 {
		t.Errorf("alias G0006: ids %v aliases %v", n.ExternalIDs, n.Aliases)
	}
}

func TestNormName(t *testing.T) {
	for in, want := range map[string]string{"Comment Crew": "commentcrew", "comment-crew": "commentcrew", "APT 1": "apt1", "Ürümqi": "ürümqi", "": ""} {
		if got := NormName(in); got != want {
			t.Errorf("NormName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClusterAndCanonical(t *testing.T) {
	attack := &intel.Object{ID: "intrusion-set--a", Type: intel.TypeIntrusionSet, Name: "APT1",
		ExternalRefs: []intel.ExternalRef{{SourceName: "mitre-attack", ExternalID: "G0006"}}, CreatedBy: mitreIdentity}
	galaxy := &intel.Object{ID: "intrusion-set--0", Type: intel.TypeIntrusionSet, Name: "Comment Crew",
		Aliases: []string{"APT1", "PLA Unit 61398", "G0006"}, ExternalRefs: []intel.ExternalRef{{SourceName: "mitre-attack", ExternalID: "G0006"}}}
	label := &intel.Object{ID: "intrusion-set--1", Type: intel.TypeIntrusionSet, Name: "Comment Crew"}
	other := &intel.Object{ID: "intrusion-set--9", Type: intel.TypeIntrusionSet, Name: "APT28"}
	actors := map[string]*intel.Object{attack.ID: attack, galaxy.ID: galaxy, label.ID: label, other.ID: other}
	links := []Link{{A: galaxy.ID, B: attack.ID}, {A: label.ID, B: galaxy.ID}, {A: label.ID, B: other.ID, Undone: true}}
	if got := Cluster([]string{label.ID}, links); len(got) != 3 || got[0] != galaxy.ID {
		t.Errorf("Cluster = %v, want the three APT1 records", got)
	}
	canon := Canonical(actors, links)
	for _, id := range []string{attack.ID, galaxy.ID, label.ID} {
		if canon[id] != attack.ID {
			t.Errorf("Canonical[%s] = %s, want ATT&CK's record", id, canon[id])
		}
	}
	if canon[other.ID] != other.ID {
		t.Errorf("an undone link still joins: %s", canon[other.ID])
	}
}

// TestRealRecords runs Join over the ATT&CK and MISP galaxy records of the
// shared data.
func TestRealRecords(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "..", "shared", "data", "intel")
	galaxy := loadGalaxy(t, filepath.Join(dir, "misp-galaxy", "threat-actor.json"))
	attack := loadAttack(t, filepath.Join(dir, "attack", "enterprise-attack.json.gz"))
	for _, tc := range []struct {
		attack, galaxy string
		join           bool
	}{
		{"APT1", "APT1", true},
		{"APT28", "APT28", true},
		{"Sandworm Team", "IRIDIUM", false},
		{"Sandworm Team", "Sandworm", true},
		{"APT1", "APT28", false},
	} {
		a, g := attack[tc.attack], galaxy[tc.galaxy]
		if a == nil || g == nil {
			continue
		}
		if _, _, ok := Join(a, g); ok != tc.join {
			t.Errorf("ATT&CK %s and galaxy %s: joined %v, want %v", tc.attack, tc.galaxy, ok, tc.join)
		}
	}
	if galaxy["IRIDIUM"] == nil || attack["Sandworm Team"] == nil {
		t.Error("the shared data lacks the IRIDIUM and Sandworm Team records this test is about")
	}
	if _, ok := Candidate(attack["Sandworm Team"], galaxy["IRIDIUM"]); !ok {
		t.Error("galaxy IRIDIUM is not even a candidate for Sandworm Team")
	}
}

func loadGalaxy(t *testing.T, path string) map[string]*Names {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Skip("shared data not present")
	}
	var g struct {
		Values []struct {
			Value string `json:"value"`
			Meta  struct {
				Synonyms []string `json:"synonyms"`
				Country  string   `json:"country"`
			} `json:"meta"`
		} `json:"values"`
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string]*Names{}
	for _, v := range g.Values {
		out[v.Value] = rec("galaxy-"+v.Value, v.Value, v.Meta.Synonyms, v.Meta.Country)
	}
	return out
}

func loadAttack(t *testing.T, path string) map[string]*Names {
	f, err := os.Open(path)
	if err != nil {
		t.Skip("shared data not present")
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var b struct {
		Objects []struct {
			ID      string              `json:"id"`
			Type    string              `json:"type"`
			Name    string              `json:"name"`
			Aliases []string            `json:"aliases"`
			Refs    []intel.ExternalRef `json:"external_references"`
		} `json:"objects"`
	}
	if err := json.NewDecoder(zr).Decode(&b); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string]*Names{}
	for _, o := range b.Objects {
		if o.Type == intel.TypeIntrusionSet {
			out[o.Name] = FromObject(&intel.Object{ID: o.ID, Type: o.Type, Name: o.Name, Aliases: o.Aliases, ExternalRefs: o.Refs})
		}
	}
	return out
}
