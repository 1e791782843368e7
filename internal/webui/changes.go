package webui

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/store"
)

// visitChanges is what the overview shows as new since the key's previous
// visit: the analyses stored since, and how the campaigns the key may see
// differ from those of the analysis it saw then.
type visitChanges struct {
	FirstVisit bool      `json:"first_visit"`
	Since      time.Time `json:"since,omitzero"` // the previous visit
	Analyses   int       `json:"analyses"`       // stored after it
	// Before is the analysis that was the latest at the previous visit
	// ("" when there was none).
	Before  string           `json:"before,omitempty"`
	New     []string         `json:"new_campaigns"`
	Gone    []string         `json:"gone_campaigns"`
	Changed []campaignChange `json:"changed_campaigns"`
	// Sightings is the change in sightings within campaigns.
	Sightings int `json:"sightings"`
	// Sources is how many intelligence sources were imported since; -1
	// for keys that may not see the sources (not internal or admin).
	Sources int `json:"sources"`
}

// campaignChange is a campaign whose assessment reads differently now.
type campaignChange struct {
	ID  string `json:"id"`
	Was string `json:"was"`
	Now string `json:"now"`
}

// Any tells whether anything changed.
func (ch visitChanges) Any() bool {
	return ch.Analyses > 0 || len(ch.New)+len(ch.Gone)+len(ch.Changed) > 0 || ch.Sightings != 0 || ch.Sources > 0
}

// previousVisit is when c's key last opened the overview page: the newest
// audited answer to it, which the audit writes after this request.
func (u *UI) previousVisit(ctx context.Context, c *caller) (time.Time, bool, error) {
	var at time.Time
	found := false
	err := u.st.Audit(ctx, store.AuditQuery{Key: c.key.Name, Method: http.MethodGet, Path: "/", Status: http.StatusOK, Limit: 1},
		func(e store.AuditEntry) error {
			at, found = e.At, true
			return nil
		})
	if err != nil {
		return at, false, fmt.Errorf("reading the audit trail: %w", err)
	}
	return at, found, nil
}

// changesSince compares now (the latest analysis as c sees it) with the
// analysis that was the latest at c's previous visit.
func (u *UI) changesSince(ctx context.Context, c *caller, now *analysis) (visitChanges, error) {
	ch := visitChanges{New: []string{}, Gone: []string{}, Changed: []campaignChange{}, Sources: -1}
	since, found, err := u.previousVisit(ctx, c)
	if err != nil || !found {
		ch.FirstVisit = true
		return ch, err
	}
	ch.Since = since
	runs, err := u.st.Analyses(ctx) // newest first
	if err != nil {
		return ch, fmt.Errorf("listing analyses: %w", err)
	}
	for _, r := range runs {
		if r.Created.After(since) {
			ch.Analyses++
		} else if ch.Before == "" {
			ch.Before = r.ID
		}
	}
	if err := u.compareCampaigns(ctx, c, now, &ch); err != nil {
		return ch, err
	}
	if c.key.Internal || c.key.Admin {
		if ch.Sources, err = u.sourcesSince(ctx, since); err != nil {
			return ch, err
		}
	}
	return ch, nil
}

// compareCampaigns fills the campaign differences between ch.Before and now.
func (u *UI) compareCampaigns(ctx context.Context, c *caller, now *analysis, ch *visitChanges) error {
	var was []report.Campaign
	if ch.Before != "" && ch.Before != now.ID {
		before, err := u.analysisAs(ctx, c, ch.Before)
		if err != nil {
			return err
		}
		was = before.Campaigns
	} else if ch.Before == now.ID {
		was = now.Campaigns
	}
	old := map[string]*report.Campaign{}
	for i := range was {
		old[strings.ToUpper(was[i].ID)] = &was[i]
		ch.Sightings -= was[i].Sightings
	}
	for i := range now.Campaigns {
		cur := &now.Campaigns[i]
		ch.Sightings += cur.Sightings
		prev, ok := old[strings.ToUpper(cur.ID)]
		delete(old, strings.ToUpper(cur.ID))
		switch {
		case !ok:
			ch.New = append(ch.New, cur.ID)
		case assessment(prev) != assessment(cur):
			ch.Changed = append(ch.Changed, campaignChange{ID: cur.ID, Was: assessment(prev), Now: assessment(cur)})
		}
	}
	for _, prev := range old {
		ch.Gone = append(ch.Gone, prev.ID)
	}
	slices.Sort(ch.Gone)
	return nil
}

// assessment is a campaign's attribution in a few words.
func assessment(c *report.Campaign) string {
	s := summarise(c)
	who := "not attributed"
	if s.Actor != "" {
		who = s.Actor
	}
	return fmt.Sprintf("%s, %s (%s confidence)", who, s.Estimate, s.Confidence)
}

// sourcesSince counts the sources imported after t.
func (u *UI) sourcesSince(ctx context.Context, t time.Time) (int, error) {
	list, err := u.st.Sources(ctx) // not SourceSummaries: no counts are needed
	if err != nil {
		return 0, fmt.Errorf("listing sources: %w", err)
	}
	n := 0
	for _, s := range list {
		if s.ImportedAt.After(t) {
			n++
		}
	}
	return n, nil
}
