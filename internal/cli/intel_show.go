package cli

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

func newIntelShowCmd(app *App) *cobra.Command {
	var all bool
	c := &cobra.Command{
		Use:   "show NAME|ID",
		Short: "Show an actor by any alias or id (or any object by id or name)",
		Example: `  whodunit intel show APT1
  whodunit intel show "Comment Crew"
  whodunit intel show G0006`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			db, err := app.openStore(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			p, err := store.BuildProfile(ctx, db, args[0])
			if err == nil {
				if app.JSON {
					return app.printJSON(profileJSON(p))
				}
				printProfile(app.Stdout, p, all)
				return nil
			}
			if errors.Is(err, store.ErrAmbiguous) {
				return err
			}
			// Not an actor: any object by id or name.
			var objs []*intel.Object
			if o, err := db.Object(ctx, args[0]); err == nil {
				objs = append(objs, o)
			} else if objs, err = db.FindByName(ctx, args[0]); err != nil {
				return err
			}
			if len(objs) == 0 {
				return fmt.Errorf("nothing called %q in %s", args[0], app.DBPath)
			}
			sighted, err := hunt.PartnerSightings(ctx, db, indicatorIDs(objs))
			if err != nil {
				return err
			}
			if app.JSON {
				var out []any
				for _, o := range objs {
					j := objectJSON(o)
					j.SightedBy = sighted[o.ID]
					out = append(out, j)
				}
				return app.printJSON(out)
			}
			for i, o := range objs {
				if i > 0 {
					fmt.Fprintln(app.Stdout)
				}
				rels, err := db.Relationships(ctx, o.ID)
				if err != nil {
					return err
				}
				srcs, err := db.ObjectSources(ctx, o.ID)
				if err != nil {
					return err
				}
				vers, err := db.Versions(ctx, o.ID)
				if err != nil {
					return err
				}
				printObject(app.Stdout, o, rels, srcs, len(vers), func(id string) string {
					if t, err := db.Object(ctx, id); err == nil && t.Name != "" {
						return t.Name
					}
					return id
				})
				printSightedBy(app.Stdout, sighted[o.ID])
			}
			return nil
		},
	}
	c.Flags().BoolVar(&all, "all", false, "list every indicator and technique instead of the first 25")
	return c
}

func label(o *intel.Object) string {
	s := o.Name
	if id := o.AttackID(); id != "" {
		s += " (" + id + ")"
	}
	return s
}

func joinLabels(list []*intel.Object, max int) string {
	var parts []string
	for i, o := range list {
		if max > 0 && i == max {
			parts = append(parts, fmt.Sprintf("… %d more", len(list)-max))
			break
		}
		parts = append(parts, label(o))
	}
	return strings.Join(parts, ", ")
}

// indicatorText renders an indicator as "type value" or its pattern.
func indicatorText(o *intel.Object) string {
	if o.Indicator == nil {
		return o.Name
	}
	var parts []string
	for _, ob := range o.Indicator.Observables {
		parts = append(parts, fmt.Sprintf("%-8s %s", ob.Type, ob.Value))
	}
	s := strings.Join(parts, "; ")
	if s == "" {
		s = fmt.Sprintf("%-8s %s", o.Indicator.PatternType, o.Indicator.Pattern)
	}
	if o.Indicator.HostOnly {
		s += "  [host-only]"
	}
	if len(o.Indicator.Warninglists) > 0 {
		s += "  [on warninglist: " + strings.Join(o.Indicator.Warninglists, ", ") + "]"
	}
	if o.Revoked {
		s += "  [revoked]"
	}
	return s
}

func printObject(w io.Writer, o *intel.Object, rels []*intel.Object, srcs []intel.Source, versions int, name func(string) string) {
	title := o.Name
	if title == "" && o.Indicator != nil {
		title = indicatorText(o)
	}
	fmt.Fprintf(w, "%s\n  %s %s\n", title, o.Type, o.ID)
	if len(o.Aliases) > 0 {
		fmt.Fprintf(w, "  Aliases: %s\n", strings.Join(o.Aliases, ", "))
	}
	for _, r := range o.ExternalRefs {
		if r.ExternalID != "" {
			fmt.Fprintf(w, "  %s: %s %s\n", r.SourceName, r.ExternalID, r.URL)
		}
	}
	if o.Indicator != nil {
		fmt.Fprintf(w, "  Pattern (%s): %s\n", o.Indicator.PatternType, o.Indicator.Pattern)
		if !o.Indicator.ValidFrom.IsZero() {
			fmt.Fprintf(w, "  Valid from %s", o.Indicator.ValidFrom.Format("2006-01-02"))
			if !o.Indicator.ValidUntil.IsZero() {
				fmt.Fprintf(w, " until %s", o.Indicator.ValidUntil.Format("2006-01-02"))
			}
			fmt.Fprintln(w)
		}
	}
	if o.Confidence >= 0 {
		fmt.Fprintf(w, "  Confidence: %d\n", o.Confidence)
	}
	if o.Revoked {
		fmt.Fprintln(w, "  Revoked")
	}
	if versions > 1 {
		fmt.Fprintf(w, "  Versions: %d (latest modified %s)\n", versions, o.Modified.Format("2006-01-02T15:04:05Z"))
	}
	sort.Slice(rels, func(i, j int) bool { return rels[i].Relationship.Type < rels[j].Relationship.Type })
	for _, r := range rels {
		rs := r.Relationship
		if rs.SourceRef == o.ID {
			fmt.Fprintf(w, "  %s → %s\n", rs.Type, name(rs.TargetRef))
		} else {
			fmt.Fprintf(w, "  ← %s %s\n", rs.Type, name(rs.SourceRef))
		}
	}
	for _, s := range srcs {
		fmt.Fprintf(w, "  Source: %s (%s)\n", s.Name, s.Format)
	}
}

