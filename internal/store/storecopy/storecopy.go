// Package storecopy moves everything one store holds into another, empty,
// store through the store role interfaces alone, so that any two
// implementations (SQLite to PostgreSQL and back) can be copied between.
//
// Intelligence is replayed source by source, oldest first: each source
// becomes one Import carrying the objects that source asserted, so the
// target's own rules (latest modified is current, first source is the
// object's source, automatic actor joins) rebuild the same state.
//
// What the interfaces do not carry, and so a copy does not keep exactly:
// which source gave which version of an object (versions go to the
// object's sources in import order, the last source taking the rest);
// which source gave which warninglist (read from each source's summary
// count); the display case of a name a later source re-asserted; a later
// list's latent claim on an implied "indicates" relationship; the ids and
// creation times of actor joins; and the added time of sightings (their
// order is kept). Objects no source lists are counted, not copied.
package storecopy

import (
	"context"
	"errors"
	"fmt"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/store"
)

// Counts says how much was copied.
type Counts struct {
	Sources      int `json:"sources"`
	Objects      int `json:"objects"`  // current objects
	Versions     int `json:"versions"` // object versions put, current ones included
	Warninglists int `json:"warninglists"`
	ManualLinks  int `json:"manual_links"` // actor joins made by hand
	UndoneLinks  int `json:"undone_links"` // actor pairs whose joins were undone
	Sightings    int `json:"sightings"`
	Detections   int `json:"detections"`
	Analyses     int `json:"analyses"`
	Scans        int `json:"scans"`
	Observations int `json:"observations"` // the observable index's values
	// Unsourced objects are listed by no source and were not copied.
	Unsourced int `json:"unsourced_objects"`
}

// Progress is told how far a stage got: done of total (total 0 when not
// known beforehand).
type Progress func(stage string, done, total int)

// ErrTargetNotEmpty is returned when the target already holds data:
// copying into it would merge two stores, which is not a copy.
var ErrTargetNotEmpty = errors.New("target store is not empty")

// Copy copies everything from holds into to, which must be empty.
// progress may be nil.
func Copy(ctx context.Context, from, to store.Store, progress Progress) (Counts, error) {
	if progress == nil {
		progress = func(string, int, int) {}
	}
	var c Counts
	if err := checkEmpty(ctx, to); err != nil {
		return c, err
	}
	steps := []struct {
		name string
		fn   func(context.Context, store.Store, store.Store, *Counts, Progress) error
	}{
		{"intelligence", copyIntel},
		{"actor links", copyLinks},
		{"sightings", copySightings},
		{"detections", copyDetections},
		{"analyses", copyAnalyses},
		{"scans", copyScans},
		{"the observable index", copyObservations},
	}
	for _, s := range steps {
		if err := s.fn(ctx, from, to, &c, progress); err != nil {
			return c, fmt.Errorf("copying %s: %w", s.name, err)
		}
	}
	return c, nil
}

// checkEmpty refuses a target with any source, sighting, detection,
// analysis, scan or indexed value.
func checkEmpty(ctx context.Context, to store.Store) error {
	srcs, err := to.Sources(ctx)
	if err != nil {
		return err
	}
	page, err := to.SightingsPage(ctx, store.SightingQuery{}, "", 1)
	if err != nil {
		return err
	}
	runs, err := to.Analyses(ctx)
	if err != nil {
		return err
	}
	scans, err := to.Scans(ctx)
	if err != nil {
		return err
	}
	wl, err := to.Warninglists(ctx)
	if err != nil {
		return err
	}
	obs, err := to.ObservationStats(ctx)
	if err != nil {
		return err
	}
	dets := 0
	err = to.Detections(ctx, func(*behavior.Detection) error { dets++; return errStop })
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	if len(srcs)+len(page.Sightings)+len(runs)+len(scans)+len(wl)+dets+int(obs.Values) > 0 {
		return fmt.Errorf("%w: %d sources, %d warninglists, %d analyses, %d scans, %d indexed values; sightings: %v, detections: %v",
			ErrTargetNotEmpty, len(srcs), len(wl), len(runs), len(scans), obs.Values, len(page.Sightings) > 0, dets > 0)
	}
	return nil
}
