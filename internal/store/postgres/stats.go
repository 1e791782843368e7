package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

// IntelStats implements store.Store, counting as the SQLite store does.
func (s *Store) IntelStats(ctx context.Context) (store.IntelStats, error) {
	st := store.IntelStats{Objects: map[string]int{}, IndicatorTypes: map[string]int{}, BySource: map[string]int{},
		ByActor: map[string]int{}, ByMarking: map[string]int{}}
	for q, m := range map[string]map[string]int{
		"SELECT type, count(*) FROM objects GROUP BY type":                              st.Objects,
		"SELECT type, count(DISTINCT indicator_id) FROM indicator_values GROUP BY type": st.IndicatorTypes,
		`SELECT s.name, count(*) FROM (SELECT source_id FROM objects UNION ALL SELECT source_id FROM object_sources WHERE NOT latent) x
			JOIN sources s ON s.id = x.source_id GROUP BY s.name`: st.BySource,
	} {
		if err := s.countInto(ctx, q, m); err != nil {
			return st, err
		}
	}
	var patternOnly int
	for q, dst := range map[string]*int{
		"SELECT count(*) FROM object_versions": &st.Versions,
		"SELECT count(*) FROM sources":         &st.Sources,
		"SELECT count(*) FROM warninglists":    &st.Warninglists,
		// the flags of current indicators are columns of match_indicators
		"SELECT count(*) FROM match_indicators WHERE vals = '' AND flags & 1 = 0": &patternOnly,
		"SELECT count(*) FROM match_indicators WHERE flags & 1 <> 0":              &st.HostOnly,
		"SELECT count(*) FROM match_indicators WHERE flags & 3 = 0":               &st.Network,
		"SELECT count(*) FROM match_indicators WHERE flags & 2 <> 0":              &st.Context,
		"SELECT count(*) FROM objects WHERE type = 'indicator' AND revoked":       &st.Revoked,
		"SELECT count(*) FROM match_indicators WHERE lists <> ''":                 &st.Warninglisted,
	} {
		if err := s.pool.QueryRow(ctx, q).Scan(dst); err != nil {
			return st, err
		}
	}
	if patternOnly > 0 {
		st.IndicatorTypes["stix-pattern"] = patternOnly
	}
	listMarks, err := s.listStats(ctx, &st)
	if err != nil {
		return st, err
	}
	if err := s.countMarkings(ctx, st.ByMarking, listMarks); err != nil {
		return st, err
	}
	return st, s.indicatorsByActor(ctx, st.ByActor)
}

// countInto adds the (key, count) rows of q to m.
func (s *Store) countInto(ctx context.Context, q string, m map[string]int) error {
	rows, err := s.pool.Query(ctx, q)
	if err != nil {
		return err
	}
	var k string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&k, &n}, func() error {
		m[k] += n
		return nil
	})
	return err
}

// countMarkings counts objects per marking, named by the marking
// definition; an object with several markings counts for each. byID
// holds counts by marking id to add, and is added to.
func (s *Store) countMarkings(ctx context.Context, out, byID map[string]int) error {
	markNames := map[string]string{}
	if err := s.Objects(ctx, store.ObjectQuery{Types: []string{intel.TypeMarkingDef}}, func(o *intel.Object) error {
		markNames[o.ID] = o.Name
		return nil
	}); err != nil {
		return err
	}
	bySet := map[string]int{}
	if err := s.countInto(ctx, `SELECT markings, count(*) FROM objects WHERE markings <> '' AND type <> 'marking-definition' GROUP BY markings`,
		bySet); err != nil {
		return err
	}
	for set, n := range bySet {
		for _, m := range strings.Split(set, "\n") {
			byID[m] += n
		}
	}
	for m, n := range byID {
		name := markNames[m]
		if name == "" {
			name = m
		}
		out[name] += n
	}
	return nil
}

// listCount is the number of a shape's list rows of one value type,
// warninglisted or not.
type listCount struct {
	shape  int64
	typ    string
	listed bool
	n      int
}

// listStats adds the shaped indicators (shapes.go) to st as the full
// objects they stand for, and returns their counts by marking id. What
// they share is in their shape, so the rows are only counted per shape.
func (s *Store) listStats(ctx context.Context, st *store.IntelStats) (map[string]int, error) {
	var counts []listCount
	var shapes map[int64]*listShape
	var names map[int64]string
	// the counts, their shapes and sources from one snapshot, so that a
	// source deleted meanwhile is in none
	err := s.inSnapshot(ctx, func(tx pgx.Tx) error {
		var err error
		if counts, err = countListRows(ctx, tx); err != nil {
			return err
		}
		ids := make([]int64, len(counts))
		for i := range counts {
			ids[i] = counts[i].shape
		}
		if shapes, err = s.listShapes(ctx, tx, ids); err != nil {
			return err
		}
		names, err = sourceNames(ctx, tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	marks := map[string]int{}
	for _, c := range counts {
		sh, ok := shapes[c.shape]
		if !ok {
			return nil, fmt.Errorf("stored indicators of missing shape %d", c.shape)
		}
		addListCount(st, sh, c)
		st.BySource[names[sh.sourceID]] += c.n
		for _, m := range sh.tmpl.Markings {
			marks[m] += c.n
		}
	}
	return marks, nil
}

// countListRows counts the list rows by shape, value type and whether
// they are warninglisted.
func countListRows(ctx context.Context, q querier) ([]listCount, error) {
	rows, err := q.Query(ctx, "SELECT shape, type, lists <> '', count(*) FROM list_indicators GROUP BY shape, type, lists <> ''")
	if err != nil {
		return nil, err
	}
	var out []listCount
	var c listCount
	_, err = pgx.ForEachRow(rows, []any{&c.shape, &c.typ, &c.listed, &c.n}, func() error {
		out = append(out, c)
		return nil
	})
	return out, err
}

// addListCount adds c's indicators, of shape sh, to st where a full
// indicator counts: its type, value type, match flags and warninglists.
func addListCount(st *store.IntelStats, sh *listShape, c listCount) {
	st.Objects[intel.TypeIndicator] += c.n
	st.IndicatorTypes[c.typ] += c.n
	if c.listed {
		st.Warninglisted += c.n
	}
	if sh.tmpl.Revoked {
		st.Revoked += c.n
	}
	ind := sh.tmpl.Indicator
	if ind.HostOnly {
		st.HostOnly += c.n
	}
	if ind.Context {
		st.Context += c.n
	}
	if !ind.HostOnly && !ind.Context {
		st.Network += c.n
	}
}

// sourceNames returns the name of every source by id.
func sourceNames(ctx context.Context, q querier) (map[int64]string, error) {
	rows, err := q.Query(ctx, "SELECT id, name FROM sources")
	if err != nil {
		return nil, err
	}
	out := map[int64]string{}
	var id int64
	var name string
	_, err = pgx.ForEachRow(rows, []any{&id, &name}, func() error {
		out[id] = name
		return nil
	})
	return out, err
}

// indicatorsByActor follows "indicates" to actors, resolved through actor
// links, and counts the indicators of each.
func (s *Store) indicatorsByActor(ctx context.Context, out map[string]int) error {
	actorName, err := store.CanonicalActorNames(ctx, s)
	if err != nil {
		return err
	}
	perTarget := map[string]int{}
	if err := s.countInto(ctx, `SELECT target_ref, count(DISTINCT source_ref) FROM relationships WHERE type = 'indicates' GROUP BY target_ref`,
		perTarget); err != nil {
		return err
	}
	for target, n := range perTarget {
		if name, ok := actorName(target); ok {
			out[name] += n
		}
	}
	return nil
}
