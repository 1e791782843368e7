package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

var _ store.ServerStore = (*Store)(nil)

// sqlParams numbers the arguments of a query as it is built (?NNN), so
// that one argument serves every part of a UNION.
type sqlParams struct{ args []any }

func (p *sqlParams) add(v any) string {
	p.args = append(p.args, v)
	return fmt.Sprintf("?%d", len(p.args))
}

// list is the placeholders of vs, for IN (…).
func (p *sqlParams) list(vs []string) string {
	ph := make([]string, len(vs))
	for i, v := range vs {
		ph[i] = p.add(v)
	}
	return strings.Join(ph, ",")
}

// pageFilter is a PageQuery with its names resolved to ids.
type pageFilter struct {
	q       store.PageQuery
	vf      store.VersionFilter
	sources []string // source ids, as text to bind; nil: no source filter
	targets []string // nil: no actor filter
	// impliedOf is the indicators whose implied relationships q.IDs
	// names (server_implied.go).
	impliedOf []string
}

// ObjectsPage implements store.ObjectPager. A page is one query over the
// three places versions live (objects, list_indicators with their shapes,
// object_versions when the version filter can match older ones), each an
// index range scan in added order from the cursor, merged and cut at
// limit+1.
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
		p := &sqlParams{}
		rows, err := s.db.QueryContext(ctx, "SELECT CAST(id AS TEXT) FROM sources WHERE name IN ("+p.list(q.Sources)+")", p.args...)
		if err != nil {
			return f, false, err
		}
		defer rows.Close()
		f.sources = []string{}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return f, false, err
			}
			f.sources = append(f.sources, id)
		}
		if err := rows.Err(); err != nil || len(f.sources) == 0 {
			return f, false, err
		}
		rows.Close()
	}
	if f.impliedOf, err = s.impliedIDs(ctx, q.IDs); err != nil {
		return f, false, err
	}
	if q.Actor != "" {
		ids, err := store.ActorCluster(ctx, s, q.Actor)
		if err != nil || len(ids) == 0 {
			return f, false, err
		}
		if f.targets, err = s.reachableTargets(ctx, ids); err != nil {
			return f, false, err
		}
	}
	return f, true, nil
}

