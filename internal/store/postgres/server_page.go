package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/whodunit-project/whodunit/internal/store"
)

var _ store.ServerStore = (*Store)(nil)

// pageFilter is a PageQuery with its names resolved to ids.
type pageFilter struct {
	q       store.PageQuery
	vf      store.VersionFilter
	sources []int64  // nil: no source filter
	targets []string // nil: no actor filter
}

// ObjectsPage implements store.ObjectPager. A page is one query: the
// current versions (objects) and, when the version filter can match
// older ones, object_versions, each an index range scan in added order
// from the cursor, merged and cut at limit+1.
func (s *Store) ObjectsPage(ctx context.Context, q store.PageQuery, after store.Cursor, limit int) (store.ObjectPage, error) {
	from, err := after.ObjectPosition()
	if err != nil {
		return store.ObjectPage{Next: after}, err
	}
	f, ok, err := s.resolvePage(ctx, q)
	if err != nil || !ok {
		return store.ObjectPage{Next: after}, err
	}
	return store.CollectPage(from, after, limit, store.SpecVersionFilter(q.SpecVersions),
		func(from store.ObjectPosition, n int) ([]store.PageRow, error) { return s.pageRows(ctx, f, from, n) })
}

// resolvePage resolves q's source names and actor; ok is false when one
// of them names nothing, so that nothing can match.
func (s *Store) resolvePage(ctx context.Context, q store.PageQuery) (pageFilter, bool, error) {
	f := pageFilter{q: q}
	var err error
	if f.vf, err = store.ParseVersions(q.Versions); err != nil {
		return f, false, err
	}
	if len(q.Sources) > 0 {
		rows, err := s.pool.Query(ctx, "SELECT id FROM sources WHERE name = ANY($1)", q.Sources)
		if err != nil {
			return f, false, err
		}
		if f.sources, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil || len(f.sources) == 0 {
			return f, false, err
		}
	}
	if q.Actor != "" {
		if f.targets, err = s.actorTargets(ctx, q.Actor); err != nil || len(f.targets) == 0 {
			return f, false, err
		}
	}
	return f, true, nil
}

// pageRows reads up to n versions matching f after from.
func (s *Store) pageRows(ctx context.Context, f pageFilter, from store.ObjectPosition, n int) ([]store.PageRow, error) {
	p := &params{}
	common := pageCommon(f, from, p)
	parts := []string{}
	if cur := curVersionConds(f.vf, p); cur != nil {
		// one part per type: each is a range of objects_type_added in
		// added order, where = ANY over several types would sort them all
		for _, ft := range f.byType() {
			conds := append(append(append([]string{}, common...), cur...), curTableConds(ft, p)...)
			parts = append(parts, "(SELECT added, id, modified, data, raw FROM objects o"+whereClause(conds)+
				fmt.Sprintf(" ORDER BY added, id LIMIT %d)", n))
		}
	}
	if old := oldVersionConds(f.vf, p); old != nil {
		conds := append(append(append([]string{}, common...), old...), oldTableConds(f, p)...)
		parts = append(parts, "(SELECT added, id, modified, data, raw FROM object_versions o"+whereClause(conds)+
			fmt.Sprintf(" ORDER BY added, id, modified LIMIT %d)", n))
	}
	if len(parts) == 0 {
		return nil, nil
	}
	query := "SELECT * FROM (" + strings.Join(parts, " UNION ALL ") + fmt.Sprintf(") v ORDER BY 1, 2, 3 LIMIT %d", n)
	rows, err := s.pool.Query(ctx, query, p.args...)
	if err != nil {
		return nil, fmt.Errorf("objects page: %w", err)
	}
	var out []store.PageRow
	var added, id, mod string
	var data, raw []byte
	_, err = pgx.ForEachRow(rows, []any{&added, &id, &mod, &data, &raw}, func() error {
		o, err := store.DecodeObject(data, raw)
		if err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		pos := store.ObjectPosition{Added: parseTime(added), ID: id, Modified: parseTime(mod)}
		out = append(out, store.PageRow{Pos: pos, Item: store.PageItem{Object: o, Added: pos.Added, Version: store.VersionTime(o)}})
		return nil
	})
	return out, err
}

// byType splits f into one filter per type of q.Types; f itself when it
// has at most one.
func (f pageFilter) byType() []pageFilter {
	if len(f.q.Types) <= 1 {
		return []pageFilter{f}
	}
	out := make([]pageFilter, len(f.q.Types))
	for i, t := range f.q.Types {
		out[i] = f
		out[i].q.Types = []string{t}
	}
	return out
}

