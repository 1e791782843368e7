package webui

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/report/svg"
	"github.com/whodunit-project/whodunit/internal/server"
	"github.com/whodunit-project/whodunit/internal/store"
)

// layout is what every signed-in page shows around its content.
type layout struct {
	Title   string
	CSRF    string
	KeyName string
	Ceiling string
	// Refresh reloads the page every so many seconds when script is off
	// (a running job's page); 0: never.
	Refresh int
}

func (u *UI) layout(c *caller, title string) layout {
	return layout{Title: title, CSRF: c.csrf(), KeyName: c.key.Name, Ceiling: "TLP:" + c.ceiling.String()}
}

type loginView struct {
	layout
	Error bool
}

type overviewView struct {
	layout
	Analysis *analysis
	Counts   counts
	Rows     []campaignSummary
	Changes  visitChanges
	// Map is the C2 servers of the campaigns shown, by country.
	Map template.HTML
}

func (u *UI) overviewPage(w http.ResponseWriter, r *http.Request, c *caller) {
	a, n, err := u.overview(r, c)
	if err != nil {
		u.failPage(w, err)
		return
	}
	ch, err := u.changesSince(r.Context(), c, a)
	if err != nil {
		u.failPage(w, err)
		return
	}
	v := overviewView{layout: u.layout(c, "Overview"), Analysis: a, Counts: n, Changes: ch,
		Map: template.HTML(svg.WorldMapDefs() + svg.WorldMap("C2 servers by country", "C2 servers", report.C2Countries(a.Campaigns)))}
	for i := range a.Campaigns {
		v.Rows = append(v.Rows, summarise(&a.Campaigns[i]))
	}
	u.render(w, http.StatusOK, "overview", v)
}

// overview is the latest run and its totals, as c may see them.
func (u *UI) overview(r *http.Request, c *caller) (*analysis, counts, error) {
	a, err := u.latest(r.Context(), c)
	if err != nil {
		return nil, counts{}, err
	}
	above, err := u.detections(r.Context(), c, store.DetectionQuery{Above: true, Threshold: behavior.DefaultConfig().Threshold})
	if err != nil {
		return nil, counts{}, err
	}
	if n := server.NoteFrom(r.Context()); n != nil {
		n.Objects = len(a.Campaigns)
	}
	return a, a.counts(above.Total), nil
}

type campaignView struct {
	layout
	AnalysisID  string
	C           *report.Campaign
	Alternative *report.Alternative
	Matrix      matrix
	Sensitivity []report.SensitivityRow
	Heat        template.HTML
	Timeline    template.HTML
}

func (u *UI) campaignPage(w http.ResponseWriter, r *http.Request, c *caller) {
	a, camp, err := u.findCampaign(r, c)
	if err != nil {
		u.failPage(w, err)
		return
	}
	v := campaignView{layout: u.layout(c, "Campaign "+camp.ID), AnalysisID: a.ID, C: camp, Matrix: buildMatrix(camp),
		Sensitivity: report.SensitivityRows(&camp.Attribution)}
	if len(camp.Attribution.Alternatives) > 0 {
		v.Alternative = &camp.Attribution.Alternatives[0]
	}
	off := camp.Attribution.OperatorUTCOffset
	if hourTotal(camp.HourOfWeek) > 0 {
		v.Heat = template.HTML(svg.HourOfWeek("Human-driven activity of campaign "+camp.ID+" by hour of the week (UTC)", camp.HourOfWeek, off.Hours, off.Enough, false))
	}
	v.Timeline = template.HTML(svg.TimelineChart(timeline(camp)))
	u.render(w, http.StatusOK, "campaign", v)
}

// errNotVisible answers a campaign that is absent or above the ceiling
// alike, so that no answer reveals what the key may not see.
var errNotVisible = errors.New("no such campaign")

func (u *UI) findCampaign(r *http.Request, c *caller) (*analysis, *report.Campaign, error) {
	a, err := u.latest(r.Context(), c)
	if err != nil {
		return nil, nil, err
	}
	camp, ok := a.campaign(r.PathValue("id"))
	if !ok {
		return nil, nil, errNotVisible
	}
	if n := server.NoteFrom(r.Context()); n != nil {
		n.Objects = 1
	}
	return a, camp, nil
}

func hourTotal(h [168]int) int {
	n := 0
	for _, x := range h {
		n += x
	}
	return n
}

// timeline draws the campaign's incidents, one lane per victim, over its
// human-driven events as the stored run has them.
func timeline(c *report.Campaign) svg.Timeline {
	t := svg.Timeline{Title: "Campaign " + c.ID + ": incidents by victim, human-driven events per period", Events: c.HumanEvents, MaxLanes: report.MaxTimelineLanes}
	lane := map[string]int{}
	for _, in := range c.Incidents {
		i, ok := lane[in.Victim]
		if !ok {
			i = len(t.Lanes)
			lane[in.Victim] = i
			t.Lanes = append(t.Lanes, svg.Lane{Label: in.Victim})
		}
		t.Lanes[i].Spans = append(t.Lanes[i].Spans, svg.Span{From: in.FirstSeen, To: in.LastSeen, Class: "incident",
			Title: fmt.Sprintf("%s: %d sightings, %d detections, %s – %s", in.ID, in.Sightings, in.Detections, stamp(in.FirstSeen), stamp(in.LastSeen))})
	}
	return t
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }

type detectionsView struct {
	layout
	triaged
	MayDecide bool
	Here      string // this page's address, where the forms return
	Analytics []string
	Threshold float64
	// Sorts are the column headers' links; Prev and Next page links.
	Sorts      map[string]string
	Prev, Next string
}

func (u *UI) detectionsPage(w http.ResponseWriter, r *http.Request, c *caller) {
	t, err := u.triage(r, c)
	if err != nil {
		u.failPage(w, err)
		return
	}
	v := detectionsView{layout: u.layout(c, "Detections"), triaged: t, Threshold: behavior.DefaultConfig().Threshold,
		MayDecide: c.key.Internal || c.key.Admin, Here: t.Query.link(nil),
		Analytics: []string{behavior.Beacon, behavior.LongConn, behavior.DNSTunnel, behavior.Strobe, behavior.RareDest, behavior.DGA}, Sorts: map[string]string{}}
	for _, s := range triageSorts {
		order := "desc"
		if t.Query.Sort == s && t.Query.Order == "desc" {
			order = "asc"
		}
		v.Sorts[s] = t.Query.link(map[string]string{"sort": s, "order": order, "page": "1"})
	}
	if t.Query.Page > 1 {
		v.Prev = t.Query.link(map[string]string{"page": fmt.Sprint(t.Query.Page - 1)})
	}
	if t.Query.Page < t.Pages {
		v.Next = t.Query.link(map[string]string{"page": fmt.Sprint(t.Query.Page + 1)})
	}
	u.render(w, http.StatusOK, "detections", v)
}

// triage answers the detections list of the page and of the API.
func (u *UI) triage(r *http.Request, c *caller) (triaged, error) {
	q, err := parseTriage(r.URL.Query())
	if err != nil {
		return triaged{}, badRequest{err}
	}
	size := min(u.cfg.PageSize, store.MaxDetectionPage)
	pg, err := u.detections(r.Context(), c, q.storeQuery(behavior.DefaultConfig().Threshold, size))
	if err != nil {
		return triaged{}, err
	}
	t := triaged{Query: q, Total: pg.Total, PageSize: size, Pages: (pg.Total + size - 1) / size,
		Items: pg.Items, Decisions: map[string]store.Verdict{}}
	if len(t.Items) > 0 {
		vs, err := u.st.Verdicts(r.Context(), store.VerdictQuery{Kind: store.VerdictDetection})
		if err != nil {
			return triaged{}, fmt.Errorf("reading verdicts: %w", err)
		}
		d := store.Decisions(vs)
		for _, it := range t.Items {
			if v, ok := d[store.VerdictDetection+"\x00"+it.ID]; ok {
				t.Decisions[it.ID] = v
			}
		}
	}
	if n := server.NoteFrom(r.Context()); n != nil {
		n.Objects = len(t.Items)
	}
	return t, nil
}

// link is the list's address with some parameters changed.
func (q triageQuery) link(change map[string]string) string {
	v := url.Values{}
	v.Set("sort", q.Sort)
	v.Set("order", q.Order)
	v.Set("page", fmt.Sprint(q.Page))
	if q.Analytic != "" {
		v.Set("analytic", q.Analytic)
	}
	if q.Host != "" {
		v.Set("host", q.Host)
	}
	if q.Dst != "" {
		v.Set("destination", q.Dst)
	}
	if q.MinScore > 0 {
		v.Set("min_score", fmt.Sprint(q.MinScore))
	}
	if q.All {
		v.Set("all", "true")
	}
	for k, val := range change {
		v.Set(k, val)
	}
	return "/detections?" + v.Encode()
}

// badRequest marks an error of the caller's input.
type badRequest struct{ error }

func (b badRequest) Unwrap() error { return b.error }

// status is the HTTP status an error is answered with.
func (u *UI) status(err error) (int, string) {
	var br badRequest
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, err.Error()
	case errors.As(err, &br):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, errNotVisible):
		return http.StatusNotFound, err.Error()
	case errors.Is(err, errNoAnalysis), errors.Is(err, errNoFinding), errors.Is(err, errNoActor), errors.Is(err, errNoJob):
		return http.StatusNotFound, err.Error()
	case errors.Is(err, errJobRunning), errors.Is(err, errJoinState), errors.Is(err, errJobOver):
		return http.StatusConflict, err.Error()
	case errors.Is(err, errMayNotDecide), errors.Is(err, errInternalOnly), errors.Is(err, errJobsOff), errors.Is(err, errOutsideRoot):
		return http.StatusForbidden, err.Error()
	}
	u.cfg.Log.Error("webui", "err", err)
	return http.StatusInternalServerError, "internal error (see the server's log)"
}

func (u *UI) failPage(w http.ResponseWriter, err error) {
	code, msg := u.status(err)
	u.errorPage(w, code, msg)
}