type objJSON struct {
	ID           string                 `json:"id"`
	Type         string                 `json:"type"`
	Name         string                 `json:"name,omitempty"`
	AttackID     string                 `json:"attack_id,omitempty"`
	Aliases      []string               `json:"aliases,omitempty"`
	Pattern      string                 `json:"pattern,omitempty"`
	PatternType  string                 `json:"pattern_type,omitempty"`
	Observables  []intel.Observable     `json:"observables,omitempty"`
	HostOnly     bool                   `json:"host_only,omitempty"`
	Warninglists []string               `json:"warninglists,omitempty"`
	Revoked      bool                   `json:"revoked,omitempty"`
	Confidence   *int                   `json:"confidence,omitempty"`
	Modified     string                 `json:"modified,omitempty"`
	External     []intel.ExternalRef    `json:"external_references,omitempty"`
	KillChain    []intel.KillChainPhase `json:"kill_chain_phases,omitempty"`
	SightedBy    []hunt.PartnerSighting `json:"sighted_by,omitempty"`
}

// indicatorIDs are the ids of the indicators among objs.
func indicatorIDs(objs []*intel.Object) []string {
	var ids []string
	for _, o := range objs {
		if o.Type == intel.TypeIndicator {
			ids = append(ids, o.ID)
		}
	}
	return ids
}

// printSightedBy says who reported seeing an indicator (partners pushing
// their sightings back), one line per source.
func printSightedBy(w io.Writer, list []hunt.PartnerSighting) {
	for _, p := range list {
		fmt.Fprintf(w, "  Sighted by %s, %d time(s)", p.Source, p.Count)
		if p.Sightings != p.Count {
			fmt.Fprintf(w, " in %d sighting(s)", p.Sightings)
		}
		if !p.FirstSeen.IsZero() {
			fmt.Fprintf(w, ", %s – %s", p.FirstSeen.UTC().Format(time.RFC3339), p.LastSeen.UTC().Format(time.RFC3339))
		}
		fmt.Fprintln(w)
	}
}

func objectJSON(o *intel.Object) objJSON {
	j := objJSON{ID: o.ID, Type: o.Type, Name: o.Name, AttackID: o.AttackID(), Aliases: o.Aliases, Revoked: o.Revoked}
	if !o.Modified.IsZero() {
		j.Modified = o.Modified.Format("2006-01-02T15:04:05.000Z")
	}
	if o.Confidence >= 0 {
		c := o.Confidence
		j.Confidence = &c
	}
	if o.Indicator != nil {
		j.Pattern, j.PatternType, j.Observables = o.Indicator.Pattern, o.Indicator.PatternType, o.Indicator.Observables
		j.HostOnly, j.Warninglists = o.Indicator.HostOnly, o.Indicator.Warninglists
	}
	return j
}

func objectsJSON(list []*intel.Object) []objJSON {
	out := make([]objJSON, 0, len(list))
	for _, o := range list {
		out = append(out, objectJSON(o))
	}
	return out
}

func profileJSON(p *store.Profile) any {
	type persona struct {
		Actor      objJSON   `json:"actor"`
		Identities []objJSON `json:"identities,omitempty"`
	}
	type cand struct {
		Actor objJSON `json:"actor"`
		Alias string  `json:"shared_alias"`
	}
	type link struct {
		ID     int64  `json:"id"`
		A      string `json:"a"`
		B      string `json:"b"`
		Rule   string `json:"rule"`
		Detail string `json:"detail"`
		Undone bool   `json:"undone,omitempty"`
	}
	out := struct {
		Actor        objJSON             `json:"actor"`
		Members      []objJSON           `json:"records"`
		Links        []link              `json:"joins"`
		Names        []store.NameSources `json:"names"`
		Country      string              `json:"country,omitempty"`
		Sponsor      string              `json:"suspected_state_sponsor,omitempty"`
		AttributedTo []objJSON           `json:"attributed_to,omitempty"`
		Personas     []persona           `json:"personas,omitempty"`
		Malware      []objJSON           `json:"malware,omitempty"`
		Tools        []objJSON           `json:"tools,omitempty"`
		Techniques   []objJSON           `json:"techniques,omitempty"`
		Campaigns    []objJSON           `json:"campaigns,omitempty"`
		Indicators   []objJSON           `json:"indicators,omitempty"`
		Candidates   []cand              `json:"not_joined_candidates,omitempty"`
		Sources      []string            `json:"sources"`
	}{Actor: objectJSON(p.Actor), Members: objectsJSON(p.Members), Names: p.Names, Country: p.Country, Sponsor: p.Sponsor,
		AttributedTo: objectsJSON(p.AttributedTo), Malware: objectsJSON(p.Malware), Tools: objectsJSON(p.Tools),
		Techniques: objectsJSON(p.Techniques), Campaigns: objectsJSON(p.Campaigns), Indicators: objectsJSON(p.Indicators)}
	for _, l := range p.Links {
		out.Links = append(out.Links, link{ID: l.ID, A: l.A, B: l.B, Rule: l.Rule, Detail: l.Detail, Undone: l.Undone})
	}
	for _, per := range p.Personas {
		out.Personas = append(out.Personas, persona{Actor: objectJSON(per.Actor), Identities: objectsJSON(per.Identities)})
	}
	for _, c := range p.Candidates {
		out.Candidates = append(out.Candidates, cand{Actor: objectJSON(c.Actor), Alias: c.Alias})
	}
	for _, s := range p.Sources {
		out.Sources = append(out.Sources, s.Name)
	}
	return out
}

