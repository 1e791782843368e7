package storecopy

import (
	"context"
	"errors"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store"
)

// batch is how many sightings or detections go in one write.
const batch = 1000

// copyLinks adds the manual joins and undoes what was undone; the
// automatic joins the imports made again. Link ids and creation times are
// the target's own: LinkActors takes neither.
func copyLinks(ctx context.Context, from, to store.Store, c *Counts, progress Progress) error {
	links, err := from.ActorLinks(ctx)
	if err != nil {
		return err
	}
	undone := map[[2]string]bool{}
	for _, l := range links {
		if l.Rule == "manual" {
			if err := to.LinkActors(ctx, l.A, l.B, l.Detail); err != nil {
				return err
			}
			c.ManualLinks++
		}
		if l.Undone {
			undone[pair(l.A, l.B)] = true
		}
	}
	for _, l := range links {
		p := pair(l.A, l.B)
		if !undone[p] {
			continue
		}
		delete(undone, p) // once per pair: UnlinkActors undoes every join of it
		if _, err := to.UnlinkActors(ctx, l.A, l.B); err != nil {
			return err
		}
		c.UndoneLinks++
	}
	progress("actor links", len(links), len(links))
	return nil
}

func pair(a, b string) [2]string {
	if b < a {
		a, b = b, a
	}
	return [2]string{a, b}
}

// copySightings pages through the sightings in the order they were added
// and writes each page as one batch, so the target adds them in the same
// order (with its own added times).
func copySightings(ctx context.Context, from, to store.Store, c *Counts, progress Progress) error {
	var after store.Cursor
	for {
		page, err := from.SightingsPage(ctx, store.SightingQuery{}, after, batch)
		if err != nil {
			return err
		}
		if len(page.Sightings) > 0 {
			list := make([]match.Sighting, len(page.Sightings))
			for i, s := range page.Sightings {
				list[i] = s.Sighting
			}
			n, err := to.PutSightings(ctx, list)
			if err != nil {
				return err
			}
			c.Sightings += n
			progress("sightings", c.Sightings, 0)
		}
		if !page.More {
			return nil
		}
		after = page.Next
	}
}

// copyDetections writes the detections in batches as they stream.
func copyDetections(ctx context.Context, from, to store.Store, c *Counts, progress Progress) error {
	var buf []behavior.Detection
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		if err := to.PutDetections(ctx, buf); err != nil {
			return err
		}
		c.Detections += len(buf)
		progress("detections", c.Detections, 0)
		buf = buf[:0]
		return nil
	}
	err := from.Detections(ctx, func(d *behavior.Detection) error {
		buf = append(buf, *d)
		if len(buf) < batch {
			return nil
		}
		return flush()
	})
	if err != nil {
		return err
	}
	return flush()
}

// copyAnalyses stores the runs oldest first, so that they get the same
// sequence numbers, with their ids and creation times.
func copyAnalyses(ctx context.Context, from, to store.Store, c *Counts, progress Progress) error {
	runs, err := from.Analyses(ctx)
	if err != nil {
		return err
	}
	for i := len(runs) - 1; i >= 0; i-- {
		a, err := from.Analysis(ctx, runs[i].ID)
		if err != nil {
			return err
		}
		a.Seq = 0
		if _, err := to.PutAnalysis(ctx, *a); err != nil {
			return err
		}
		c.Analyses++
		progress("analyses", c.Analyses, len(runs))
	}
	return nil
}

// copyScans stores the scan summaries oldest first, with their times.
func copyScans(ctx context.Context, from, to store.Store, c *Counts, progress Progress) error {
	scans, err := from.Scans(ctx)
	if err != nil {
		return err
	}
	for _, s := range scans {
		s.Seq = 0
		if _, err := to.PutScan(ctx, s); err != nil {
			return err
		}
		c.Scans++
		progress("scans", c.Scans, len(scans))
	}
	return nil
}

// errStop ends a stream early once its answer is known.
var errStop = errors.New("stop")