// pageCommon is the conditions both tables share (alias o).
func pageCommon(f pageFilter, from store.ObjectPosition, p *params) []string {
	var c []string
	if !from.IsStart() {
		a, i, m := p.add(fmtTime(from.Added)), p.add(from.ID), p.add(fmtTime(from.Modified))
		// the first half is what the (added, id) index can range over
		c = append(c, "(o.added, o.id) >= ("+a+", "+i+")", "(o.added, o.id, o.modified) > ("+a+", "+i+", "+m+")")
	}
	if !f.q.AddedAfter.IsZero() {
		c = append(c, "o.added > "+p.add(fmtTime(f.q.AddedAfter)))
	}
	if len(f.q.IDs) > 0 {
		c = append(c, "o.id = ANY("+p.add(f.q.IDs)+")")
	}
	if f.targets != nil {
		c = append(c, "EXISTS (SELECT 1 FROM relationships r WHERE r.source_ref = o.id AND r.type = 'indicates' AND r.target_ref = ANY("+
			p.add(f.targets)+"))")
	}
	return c
}

// curTableConds is the conditions on objects of the type and source filters.
func curTableConds(f pageFilter, p *params) []string {
	var c []string
	if len(f.q.Types) > 0 {
		c = append(c, "o.type = "+p.add(f.q.Types[0])) // byType made it one
	}
	if f.sources != nil {
		sids := p.add(f.sources)
		c = append(c, "(o.source_id = ANY("+sids+") OR EXISTS (SELECT 1 FROM object_sources os WHERE os.object_id = o.id AND NOT os.latent AND os.source_id = ANY("+sids+")))")
	}
	return c
}

// oldTableConds is the same for object_versions, whose rows have neither
// a type (the id's prefix is it) nor a source (the object's are theirs).
func oldTableConds(f pageFilter, p *params) []string {
	var c []string
	if len(f.q.Types) > 0 {
		var or []string
		for _, t := range f.q.Types {
			lo, hi := store.TypeRange(t)
			or = append(or, "(o.id >= "+p.add(lo)+" AND o.id < "+p.add(hi)+")")
		}
		c = append(c, "("+strings.Join(or, " OR ")+")")
	}
	if f.sources != nil {
		sids := p.add(f.sources)
		c = append(c, "(EXISTS (SELECT 1 FROM objects x WHERE x.id = o.id AND x.source_id = ANY("+sids+
			")) OR EXISTS (SELECT 1 FROM object_sources os WHERE os.object_id = o.id AND NOT os.latent AND os.source_id = ANY("+sids+")))")
	}
	return c
}

// curVersionConds is the version filter on current versions: nil when
// none can match, empty when all do.
func curVersionConds(vf store.VersionFilter, p *params) []string {
	if vf.Last || vf.All {
		return []string{}
	}
	var or []string
	if vf.First {
		or = append(or, "NOT EXISTS (SELECT 1 FROM object_versions v WHERE v.id = o.id AND v.modified < o.modified)")
	}
	if len(vf.Times) > 0 {
		or = append(or, "o.modified = ANY("+p.add(fmtTimes(vf))+")")
	}
	if len(or) == 0 {
		return nil
	}
	return []string{"(" + strings.Join(or, " OR ") + ")"}
}

// oldVersionConds is the same for superseded versions, never the last.
func oldVersionConds(vf store.VersionFilter, p *params) []string {
	if vf.All {
		return []string{}
	}
	var or []string
	if vf.First {
		or = append(or, "NOT EXISTS (SELECT 1 FROM object_versions v WHERE v.id = o.id AND v.modified < o.modified)")
	}
	if len(vf.Times) > 0 {
		or = append(or, "o.modified = ANY("+p.add(fmtTimes(vf))+")")
	}
	if len(or) == 0 {
		return nil
	}
	return []string{"(" + strings.Join(or, " OR ") + ")"}
}

func fmtTimes(vf store.VersionFilter) []string {
	out := make([]string, len(vf.Times))
	for i, t := range vf.Times {
		out[i] = fmtTime(t)
	}
	return out
}

// ObjectVersions implements store.ObjectPager.
func (s *Store) ObjectVersions(ctx context.Context, id string, q store.PageQuery) ([]store.PageItem, error) {
	return store.AllVersions(ctx, s, id, q)
}