// pageRows reads up to n versions matching f after from. Every part
// reads the same columns: position, stored JSON, a shaped indicator's
// row (shape 0 for a full object), and whether the row stands for its
// implied relationship.
func (s *Store) pageRows(ctx context.Context, f pageFilter, from store.ObjectPosition, n int) ([]store.PageRow, error) {
	// loaded before the query: its one connection is busy until the end
	shapes, err := s.allShapes(ctx)
	if err != nil {
		return nil, err
	}
	p := &sqlParams{}
	var parts []string
	add := func(sel, table, order string, conds []string) {
		parts = append(parts, "SELECT * FROM (SELECT "+sel+" FROM "+table+whereClause(conds)+" ORDER BY "+order+fmt.Sprintf(" LIMIT %d)", n))
	}
	wantIndicators := len(f.q.Types) == 0 || contains(f.q.Types, intel.TypeIndicator)
	if cur := f.versionConds(p, "o", true); cur != nil {
		// one part per type: each is a range of objects_type_added in
		// added order, where IN over several types would sort them all
		for _, ft := range f.byType() {
			add("o.added, o.id, o.modified, o.data, o.raw, 0 shape, '' vtype, '' value, 0 port, '' lists, 0 implied", "objects o", "o.added, o.id",
				append(append(pagePosition(from, p, "o", "o.modified"), cur...), ft.tableConds(p, "o", "objects")...))
		}
		if wantIndicators {
			conds := append(pagePosition(from, p, "l", "sh.modified"), f.tableConds(p, "l", "list")...)
			add("l.added, l.id, sh.modified, NULL, l.raw, l.shape, l.type, l.value, l.port, l.lists, 0",
				"list_indicators l JOIN indicator_shapes sh ON sh.id = l.shape", "l.added, l.id",
				append(conds, f.versionCondsOn(p, "l.id", "sh.modified", true)...))
		}
		f.impliedParts(p, from, shapes, add)
	}
	if old := f.versionConds(p, "o", false); old != nil {
		add("o.added, o.id, o.modified, o.data, o.raw, 0, '', '', 0, '', 0", "object_versions o", "o.added, o.id, o.modified",
			append(append(pagePosition(from, p, "o", "o.modified"), old...), f.tableConds(p, "o", "versions")...))
	}
	if len(parts) == 0 {
		return nil, nil
	}
	query := strings.Join(parts, " UNION ALL ") + fmt.Sprintf(" ORDER BY 1, 2, 3 LIMIT %d", n)
	rows, err := s.db.QueryContext(ctx, query, p.args...)
	if err != nil {
		return nil, fmt.Errorf("objects page: %w", err)
	}
	defer rows.Close()
	var out []store.PageRow
	for rows.Next() {
		var added, id, mod, vtype, value, lists string
		var data, raw []byte
		var shapeID int64
		var port int
		var implied bool
		if err := rows.Scan(&added, &id, &mod, &data, &raw, &shapeID, &vtype, &value, &port, &lists, &implied); err != nil {
			return nil, err
		}
		var o *intel.Object
		if implied {
			if o, err = impliedRow(shapes, id, shapeID, intel.Observable{Type: intel.ValueType(vtype), Value: value, Port: port}, lists, raw); err != nil {
				return nil, err
			}
		} else if shapeID == 0 {
			if o, err = store.DecodeObject(data, raw); err != nil {
				return nil, fmt.Errorf("%s: %w", id, err)
			}
		} else {
			sh, ok := shapes[shapeID]
			if !ok {
				return nil, fmt.Errorf("stored indicator %s: no shape %d", id, shapeID)
			}
			o = sh.object(id, intel.Observable{Type: intel.ValueType(vtype), Value: value, Port: port}, lists, raw)
		}
		pos := store.ObjectPosition{Added: parseTime(added), ID: id, Modified: parseTime(mod)}
		out = append(out, store.PageRow{Pos: pos, Item: store.PageItem{Object: o, Added: pos.Added, Version: store.VersionTime(o)}})
	}
	return out, rows.Err()
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

// pagePosition is the conditions of the cursor and of AddedAfter on the
// table aliased a, whose version is the column mod.
func pagePosition(from store.ObjectPosition, p *sqlParams, a, mod string) []string {
	var c []string
	if !from.IsStart() {
		ad, id, m := p.add(fmtTime(from.Added)), p.add(from.ID), p.add(fmtTime(from.Modified))
		// the first half is what the (added, id) index can range over
		c = append(c, "("+a+".added, "+a+".id) >= ("+ad+", "+id+")", "("+a+".added, "+a+".id, "+mod+") > ("+ad+", "+id+", "+m+")")
	}
	return c
}

// versionConds is the version filter on the table aliased a: current
// versions or superseded ones; nil when none can match, empty when all do.
func (f pageFilter) versionConds(p *sqlParams, a string, current bool) []string {
	return f.versionCondsOn(p, a+".id", a+".modified", current)
}

// versionCondsOn is versionConds for the object id and the version in
// the columns (or expressions) id and mod.
func (f pageFilter) versionCondsOn(p *sqlParams, id, mod string, current bool) []string {
	vf := f.vf
	if vf.All || current && vf.Last {
		return []string{}
	}
	var or []string
	if vf.First {
		or = append(or, "NOT EXISTS (SELECT 1 FROM object_versions v WHERE v.id = "+id+" AND v.modified < "+mod+")")
	}
	if len(vf.Times) > 0 {
		ts := make([]string, len(vf.Times))
		for i, t := range vf.Times {
			ts[i] = fmtTime(t)
		}
		or = append(or, mod+" IN ("+p.list(ts)+")")
	}
	if len(or) == 0 {
		return nil
	}
	return []string{"(" + strings.Join(or, " OR ") + ")"}
}

// tableConds is the conditions of the other filters on the table aliased
// a, of kind "objects", "list" (list_indicators l, shapes sh) or
// "versions" (object_versions, without type or source of their own).
func (f pageFilter) tableConds(p *sqlParams, a, kind string) []string {
	var c []string
	if !f.q.AddedAfter.IsZero() {
		c = append(c, a+".added > "+p.add(fmtTime(f.q.AddedAfter)))
	}
	if len(f.q.IDs) > 0 {
		c = append(c, a+".id IN ("+p.list(f.q.IDs)+")")
	}
	if len(f.q.Types) > 0 && kind != "list" {
		c = append(c, typeCond(p, a, kind, f.q.Types))
	}
	if f.sources != nil {
		c = append(c, sourceCond(p, a, kind, f.sources))
	}
	if f.targets != nil {
		c = append(c, actorCond(p, a, kind, f.targets))
	}
	return c
}

func typeCond(p *sqlParams, a, kind string, types []string) string {
	if kind == "objects" {
		return a + ".type IN (" + p.list(types) + ")"
	}
	var or []string
	for _, t := range types {
		lo, hi := store.TypeRange(t)
		or = append(or, "("+a+".id >= "+p.add(lo)+" AND "+a+".id < "+p.add(hi)+")")
	}
	return "(" + strings.Join(or, " OR ") + ")"
}

func sourceCond(p *sqlParams, a, kind string, sources []string) string {
	further := "EXISTS (SELECT 1 FROM object_sources os WHERE os.object_id = " + a + ".id AND os.source_id IN (" + p.list(sources) + "))"
	switch kind {
	case "objects":
		return "(" + a + ".source_id IN (" + p.list(sources) + ") OR " + further + ")"
	case "list":
		return "(sh.source_id IN (" + p.list(sources) + ") OR " + further + ")"
	}
	return "(EXISTS (SELECT 1 FROM objects x WHERE x.id = " + a + ".id AND x.source_id IN (" + p.list(sources) + ")) OR " +
		"EXISTS (SELECT 1 FROM list_indicators x JOIN indicator_shapes xs ON xs.id = x.shape WHERE x.id = " + a +
		".id AND xs.source_id IN (" + p.list(sources) + ")) OR " + further + ")"
}

func actorCond(p *sqlParams, a, kind string, targets []string) string {
	rel := "EXISTS (SELECT 1 FROM relationships r WHERE r.source_ref = " + a + ".id AND r.type = 'indicates' AND r.target_ref IN (" +
		p.list(targets) + "))"
	switch kind {
	case "objects":
		return rel
	case "list":
		return "(sh.indicates IN (" + p.list(targets) + ") OR " + rel + ")"
	}
	return "(" + rel + " OR EXISTS (SELECT 1 FROM list_indicators x JOIN indicator_shapes xs ON xs.id = x.shape WHERE x.id = " + a +
		".id AND xs.indicates IN (" + p.list(targets) + ")))"
}

// ObjectVersions implements store.ObjectPager.
func (s *Store) ObjectVersions(ctx context.Context, id string, q store.PageQuery) ([]store.PageItem, error) {
	return store.AllVersions(ctx, s, id, q)
}
