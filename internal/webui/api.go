package webui

import (
	"net/http"
	"time"

	"github.com/whodunit-project/whodunit/internal/report"
)

// campaignSummary is one row of the overview, in the API as on the page.
type campaignSummary struct {
	ID         string    `json:"id"`
	Actor      string    `json:"actor"` // the named actor, or "" when not attributed
	Leading    string    `json:"leading"`
	Estimate   string    `json:"estimate"`
	Confidence string    `json:"confidence"`
	Likelihood float64   `json:"likelihood"`
	Victims    int       `json:"victims"`
	Sightings  int       `json:"sightings"`
	Detections int       `json:"detections"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
}

func summarise(c *report.Campaign) campaignSummary {
	s := campaignSummary{ID: c.ID, Leading: c.Attribution.Leading, Estimate: c.Attribution.Estimate,
		Confidence: c.Attribution.Confidence, Likelihood: c.Attribution.Likelihood, Victims: len(c.Victims),
		Sightings: c.Sightings, Detections: c.Detections, FirstSeen: c.FirstSeen, LastSeen: c.LastSeen}
	if c.Attribution.Named {
		s.Actor = c.Attribution.Actor
	}
	return s
}

type overviewAnswer struct {
	Analysis  string            `json:"analysis"`
	Created   time.Time         `json:"created"`
	Counts    counts            `json:"counts"`
	Campaigns []campaignSummary `json:"campaigns"`
	// Changes are since the key's last visit to the overview page.
	Changes visitChanges `json:"changes"`
}

func (u *UI) overviewAPI(w http.ResponseWriter, r *http.Request, c *caller) {
	a, n, err := u.overview(r, c)
	if err != nil {
		u.failJSON(w, err)
		return
	}
	ch, err := u.changesSince(r.Context(), c, a)
	if err != nil {
		u.failJSON(w, err)
		return
	}
	out := overviewAnswer{Analysis: a.ID, Created: a.Created, Counts: n, Campaigns: []campaignSummary{}, Changes: ch}
	for i := range a.Campaigns {
		out.Campaigns = append(out.Campaigns, summarise(&a.Campaigns[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

// campaignAPI answers the campaign as report.json has it.
func (u *UI) campaignAPI(w http.ResponseWriter, r *http.Request, c *caller) {
	_, camp, err := u.findCampaign(r, c)
	if err != nil {
		u.failJSON(w, err)
		return
	}
	writeJSON(w, http.StatusOK, camp)
}

func (u *UI) detectionsAPI(w http.ResponseWriter, r *http.Request, c *caller) {
	t, err := u.triage(r, c)
	if err != nil {
		u.failJSON(w, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (u *UI) failJSON(w http.ResponseWriter, err error) {
	code, msg := u.status(err)
	writeJSONError(w, code, msg)
}
