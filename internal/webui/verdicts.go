package webui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/server"
	"github.com/whodunit-project/whodunit/internal/store"
)

// maxVerdictBody bounds a verdict request.
const maxVerdictBody = 16 << 10

// errMayNotDecide is answered to a key outside the server's own
// organisation: partners read, they do not decide what is evidence.
var errMayNotDecide = errors.New("only internal or admin keys may record verdicts or run jobs")

// verdictInput is what a browser form or an API client sends.
type verdictInput struct {
	Kind     string `json:"kind"`
	Target   string `json:"target"`
	Decision string `json:"decision"`
	Note     string `json:"note"`
}

// decodeVerdict reads the JSON body of a verdict: one object, known
// fields only, nothing after it.
func decodeVerdict(r io.Reader) (verdictInput, error) {
	var in verdictInput
	dec := json.NewDecoder(io.LimitReader(r, maxVerdictBody+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, fmt.Errorf("verdict body: %w", err)
	}
	if dec.More() {
		return in, errors.New("verdict body: more than one JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return in, errors.New("verdict body: data after the JSON object")
	}
	return in, nil
}

// record checks that c may decide about the finding and see it, stores
// the verdict and, for a detection, re-applies the verdicts' allowlist
// so the triage list shows the change at once.
func (u *UI) record(ctx context.Context, c *caller, in verdictInput) (store.Verdict, error) {
	if !c.key.Internal && !c.key.Admin {
		return store.Verdict{}, errMayNotDecide
	}
	v := store.Verdict{Kind: in.Kind, Target: strings.TrimSpace(in.Target), Decision: in.Decision, Note: strings.TrimSpace(in.Note), By: c.key.Name}
	if err := store.CheckVerdict(v); err != nil {
		return v, badRequest{err}
	}
	if v.Kind == store.VerdictActorJoin {
		if err := u.applyJoin(ctx, c, v); err != nil {
			return v, err
		}
	} else {
		ind, err := u.visibleFinding(ctx, c, v.Kind, v.Target)
		if err != nil {
			return v, err
		}
		v.Indicator = ind
	}
	var err error
	if v, err = u.st.PutVerdict(ctx, v); err != nil {
		return v, fmt.Errorf("storing the verdict: %w", err)
	}
	if v.Kind == store.VerdictDetection {
		if _, err := hunt.ApplyVerdicts(ctx, u.st); err != nil {
			return v, fmt.Errorf("applying the verdicts to the detections: %w", err)
		}
	}
	return v, nil
}

// errNoFinding answers a target that is absent or above the ceiling alike.
var errNoFinding = errors.New("no such finding")

// visibleFinding finds the finding a verdict is about among those c may
// see, and returns the indicator of a sighting. A sighting is found by
// reading the stored sightings once (no store index by key yet).
func (u *UI) visibleFinding(ctx context.Context, c *caller, kind, target string) (string, error) {
	if !c.ceiling.Allows(u.cfg.DefaultTLP) {
		return "", errNoFinding
	}
	found, indicator := false, ""
	var err error
	if kind == store.VerdictDetection {
		var pg store.DetectionPage
		pg, err = u.st.DetectionsPage(ctx, store.DetectionQuery{ID: target})
		found = pg.Total > 0
	} else {
		err = u.st.Sightings(ctx, store.SightingQuery{}, func(s *match.Sighting) error {
			if !found && s.Key() == target {
				found, indicator = true, s.IndicatorID
			}
			return nil
		})
	}
	if err != nil {
		return "", fmt.Errorf("looking the finding up: %w", err)
	}
	if !found {
		return "", errNoFinding
	}
	if indicator != "" {
		ok, err := u.indicatorAllowed(ctx, c, indicator)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", errNoFinding
		}
	}
	return indicator, nil
}

// indicatorAllowed reports whether c may see what rests on an indicator.
func (u *UI) indicatorAllowed(ctx context.Context, c *caller, id string) (bool, error) {
	defs, err := report.MarkingDefinitions(ctx, u.st)
	if err != nil {
		return false, err
	}
	pg, err := u.st.ObjectsPage(ctx, store.PageQuery{IDs: []string{id}}, "", 1)
	if err != nil || len(pg.Items) == 0 {
		return false, err
	}
	return c.ceiling.Allows(max(u.cfg.DefaultTLP, defs.Of(pg.Items[0].Object, u.cfg.DefaultTLP))), nil
}

// verdictAPI records a verdict sent as JSON.
func (u *UI) verdictAPI(w http.ResponseWriter, r *http.Request, c *caller) {
	in, err := decodeVerdict(r.Body)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	v, err := u.record(r.Context(), c, in)
	if err != nil {
		u.failJSON(w, err)
		return
	}
	if n := server.NoteFrom(r.Context()); n != nil {
		n.Objects = 1
	}
	writeJSON(w, http.StatusCreated, v)
}

// verdictForm records a verdict from a page's form and returns to it.
func (u *UI) verdictForm(w http.ResponseWriter, r *http.Request, c *caller) {
	in := verdictInput{Kind: r.PostFormValue("kind"), Target: r.PostFormValue("target"),
		Decision: r.PostFormValue("decision"), Note: r.PostFormValue("note")}
	if _, err := u.record(r.Context(), c, in); err != nil {
		u.failPage(w, err)
		return
	}
	if n := server.NoteFrom(r.Context()); n != nil {
		n.Objects = 1
	}
	http.Redirect(w, r, backTo(r.PostFormValue("back")), http.StatusSeeOther)
}

// backTo is where a form returns: a page of this interface, never
// another site.
func backTo(s string) string {
	if strings.HasPrefix(s, "/detections") || strings.HasPrefix(s, "/campaigns/") || strings.HasPrefix(s, "/actors/") {
		if !strings.ContainsAny(s, "\\\r\n") && !strings.HasPrefix(s, "//") {
			return s
		}
	}
	return "/detections"
}

// verdictsAPI lists the verdicts on findings c may see.
func (u *UI) verdictsAPI(w http.ResponseWriter, r *http.Request, c *caller) {
	q := store.VerdictQuery{Kind: r.URL.Query().Get("kind"), Target: r.URL.Query().Get("target")}
	vs, err := u.visibleVerdicts(r.Context(), c, q)
	if err != nil {
		u.failJSON(w, err)
		return
	}
	if n := server.NoteFrom(r.Context()); n != nil {
		n.Objects = len(vs)
	}
	writeJSON(w, http.StatusOK, map[string]any{"verdicts": vs})
}

// visibleVerdicts are the verdicts matching q on findings c may see: all
// or none of the telemetry's, sightings' by their indicator, actor joins'
// by both actor records.
func (u *UI) visibleVerdicts(ctx context.Context, c *caller, q store.VerdictQuery) ([]store.Verdict, error) {
	out := []store.Verdict{}
	if !c.ceiling.Allows(u.cfg.DefaultTLP) {
		return out, nil
	}
	vs, err := u.st.Verdicts(ctx, q)
	if err != nil {
		return nil, err
	}
	allowed := map[string]bool{} // by what decides: an indicator, a join
	for _, v := range vs {
		var by string
		var check func() (bool, error)
		switch v.Kind {
		case store.VerdictActorJoin:
			by, check = v.Target, func() (bool, error) { return u.joinVisible(ctx, c, v.Target) }
		case store.VerdictSighting:
			by, check = v.Indicator, func() (bool, error) { return u.indicatorAllowed(ctx, c, v.Indicator) }
		}
		if check != nil {
			ok, seen := allowed[by]
			if !seen {
				if ok, err = check(); err != nil {
					return nil, err
				}
				allowed[by] = ok
			}
			if !ok {
				continue
			}
		}
		out = append(out, v)
	}
	return out, nil
}
