package taxii

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/apikey"
	"github.com/whodunit-project/whodunit/internal/export"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

// stixTime is the STIX timestamp form (milliseconds, UTC).
const stixTime = "2006-01-02T15:04:05.000Z"

// readFindings pages what the findings collection holds in date-added
// order: the stored sightings as STIX sightings, merged with the objects
// of the latest analysis (analysisBlock), which are all added at the
// analysis's created time and come after the sightings of that instant.
// Both kinds are withheld above the key's ceiling.
func (s *Server) readFindings(ctx context.Context, key store.APIKey, q query) (result, error) {
	pos, err := parseFindingsPos(q.after)
	if err != nil {
		return result{}, err
	}
	sight, err := s.readSightings(ctx, key, q, pos.Sightings)
	if err != nil {
		return result{}, err
	}
	block, err := s.dueBlock(ctx, key, q, pos)
	if err != nil {
		return result{}, err
	}
	res := result{}
	i, j := 0, 0
	for len(res.entries) < q.limit && (i < len(sight.entries) || j < len(block)) {
		if j == len(block) || i < len(sight.entries) && !sight.entries[i].added.After(block[j].added) {
			e := sight.entries[i]
			res.entries = append(res.entries, e)
			pos.Sightings, pos.LastSighting = e.after, e.added
			i++
			continue
		}
		res.entries = append(res.entries, block[j].entry)
		pos.BlockTime, pos.BlockID = block[j].added, block[j].id
		j++
	}
	if i == len(sight.entries) {
		pos.Sightings = sight.next // past the withheld ones read after the last taken
	}
	res.more = j < len(block) || i < len(sight.entries) || sight.more
	res.next = pos.encode()
	return res, nil
}

// dueBlock is the analysis objects the key may see that are still to be
// served after pos and pass the client's filters.
func (s *Server) dueBlock(ctx context.Context, key store.APIKey, q query, pos findingsPos) ([]blockEntry, error) {
	block, err := s.analysisBlock(ctx)
	if err != nil {
		return nil, err
	}
	ceiling := apikey.Ceiling(key)
	var due []blockEntry
	for _, e := range block {
		t, _, _ := strings.Cut(e.id, "--")
		if e.added.After(q.AddedAfter) && pos.blockDue(e.added, e.id) && ceiling.Allows(e.level) &&
			matchesAny(q.Types, t) && matchesAny(q.SpecVersions, "2.1") && q.keeps(e.entry) {
			due = append(due, e)
		}
	}
	return due, nil
}

// readSightings pages the stored sightings after the store position
// after as STIX sightings. A sighting is as sensitive as the indicator it
// names: it takes the indicator's level when that is above the default,
// and is withheld with it. Each entry carries its own store position.
func (s *Server) readSightings(ctx context.Context, key store.APIKey, q query, after store.Cursor) (result, error) {
	res := result{next: after}
	if !matchesAny(q.Types, intel.TypeSighting) || !matchesAny(q.SpecVersions, "2.1") {
		return res, nil
	}
	ceiling := apikey.Ceiling(key)
	for range maxReads {
		pg, err := s.st.SightingsPage(ctx, store.SightingQuery{AddedAfter: q.AddedAfter}, res.next, s.readSize(q.limit))
		if err != nil {
			return res, err
		}
		levels, err := s.indicatorLevels(ctx, pg.Sightings)
		if err != nil {
			return res, err
		}
		res.next, res.more = pg.Next, pg.More
		for i, ss := range pg.Sightings {
			lvl := max(s.cfg.DefaultTLP, levels[ss.Sighting.IndicatorID])
			if e, ok := sightingEntry(ss, lvl); ok && ceiling.Allows(lvl) && q.keeps(e) {
				res.entries = append(res.entries, e)
			}
			if len(res.entries) == q.limit && i < len(pg.Sightings)-1 {
				res.next, res.more = store.NewCursor(ss.Added, ss.Sighting.Key()), true
				return res, nil
			}
		}
		if !pg.More || len(res.entries) >= q.limit {
			break
		}
	}
	return res, nil
}

func matchesAny(filter []string, v string) bool {
	return len(filter) == 0 || slices.Contains(filter, v)
}

// keeps applies the id and version filters to a sighting, which has one
// version only.
func (q *query) keeps(e entry) bool {
	if !matchesAny(q.IDs, e.id) {
		return false
	}
	for _, v := range q.Versions {
		switch v {
		case "first", "last", "all":
			return true
		}
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil && t.Equal(e.version) {
			return true
		}
	}
	return len(q.Versions) == 0
}

// indicatorLevels is the TLP level of each indicator a page of sightings
// names, read in one store query; unknown indicators are left out.
func (s *Server) indicatorLevels(ctx context.Context, ss []store.StoredSighting) (map[string]tlp.Level, error) {
	var ids []string
	for _, x := range ss {
		if !slices.Contains(ids, x.Sighting.IndicatorID) {
			ids = append(ids, x.Sighting.IndicatorID)
		}
	}
	levels := map[string]tlp.Level{}
	if len(ids) == 0 {
		return levels, nil
	}
	pg, err := s.st.ObjectsPage(ctx, store.PageQuery{IDs: ids}, "", len(ids))
	if err != nil {
		return nil, err
	}
	for _, it := range pg.Items {
		levels[it.Object.ID] = tlp.Of(it.Object, s.cfg.DefaultTLP)
	}
	return levels, nil
}

// sightingEntry renders one stored sighting as a STIX 2.1 sighting of its
// indicator (export.SightingObject), as the findings collection serves it.
func sightingEntry(ss store.StoredSighting, lvl tlp.Level) (entry, bool) {
	id, raw, ok := export.SightingObject(ss.Sighting, ss.Added, lvl)
	if !ok {
		return entry{}, false
	}
	return entry{id: id, raw: raw, added: ss.Added, version: ss.Added.UTC().Truncate(time.Millisecond),
		after: store.NewCursor(ss.Added, ss.Sighting.Key())}, true
}
