package postgres

import (
	"context"
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
	if err := s.countMarkings(ctx, st.ByMarking); err != nil {
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
// definition; an object with several markings counts for each.
func (s *Store) countMarkings(ctx context.Context, out map[string]int) error {
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
			name := markNames[m]
			if name == "" {
				name = m
			}
			out[name] += n
		}
	}
	return nil
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
