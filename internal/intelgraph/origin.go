package intelgraph

import (
	"encoding/json"
	"sort"
	"strings"
	"unicode"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

// Origins: two sources are not independent when both were derived from
// one publication. The store does not say so directly, so the graph reads
// it from what the objects carry, most telling first:
//
//  1. the identity that created the indicator, when its name names one
//     actor and says "report" (a Zeek feed's meta.source "Mandiant APT1
//     Report"): the report on that actor;
//  2. else that identity (an author such as FireEye): that author;
//  3. a report object citing it (object_refs) whose title names one actor
//     ("APT1: Exposing One of China's …"): the report on that actor; else
//     the first such report, by title;
//  4. an external reference with a URL on the indicator: that URL;
//  5. the source label the file was imported under (--source, or the
//     file's name): files imported under one label are one origin.

// loadReports reads every report object and remembers which objects each
// one cites.
func (g *Graph) loadReports() error {
	g.citedBy = map[string][]*intel.Object{}
	return g.s.Objects(g.ctx, store.ObjectQuery{Types: []string{intel.TypeReport}}, func(o *intel.Object) error {
		var raw struct {
			ObjectRefs []string `json:"object_refs"`
		}
		if len(o.Raw) > 0 && json.Unmarshal(o.Raw, &raw) == nil {
			for _, ref := range raw.ObjectRefs {
				g.citedBy[ref] = append(g.citedBy[ref], o)
			}
		}
		return nil
	})
}

// Origin names the independent origin an indicator's intelligence comes
// from (see the rules above); "" when the store has no such indicator.
func (g *Graph) Origin(indicatorID string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.origin(indicatorID)
}

func (g *Graph) origin(id string) string {
	if o, ok := g.origins[id]; ok {
		return o
	}
	o := g.decideOrigin(id)
	g.origins[id] = o
	return o
}

func (g *Graph) decideOrigin(id string) string {
	ind := g.object(id)
	if ind == nil {
		return ""
	}
	var author *intel.Object
	if ind.CreatedBy != "" {
		author = g.object(ind.CreatedBy)
	}
	// An author is one origin whatever it titles its reports, so the
	// author comes before the reports citing the indicator.
	if author != nil && author.Name != "" {
		if a := g.reportOn(author.Name, false); a != "" {
			return "report on " + a
		}
		return "author " + author.Name
	}
	reports := g.citedBy[id]
	for _, r := range reports {
		if a := g.reportOn(r.Name, true); a != "" {
			return "report on " + a
		}
	}
	if len(reports) > 0 {
		return "report " + reports[0].Name
	}
	for _, ref := range ind.ExternalRefs {
		if ref.URL != "" {
			return "reference " + ref.URL
		}
	}
	return g.sourceOrigin(id)
}

// sourceOrigin is the label of the indicator's first source by name.
func (g *Graph) sourceOrigin(id string) string {
	srcs, err := g.s.ObjectSources(g.ctx, id)
	if err != nil && g.err == nil {
		g.err = err
	}
	var names []string
	for _, s := range srcs {
		names = append(names, s.Name)
	}
	if len(names) == 0 {
		return "unknown source"
	}
	sort.Strings(names)
	return "source " + names[0]
}

// reportOn returns the canonical name of the one actor that a report
// title names; a name that is not a report object's title must also say
// "report". "" when the title names no actor, or several.
func (g *Graph) reportOn(title string, isReport bool) string {
	words := wordsOf(title)
	if !isReport && !containsWord(words, "report") {
		return ""
	}
	found := ""
	for _, an := range g.actorNames {
		if len(an.name) < 4 || !containsPhrase(words, wordsOf(an.name)) {
			continue
		}
		if found != "" && found != an.canonical {
			return ""
		}
		found = an.canonical
	}
	if found == "" {
		return ""
	}
	return g.objName(found)
}

// actorName is one name or alias of an actor record and its canonical id.
type actorName struct{ name, canonical string }

// indexActorNames lists every actor name and alias, sorted for a stable
// answer.
func (g *Graph) indexActorNames(actors map[string]*intel.Object) {
	for id, o := range actors {
		c := g.canonOf(id)
		for _, n := range append([]string{o.Name}, o.Aliases...) {
			g.actorNames = append(g.actorNames, actorName{name: n, canonical: c})
		}
	}
	sort.Slice(g.actorNames, func(i, j int) bool {
		if g.actorNames[i].name != g.actorNames[j].name {
			return g.actorNames[i].name < g.actorNames[j].name
		}
		return g.actorNames[i].canonical < g.actorNames[j].canonical
	})
}

// wordsOf splits lower-cased text at everything but letters and digits.
func wordsOf(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func containsWord(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}

// containsPhrase reports whether phrase occurs in words as consecutive words.
func containsPhrase(words, phrase []string) bool {
	if len(phrase) == 0 {
		return false
	}
	for i := 0; i+len(phrase) <= len(words); i++ {
		match := true
		for j, p := range phrase {
			if words[i+j] != p {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
