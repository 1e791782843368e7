package webui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/server"
	"github.com/whodunit-project/whodunit/internal/store"
)

// errNoActor answers an actor that is absent or above the ceiling alike.
var errNoActor = errors.New("no such actor")

// actorAnswer is an actor's profile from the intelligence, over every
// record joined into it, with the names and their sources and the
// campaigns of the latest analysis that weigh it.
type actorAnswer struct {
	Profile   report.ActorProfile `json:"profile"`
	Members   []string            `json:"members"` // the records joined into it
	Names     []store.NameRecord  `json:"names"`
	Joins     []actorJoin         `json:"joins"`
	Claims    []actorClaim        `json:"claims"`
	Campaigns []campaignHit       `json:"campaigns"`
}

func (u *UI) actor(ctx context.Context, c *caller, id string) (actorAnswer, error) {
	var out actorAnswer
	if err := u.visibleActor(ctx, c, id); err != nil {
		return out, err
	}
	links, err := u.st.ActorLinks(ctx)
	if err != nil {
		return out, fmt.Errorf("reading actor joins: %w", err)
	}
	out.Members = store.Cluster([]string{id}, links)
	profiles, err := report.LoadProfiles(ctx, u.st, map[string][]string{id: out.Members})
	if err != nil {
		return out, err
	}
	out.Profile = profiles[id]
	if err := u.limitProfile(ctx, c, &out.Profile); err != nil {
		return out, err
	}
	if out.Names, err = u.st.Names(ctx, id); err != nil {
		return out, err
	}
	if out.Joins, err = u.actorJoins(ctx, out.Members, links); err != nil {
		return out, err
	}
	if out.Claims, err = u.actorClaims(ctx, out.Members); err != nil {
		return out, err
	}
	out.Campaigns, err = u.actorCampaigns(ctx, c, out.Members)
	return out, err
}

// limitProfile keeps the listed indicators the key may see, at the
// server's rule (unmarked ones take DefaultTLP); when any was left out
// the total is not shown, since it would count what the key may not see.
func (u *UI) limitProfile(ctx context.Context, c *caller, p *report.ActorProfile) error {
	kept := p.Indicators[:0:0]
	for _, k := range p.Indicators {
		ok, err := u.indicatorAllowed(ctx, c, k.ID)
		if err != nil {
			return err
		}
		if ok {
			kept = append(kept, k)
		}
	}
	if len(kept) < len(p.Indicators) {
		p.IndicatorsTotal = len(kept)
	}
	p.Indicators = kept
	return nil
}

// actorCampaigns are the visible campaigns that weigh one of members.
func (u *UI) actorCampaigns(ctx context.Context, c *caller, members []string) ([]campaignHit, error) {
	out := []campaignHit{}
	a, err := u.latest(ctx, c)
	if errors.Is(err, errNoAnalysis) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for i := range a.Campaigns {
		camp := &a.Campaigns[i]
		why := ""
		if camp.Attribution.Named && slices.Contains(members, camp.Attribution.ActorID) {
			why = "attributed"
		} else if slices.ContainsFunc(camp.Attribution.Hypotheses, func(h attribute.Hypothesis) bool { return slices.Contains(members, h.ID) }) {
			why = "a hypothesis"
		}
		if why != "" {
			out = append(out, campaignHit{ID: camp.ID, Actor: summarise(camp).Actor, Why: why})
		}
	}
	return out, nil
}

type actorView struct {
	layout
	actorAnswer
	ID        string
	MayDecide bool
}

func (u *UI) actorPage(w http.ResponseWriter, r *http.Request, c *caller) {
	a, err := u.actor(r.Context(), c, r.PathValue("id"))
	if err != nil {
		u.failPage(w, err)
		return
	}
	u.noteOne(r)
	u.render(w, http.StatusOK, "actor", actorView{layout: u.layout(c, a.Profile.Name), actorAnswer: a,
		ID: r.PathValue("id"), MayDecide: c.key.Internal || c.key.Admin})
}

func (u *UI) actorAPI(w http.ResponseWriter, r *http.Request, c *caller) {
	a, err := u.actor(r.Context(), c, r.PathValue("id"))
	if err != nil {
		u.failJSON(w, err)
		return
	}
	u.noteOne(r)
	writeJSON(w, http.StatusOK, a)
}

func (u *UI) noteOne(r *http.Request) {
	if n := server.NoteFrom(r.Context()); n != nil {
		n.Objects = 1
	}
}
