package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

// printProfile prints an actor's profile for reading; all lifts the limit
// on the techniques and indicators listed.
func printProfile(w io.Writer, p *store.Profile, all bool) {
	limit := 25
	if all {
		limit = 0
	}
	printProfileHeader(w, p)
	printProfileJoins(w, p)
	fmt.Fprintln(w, "  Names and aliases:")
	for _, n := range p.Names {
		fmt.Fprintf(w, "    %-32s %-11s %s\n", n.Name, n.Kind, strings.Join(n.Sources, ", "))
	}
	printAttributedTo(w, p)
	if len(p.Malware) > 0 {
		fmt.Fprintf(w, "  Malware (%d):  %s\n", len(p.Malware), joinLabels(p.Malware, 0))
	}
	if len(p.Tools) > 0 {
		fmt.Fprintf(w, "  Tools (%d):    %s\n", len(p.Tools), joinLabels(p.Tools, 0))
	}
	if len(p.Campaigns) > 0 {
		fmt.Fprintf(w, "  Campaigns:    %s\n", joinLabels(p.Campaigns, 0))
	}
	printProfileTechniques(w, p.Techniques, limit)
	printProfileIndicators(w, p.Indicators, limit)
	printProfileCandidates(w, p.Candidates)
	printProfileSources(w, p.Sources)
}

// printProfileHeader prints the actor's name, id, country, sponsor and
// motivation.
func printProfileHeader(w io.Writer, p *store.Profile) {
	a := p.Actor
	fmt.Fprintf(w, "%s\n", label(a))
	fmt.Fprintf(w, "  %s %s\n", a.Type, a.ID)
	if p.Country != "" {
		fmt.Fprintf(w, "  Country:      %s", p.Country)
		if len(p.CountrySrc) > 0 {
			fmt.Fprintf(w, " (per %s)", strings.Join(p.CountrySrc, ", "))
		}
		fmt.Fprintln(w)
	}
	if p.Sponsor != "" {
		fmt.Fprintf(w, "  State sponsor (suspected): %s\n", p.Sponsor)
	}
	if a.Actor != nil && len(a.Actor.Motivations) > 0 {
		fmt.Fprintf(w, "  Motivation:   %s\n", strings.Join(a.Actor.Motivations, ", "))
	}
}

// printProfileJoins lists the joins behind an actor of several records,
// undone ones included so that a reader sees what was taken apart.
func printProfileJoins(w io.Writer, p *store.Profile) {
	if len(p.Members) <= 1 {
		return
	}
	fmt.Fprintf(w, "  Joined from %d records:\n", len(p.Members))
	for _, l := range p.Links {
		state := ""
		if l.Undone {
			state = " [undone]"
		}
		fmt.Fprintf(w, "    #%d %s ~ %s  rule %s: %s%s\n", l.ID, l.A, l.B, l.Rule, l.Detail, state)
	}
}

// printAttributedTo lists who the actor is attributed to, with each
// persona's identities.
func printAttributedTo(w io.Writer, p *store.Profile) {
	if len(p.AttributedTo) == 0 {
		return
	}
	idents := map[string][]string{}
	for _, per := range p.Personas {
		for _, i := range per.Identities {
			idents[per.Actor.ID] = append(idents[per.Actor.ID], i.Name)
		}
	}
	fmt.Fprintln(w, "  Attributed to:")
	for _, t := range p.AttributedTo {
		line := fmt.Sprintf("    %s (%s)", t.Name, t.Type)
		if len(t.Aliases) > 0 {
			line += " — aka " + strings.Join(t.Aliases, ", ")
		}
		if ids := idents[t.ID]; len(ids) > 0 {
			line += " → identities: " + strings.Join(ids, ", ")
		}
		fmt.Fprintln(w, line)
	}
}

// printProfileTechniques lists up to limit techniques (0: all).
func printProfileTechniques(w io.Writer, techniques []*intel.Object, limit int) {
	if len(techniques) == 0 {
		return
	}
	fmt.Fprintf(w, "  Techniques (%d):\n", len(techniques))
	for i, t := range techniques {
		if limit > 0 && i == limit {
			fmt.Fprintf(w, "    … %d more (--all)\n", len(techniques)-limit)
			break
		}
		id := t.AttackID()
		if id == "" {
			id = "-"
		}
		fmt.Fprintf(w, "    %-10s %s\n", id, t.Name)
	}
}

// printProfileIndicators lists up to limit indicators (0: all).
func printProfileIndicators(w io.Writer, indicators []*intel.Object, limit int) {
	if len(indicators) == 0 {
		return
	}
	fmt.Fprintf(w, "  Indicators (%d):\n", len(indicators))
	for i, ind := range indicators {
		if limit > 0 && i == limit {
			fmt.Fprintf(w, "    … %d more (--all, or intel list --actor)\n", len(indicators)-limit)
			break
		}
		fmt.Fprintf(w, "    %s\n", indicatorText(ind))
	}
}

func printProfileCandidates(w io.Writer, candidates []store.Candidate) {
	if len(candidates) == 0 {
		return
	}
	fmt.Fprintln(w, "  Not joined (share only an alias; join with `intel merge` if they are the same):")
	for _, c := range candidates {
		fmt.Fprintf(w, "    %s %s (alias %q)\n", c.Actor.Name, c.Actor.ID, c.Alias)
	}
}

func printProfileSources(w io.Writer, sources []intel.Source) {
	fmt.Fprintln(w, "  Sources:")
	for _, s := range sources {
		rel := ""
		if s.Reliability != 0 {
			rel = " reliability " + s.Reliability.String()
		}
		fmt.Fprintf(w, "    %s (%s, imported %s%s)\n", s.Name, s.Format, s.ImportedAt.Format("2006-01-02 15:04"), rel)
	}
}
