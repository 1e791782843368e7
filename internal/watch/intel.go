package watch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/whodunit-project/whodunit/internal/hunt"
)

// intelVersion is a cheap sign of the store's intelligence: every import
// (a file, a feed, a TAXII pull) and every source deletion changes the
// list of sources, which is much smaller than the indicators.
func intelVersion(ctx context.Context, db Store) (string, error) {
	srcs, err := db.Sources(ctx)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, s := range srcs {
		fmt.Fprintf(h, "%d\x00%s\x00%s\x00%s\x00%d\n", s.ID, s.Name, s.SHA256, s.Format, s.ImportedAt.UnixNano())
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// refreshIntel builds a new snapshot when the store's intelligence
// changed (always when first is set) and swaps it in atomically; matching
// already under way finishes on the old snapshot.
func (w *watcher) refreshIntel(ctx context.Context, now time.Time, first bool) error {
	if !first && now.Before(w.intelNext) {
		return nil
	}
	w.intelNext = now.Add(w.opt.IntelEvery)
	ver, err := intelVersion(ctx, w.db)
	if err != nil {
		return err
	}
	if !first && ver == w.intelVer {
		return nil
	}
	snap, err := hunt.BuildSnapshot(ctx, w.db, w.log)
	if err != nil {
		return err
	}
	w.snap.Store(snap)
	w.intelVer = ver
	w.stats.Snapshots++
	if w.opt.OnSnapshot != nil {
		w.opt.OnSnapshot(snap)
	}
	w.log.Info("matcher snapshot", "version", snap.Version(), "indicators", snap.Len())
	return nil
}
