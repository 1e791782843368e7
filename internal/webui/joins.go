package webui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/store"
)

// actorJoin is one join between two actor records touching an actor's
// cluster, undone ones too: the rule that made it and whether it holds.
type actorJoin struct {
	Target  string `json:"target"` // store.JoinTarget, what a verdict names
	A       string `json:"a"`
	AName   string `json:"a_name"` // the record's name and its first source
	B       string `json:"b"`
	BName   string `json:"b_name"`
	Rule    string `json:"rule"`
	Detail  string `json:"detail"`
	Created string `json:"created"`
	Undone  bool   `json:"undone"`
}

// actorClaim is one record's statement of an actor's country or sponsor,
// with its confidence and the sources that assert the record.
type actorClaim struct {
	Record     string   `json:"record"`
	RecordName string   `json:"record_name"`
	Country    string   `json:"country,omitempty"`
	Sponsor    string   `json:"suspected_sponsor,omitempty"`
	Confidence int      `json:"confidence"` // -1 when the source stated none
	Sources    []string `json:"sources"`    // "name (grade)"
}

// actorJoins lists the joins of which one side is a member, or was one
// before the join was undone, newest last as the store keeps them.
func (u *UI) actorJoins(ctx context.Context, members []string, links []store.ActorLink) ([]actorJoin, error) {
	names := map[string]string{}
	name := func(id string) (string, error) {
		if n, ok := names[id]; ok {
			return n, nil
		}
		o, err := u.st.Object(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			names[id] = id
			return id, nil
		}
		if err != nil {
			return "", err
		}
		// Joined records often share a name: the sources tell them apart.
		srcs, err := u.st.ObjectSources(ctx, id)
		if err != nil {
			return "", err
		}
		n := o.Name
		if len(srcs) > 0 {
			n += " (" + srcs[0].Name + ")"
		}
		names[id] = n
		return n, nil
	}
	out := []actorJoin{}
	for _, l := range links {
		if !slices.Contains(members, l.A) && !slices.Contains(members, l.B) {
			continue
		}
		j := actorJoin{Target: store.JoinTarget(l.A, l.B), A: l.A, B: l.B, Rule: l.Rule, Detail: l.Detail,
			Created: l.Created.UTC().Format("2006-01-02 15:04"), Undone: l.Undone}
		var err error
		if j.AName, err = name(l.A); err != nil {
			return nil, err
		}
		if j.BName, err = name(l.B); err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

// actorClaims are the country and sponsor claims of the members.
func (u *UI) actorClaims(ctx context.Context, members []string) ([]actorClaim, error) {
	out := []actorClaim{}
	for _, id := range members {
		o, err := u.st.Object(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if o.Actor == nil || (o.Actor.Country == "" && o.Actor.StateSponsor == "") {
			continue
		}
		srcs, err := u.st.ObjectSources(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("reading the sources of %s: %w", id, err)
		}
		c := actorClaim{Record: id, RecordName: o.Name, Country: o.Actor.Country, Sponsor: o.Actor.StateSponsor,
			Confidence: o.Confidence, Sources: []string{}}
		for _, s := range srcs {
			c.Sources = append(c.Sources, s.Name+" ("+s.Reliability.String()+")")
		}
		out = append(out, c)
	}
	return out, nil
}

// errJoinState answers undoing a join that does not hold, or joining
// records already joined.
var errJoinState = errors.New("the join is not in that state")

// applyJoin checks that c may see both actor records of a join verdict
// and carries it out: undone unlinks them (it stays undone across later
// imports), joined links them by hand. A note changes nothing.
func (u *UI) applyJoin(ctx context.Context, c *caller, v store.Verdict) error {
	if ok, err := u.joinVisible(ctx, c, v.Target); err != nil || !ok {
		return cmp.Or(err, errNoActor)
	}
	a, b, _ := store.JoinPair(v.Target)
	links, err := u.st.ActorLinks(ctx)
	if err != nil {
		return err
	}
	held := slices.ContainsFunc(links, func(l store.ActorLink) bool {
		return !l.Undone && store.JoinTarget(l.A, l.B) == v.Target
	})
	switch v.Decision {
	case store.DecisionUndone:
		if !held {
			return fmt.Errorf("%w: %s and %s are not joined", errJoinState, a, b)
		}
		_, err = u.st.UnlinkActors(ctx, a, b)
	case store.DecisionJoined:
		if held {
			return fmt.Errorf("%w: %s and %s are joined already", errJoinState, a, b)
		}
		err = u.st.LinkActors(ctx, a, b, "joined by "+v.By+" in the web UI")
	}
	if err != nil {
		return fmt.Errorf("changing the join: %w", err)
	}
	return nil
}

// visibleActor answers errNoActor for an id that is no actor record or
// one above c's ceiling.
func (u *UI) visibleActor(ctx context.Context, c *caller, id string) error {
	o, err := u.st.Object(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !intel.IsActorType(o.Type)) {
		return errNoActor
	}
	if err != nil {
		return err
	}
	defs, err := report.MarkingDefinitions(ctx, u.st)
	if err != nil {
		return err
	}
	if !c.ceiling.Allows(defs.Of(o, u.cfg.DefaultTLP)) {
		return errNoActor
	}
	return nil
}

// joinVisible reports whether c may see both records of a join target.
func (u *UI) joinVisible(ctx context.Context, c *caller, target string) (bool, error) {
	a, b, _ := store.JoinPair(target)
	for _, id := range []string{a, b} {
		err := u.visibleActor(ctx, c, id)
		if errors.Is(err, errNoActor) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
	return true, nil
}
