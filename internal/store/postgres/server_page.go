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
// current versions (objects and list_indicators) and, when the version
// filter can match older ones, object_versions, each an index range scan
// in added order from the cursor, merged and cut at limit+1.
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

// pageRows reads up to n versions matching f after from. Every part
// selects the same columns (objectPageCols, listPageCols): position,
// stored JSON, and a shaped indicator's row.
func (s *Store) pageRows(ctx context.Context, f pageFilter, from store.ObjectPosition, n int) ([]store.PageRow, error) {
	p := &params{}
	common := pageCommon(f, from, p, "o", "o.modified")
	parts := []string{}
	if cur := curVersionConds(f.vf, p); cur != nil {
		// one part per type: each is a range of objects_type_added in
		// added order, where = ANY over several types would sort them all
		for _, ft := range f.byType() {
			conds := append(append(append([]string{}, common...), cur...), curTableConds(ft, p)...)
			parts = append(parts, "(SELECT "+objectPageCols+" FROM objects o"+whereClause(conds)+
				fmt.Sprintf(" ORDER BY o.added, o.id LIMIT %d)", n))
		}
	}
	if part, ok := listPagePart(f, from, p, n); ok {
		parts = append(parts, part)
	}
	if old := oldVersionConds(f.vf, p); old != nil {
		conds := append(append(append([]string{}, common...), old...), oldTableConds(f, p)...)
		parts = append(parts, "(SELECT "+objectPageCols+" FROM object_versions o"+whereClause(conds)+
			fmt.Sprintf(" ORDER BY o.added, o.id, o.modified LIMIT %d)", n))
	}
	if len(parts) == 0 {
		return nil, nil
	}
	query := "SELECT * FROM (" + strings.Join(parts, " UNION ALL ") + fmt.Sprintf(") v ORDER BY 1, 2, 3 LIMIT %d", n)
	var out []store.PageRow
	err := s.inSnapshot(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, query, p.args...)
		if err != nil {
			return err
		}
		var got []pageScan
		var r pageScan
		if _, err := pgx.ForEachRow(rows, r.scanTargets(), func() error {
			got = append(got, r)
			return nil
		}); err != nil {
			return err
		}
		out, err = s.pageItems(ctx, tx, got)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("objects page: %w", err)
	}
	return out, nil
}

// objectPageCols are the columns of a page's part over objects or
// object_versions (alias o), whose rows have no shape.
const objectPageCols = "o.added, o.id, o.modified, o.data, o.raw, 0::bigint, ''::text, ''::text, 0, ''::text"

// pageScan is one row of a page query: a version's position, and either
// its stored JSON (data, raw) or, for a shaped indicator (shape > 0), its
// list row.
type pageScan struct {
	row  listRow // of a full object, only added, id and raw
	mod  string
	data []byte
}

func (r *pageScan) scanTargets() []any {
	l := &r.row
	return []any{&l.added, &l.id, &r.mod, &r.data, &l.raw, &l.shape, &l.typ, &l.value, &l.port, &l.lists}
}

// pageItems decodes the rows of a page query, in their order.
func (s *Store) pageItems(ctx context.Context, q querier, got []pageScan) ([]store.PageRow, error) {
	shaped, err := s.pageListObjects(ctx, q, got)
	if err != nil {
		return nil, err
	}
	out := make([]store.PageRow, len(got))
	for i := range got {
		r := &got[i]
		o := shaped[i]
		if o == nil {
			if o, err = store.DecodeObject(r.data, r.row.raw); err != nil {
				return nil, fmt.Errorf("%s: %w", r.row.id, err)
			}
		}
		pos := store.ObjectPosition{Added: parseTime(r.row.added), ID: r.row.id, Modified: parseTime(r.mod)}
		out[i] = store.PageRow{Pos: pos, Item: store.PageItem{Object: o, Added: pos.Added, Version: store.VersionTime(o)}}
	}
	return out, nil
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

// pageCommon is the conditions every table shares, on the table
// aliased a whose version is the column mod.
func pageCommon(f pageFilter, from store.ObjectPosition, p *params, a, mod string) []string {
	var c []string
	if !from.IsStart() {
		ad, i, m := p.add(fmtTime(from.Added)), p.add(from.ID), p.add(fmtTime(from.Modified))
		// the first half is what the (added, id) index can range over
		c = append(c, "("+a+".added, "+a+".id) >= ("+ad+", "+i+")", "("+a+".added, "+a+".id, "+mod+") > ("+ad+", "+i+", "+m+")")
	}
	if !f.q.AddedAfter.IsZero() {
		c = append(c, a+".added > "+p.add(fmtTime(f.q.AddedAfter)))
	}
	if len(f.q.IDs) > 0 {
		c = append(c, a+".id = ANY("+p.add(f.q.IDs)+")")
	}
	if f.targets != nil {
		c = append(c, "EXISTS (SELECT 1 FROM relationships r WHERE r.source_ref = "+a+".id AND r.type = 'indicates' AND r.target_ref = ANY("+
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
