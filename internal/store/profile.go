package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// Profile is everything known about one actor: the records joined into it,
// its names with their sources, who it is attributed to, what it uses and
// the indicators that point to it.
type Profile struct {
	Actor        *intel.Object   // the canonical record
	Members      []*intel.Object // every record joined into this actor
	Links        []ActorLink     // the joins, with their rules (undone ones too)
	Names        []NameSources   // every name, with the sources that gave it
	Country      string
	CountrySrc   []string
	Sponsor      string
	AttributedTo []*intel.Object // threat-actors, identities the actor is attributed to
	Personas     []Persona
	Malware      []*intel.Object
	Tools        []*intel.Object
	Techniques   []*intel.Object
	Campaigns    []*intel.Object
	Indicators   []*intel.Object // indicators that indicate the actor or its personas
	Sources      []intel.Source
	// Candidates are other actor records that share only a secondary alias:
	// possibly the same actor, deliberately not joined.
	Candidates []Candidate
}

// NameSources is one name and every source that asserted it.
type NameSources struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	Sources []string `json:"sources"`
}

// Persona is a threat-actor attributed to the group, with the identities
// (people) it is attributed to.
type Persona struct {
	Actor      *intel.Object
	Identities []*intel.Object
}

// Candidate is an unjoined actor record sharing an alias.
type Candidate struct {
	Actor *intel.Object
	Alias string
}

// ErrAmbiguous is returned when a name resolves to several distinct actors.
var ErrAmbiguous = errors.New("ambiguous")

// ResolveActor finds the actor cluster named by name (any alias, ATT&CK id or
// STIX id) and returns its member ids and links.
func ResolveActor(ctx context.Context, s ActorReader, name string) ([]string, []ActorLink, error) {
	links, err := s.ActorLinks(ctx)
	if err != nil {
		return nil, nil, err
	}
	var seeds []string
	if o, err := s.Object(ctx, name); err == nil {
		if !intel.IsActorType(o.Type) {
			return nil, nil, fmt.Errorf("%s is a %s, not an actor", name, o.Type)
		}
		seeds = []string{o.ID}
	} else {
		objs, err := s.FindByName(ctx, name, intel.TypeIntrusionSet, intel.TypeThreatActor)
		if err != nil {
			return nil, nil, err
		}
		// Prefer intrusion sets: "APT1" names the group, not a persona.
		var sets []string
		for _, o := range objs {
			if o.Type == intel.TypeIntrusionSet {
				sets = append(sets, o.ID)
			} else {
				seeds = append(seeds, o.ID)
			}
		}
		if len(sets) > 0 {
			seeds = sets
		}
	}
	if len(seeds) == 0 {
		return nil, nil, fmt.Errorf("no actor called %q: %w", name, ErrNotFound)
	}
	// Several seeds that are not joined are different actors sharing a name.
	first := Cluster(seeds[:1], links)
	for _, sd := range seeds[1:] {
		if !containsStr(first, sd) {
			return nil, nil, fmt.Errorf("%q names several actors that are not joined (%s): %w", name, strings.Join(seeds, ", "), ErrAmbiguous)
		}
	}
	return first, links, nil
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func appendUnique(list []string, s string) []string {
	if containsStr(list, s) {
		return list
	}
	return append(list, s)
}

func locationCountry(o *intel.Object) string {
	if o.Type != intel.TypeLocation || len(o.Raw) == 0 {
		return ""
	}
	var l struct {
		Country string `json:"country"`
	}
	if json.Unmarshal(o.Raw, &l) != nil {
		return ""
	}
	return strings.ToUpper(l.Country)
}

// sameNameOnce keeps one record per name: the same family from two
// sources (OpenIOC's CHOPSTICK, ATT&CK's CHOPSTICK S0023) is listed once,
// as the record with an ATT&CK id when one has it.
func sameNameOnce(l []*intel.Object) []*intel.Object {
	at := map[string]int{}
	var out []*intel.Object
	for _, o := range l {
		n := NormName(o.Name)
		i, dup := at[n]
		switch {
		case !dup:
			at[n] = len(out)
			out = append(out, o)
		case out[i].AttackID() == "" && o.AttackID() != "":
			out[i] = o
		}
	}
	return out
}