func newIntelListCmd(app *App) *cobra.Command {
	var typ, actor, source string
	var limit int
	c := &cobra.Command{
		Use:   "list",
		Short: "List objects, filtered by type, actor or source",
		Example: `  whodunit intel list --type intrusion-set
  whodunit intel list --type domain --actor APT1
  whodunit intel list --source apt1-md5.dat --limit 10`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			db, err := app.openStore(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			q := store.ObjectQuery{Source: source, Actor: actor, Limit: limit}
			if typ != "" {
				if vt, err := intel.ParseValueType(typ); err == nil && !strings.Contains(typ, "-") || err == nil && vt == intel.X509SHA1 || err == nil && vt == intel.X509SHA256 {
					q.ValueType = vt
					q.Types = []string{intel.TypeIndicator}
				} else {
					q.Types = []string{typ}
				}
			} else if actor != "" {
				q.Types = []string{intel.TypeIndicator}
			}
			if actor != "" {
				if _, _, err := store.ResolveActor(ctx, db, actor); err != nil {
					return err
				}
			}
			var js []objJSON
			n := 0
			err = db.Objects(ctx, q, func(o *intel.Object) error {
				n++
				if app.JSON {
					js = append(js, objectJSON(o))
					return nil
				}
				text := label(o)
				if o.Type == intel.TypeIndicator {
					text = indicatorText(o)
				} else if o.Type == intel.TypeRelationship {
					text = o.Relationship.SourceRef + " " + o.Relationship.Type + " " + o.Relationship.TargetRef
				}
				_, err := fmt.Fprintf(app.Stdout, "%-18s %-50s %s\n", o.Type, o.ID, text)
				return err
			})
			if err != nil {
				return err
			}
			if app.JSON {
				if js == nil {
					js = []objJSON{}
				}
				return app.printJSON(js)
			}
			app.infof("%d objects", n)
			return nil
		},
	}
	c.Flags().StringVar(&typ, "type", "", "object type (intrusion-set, malware, indicator, …) or indicator value type (domain, md5, ipv4, …)")
	c.Flags().StringVar(&actor, "actor", "", "only indicators that point to this actor (any alias)")
	c.Flags().StringVar(&source, "source", "", "only objects asserted by this source")
	c.Flags().IntVar(&limit, "limit", 0, "at most this many")
	return c
}

func newIntelMergeCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "merge ACTOR-ID ACTOR-ID",
		Short: "Join two actor records that are the same actor (by id)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			db, err := app.openStore(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			for _, id := range args {
				o, err := db.Object(ctx, id)
				if err != nil {
					return usagef("%s: not an object id in %s (use intel show NAME to find ids)", id, app.DBPath)
				}
				if !intel.IsActorType(o.Type) {
					return usagef("%s is a %s, not an actor", id, o.Type)
				}
			}
			if err := db.LinkActors(ctx, args[0], args[1], "joined by hand"); err != nil {
				return err
			}
			if app.JSON {
				return app.printJSON(map[string]any{"joined": args})
			}
			fmt.Fprintf(app.Stdout, "joined %s and %s\n", args[0], args[1])
			return nil
		},
	}
}

func newIntelUnmergeCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "unmerge ACTOR-ID ACTOR-ID",
		Short: "Undo the join of two actor records; it stays undone across later imports",
		Long: `Undo the join of two actor records. Every rule that joined the two ids
directly is marked undone and kept (so 'intel show' still says why they
were joined once); later imports do not join them again by the same rule.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			db, err := app.openStore(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			n, err := db.UnlinkActors(ctx, args[0], args[1])
			if err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("%s and %s are not joined directly (see the joins in intel show)", args[0], args[1])
			}
			if app.JSON {
				return app.printJSON(map[string]any{"unjoined": args, "joins_undone": n})
			}
			fmt.Fprintf(app.Stdout, "undid %d join(s) between %s and %s\n", n, args[0], args[1])
			return nil
		},
	}
}
