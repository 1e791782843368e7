package hunt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store"
)

// AnalysisReader reads stored analysis runs.
type AnalysisReader interface {
	Analysis(ctx context.Context, id string) (*store.Analysis, error)
}

// NoCampaignError says the latest run has no campaign of the id asked for.
type NoCampaignError struct {
	Run, ID string
	Known   []string // the run's campaign ids
}

func (e *NoCampaignError) Error() string {
	return fmt.Sprintf("run %s has no campaign %q (it has %s)", e.Run, e.ID, strings.Join(e.Known, ", "))
}

// CampaignSightings returns the test that keeps the sightings of campaign
// id of the latest stored run: those of its indicators (and its
// infrastructure's) whose source or destination is one of its victims.
// With no run stored the error wraps store.ErrNotFound; with no such
// campaign it is a *NoCampaignError.
func CampaignSightings(ctx context.Context, db AnalysisReader, id string) (func(*match.Sighting) bool, error) {
	run, err := db.Analysis(ctx, store.LatestAnalysis)
	if err != nil {
		return nil, err
	}
	var known []string
	for _, c := range run.Campaigns {
		if !strings.EqualFold(c.ID, id) {
			known = append(known, c.ID)
			continue
		}
		var data struct {
			Victims        []string `json:"victims"`
			Indicators     []string `json:"indicators"`
			Infrastructure []struct {
				Indicators []string `json:"indicators"`
			} `json:"infrastructure"`
		}
		if err := json.Unmarshal(c.Data, &data); err != nil {
			return nil, fmt.Errorf("campaign %s of run %s: %w", c.ID, run.ID, err)
		}
		// the campaign's indicators leave out those only warninglisted
		// sightings matched; its infrastructure names them too
		inds, victims := stringSet(data.Indicators), stringSet(data.Victims)
		for _, in := range data.Infrastructure {
			for _, id := range in.Indicators {
				inds[id] = true
			}
		}
		return func(sg *match.Sighting) bool {
			return inds[sg.IndicatorID] && (victims[addrString(sg.SrcIP)] || victims[addrString(sg.DstIP)])
		}, nil
	}
	return nil, &NoCampaignError{Run: run.ID, ID: id, Known: known}
}

// IsNoCampaign reports a *NoCampaignError.
func IsNoCampaign(err error) bool {
	var e *NoCampaignError
	return errors.As(err, &e)
}

func stringSet(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
