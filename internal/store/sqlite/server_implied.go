package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

// A shaped indicator of a shape with an actor stands for an "indicates"
// relationship too (shape.go); a TAXII collection serves it beside its
// indicator, at the indicator's place in added order. Its page position
// is the indicator's id with impliedSuffix, which sorts right after the
// indicator and before any other id, so one cursor orders both.
const impliedSuffix = "~indicates"

// migrationImplied bounds each shape's rows in added order: a shape's
// rows are all written by the import that made it, between the shape's
// own added time and last_added, the import's last stamp. A page reads a
// shape's implied relationships over that range of the added index,
// which an index on the shape would give too, at a third more cost on
// every list import.
var migrationImplied = migration{upgrade: addShapeBounds}

// addShapeBounds adds last_added, unless a store taken back to an older
// version kept it, and fills it for the shapes with an actor.
func addShapeBounds(ctx context.Context, tx *sql.Tx) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM pragma_table_info('indicator_shapes') WHERE name = 'last_added'").Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		if _, err := tx.ExecContext(ctx, "ALTER TABLE indicator_shapes ADD COLUMN last_added TEXT NOT NULL DEFAULT ''"); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE indicator_shapes SET last_added = coalesce((SELECT max(l.added) FROM list_indicators l
		WHERE l.shape = indicator_shapes.id), '') WHERE indicates <> ''`)
	return err
}

// boundShapes records, at the end of an import, the last added time of
// the shapes with an actor it made.
func (w *writer) boundShapes(ctx context.Context) error {
	if w.addedN == 0 {
		return nil
	}
	last := fmtTime(w.addedBase.Add(time.Duration(w.addedN - 1)))
	for _, sh := range w.shapeIDs {
		if sh.indicates == "" {
			continue
		}
		if _, err := w.tx.ExecContext(ctx, "UPDATE indicator_shapes SET last_added = ? WHERE id = ?", last, sh.id); err != nil {
			return err
		}
	}
	return nil
}

// impliedIDs resolves relationship ids of q to the ids of the indicators
// whose implied relationships they are; ids that name none are dropped.
func (s *Store) impliedIDs(ctx context.Context, ids []string) ([]string, error) {
	var rels []string
	for _, id := range ids {
		if strings.HasPrefix(id, intel.TypeRelationship+"--") {
			rels = append(rels, id)
		}
	}
	if len(rels) == 0 {
		return nil, nil
	}
	byRel, err := s.impliedIndex(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range rels {
		if ind, ok := byRel[r]; ok {
			out = append(out, ind)
		}
	}
	return out, nil
}

// impliedIndex maps every implied relationship's id to its indicator's.
// The id is a hash SQL cannot invert, so the map is built in Go and kept
// until a list row is added, changed or removed: each of those moves the
// greatest added stamp (stamps only grow, and a removed greatest one
// lowers it). A removed row that leaves the stamp alone leaves an entry
// that names an indicator no longer there, which then matches nothing.
func (s *Store) impliedIndex(ctx context.Context) (map[string]string, error) {
	var token string
	if err := s.db.QueryRowContext(ctx, "SELECT coalesce(max(added), '') FROM list_indicators").Scan(&token); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.implied.byRel != nil && s.implied.token == token {
		m := s.implied.byRel
		s.mu.Unlock()
		return m, nil
	}
	s.mu.Unlock()
	rows, err := s.db.QueryContext(ctx, `SELECT l.id, sh.indicates FROM indicator_shapes sh
		JOIN list_indicators l ON l.shape = sh.id WHERE sh.indicates <> ''`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var ind, actor string
		if err := rows.Scan(&ind, &actor); err != nil {
			return nil, err
		}
		m[intel.DeriveID(intel.TypeRelationship, "indicates", ind, actor)] = ind
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.implied.token, s.implied.byRel = token, m
	s.mu.Unlock()
	return m, nil
}

// impliedCache is the last impliedIndex and the stamp it was built at.
type impliedCache struct {
	token string
	byRel map[string]string
}

// wantsImplied reports whether f can match implied relationships at all.
func (f pageFilter) wantsImplied() bool {
	if f.targets != nil {
		return false // as for stored relationships: none indicates an actor itself
	}
	if len(f.q.Types) > 0 && !contains(f.q.Types, intel.TypeRelationship) {
		return false
	}
	return len(f.q.IDs) == 0 || len(f.impliedOf) > 0
}

// impliedParts adds to a page query one part per shape with an actor:
// its rows in added order from the cursor, read as relationships.
func (f pageFilter) impliedParts(p *sqlParams, from store.ObjectPosition, shapes map[int64]*shape,
	add func(sel, table, order string, conds []string)) {
	if !f.wantsImplied() {
		return
	}
	pid := "l.id || '" + impliedSuffix + "'"
	for _, sh := range shapes {
		if sh.indicates == "" {
			continue
		}
		low := sh.added
		if !from.IsStart() {
			low = max(low, fmtTime(from.Added))
		}
		conds := []string{"l.added >= " + p.add(low), "l.added <= " + p.add(sh.lastAdded), "l.shape = " + p.add(sh.id)}
		if !from.IsStart() {
			conds = append(conds, "(l.added, "+pid+", sh.modified) > ("+p.add(fmtTime(from.Added))+", "+p.add(from.ID)+", "+p.add(fmtTime(from.Modified))+")")
		}
		conds = append(conds, f.impliedConds(p)...)
		conds = append(conds, f.versionCondsOn(p, pid, "sh.modified", true)...)
		add("l.added, "+pid+", sh.modified, NULL, l.raw, l.shape, l.type, l.value, l.port, l.lists, 1",
			"list_indicators l JOIN indicator_shapes sh ON sh.id = l.shape", "l.added, l.id", conds)
	}
}

// impliedConds is the filters other than type, actor and version on the
// implied relationships of list_indicators l.
func (f pageFilter) impliedConds(p *sqlParams) []string {
	var c []string
	if !f.q.AddedAfter.IsZero() {
		c = append(c, "l.added > "+p.add(fmtTime(f.q.AddedAfter)))
	}
	if len(f.q.IDs) > 0 {
		c = append(c, "l.id IN ("+p.list(f.impliedOf)+")")
	}
	if f.sources != nil {
		c = append(c, sourceCond(p, "l", "list", f.sources))
	}
	return c
}

// impliedRow is the relationship a page row of an implied part stands for.
func impliedRow(shapes map[int64]*shape, pid string, shapeID int64, ob intel.Observable, lists string, raw []byte) (*intel.Object, error) {
	sh, ok := shapes[shapeID]
	id, found := strings.CutSuffix(pid, impliedSuffix)
	if !ok || !found || sh.indicates == "" {
		return nil, fmt.Errorf("stored indicator %s: no shape %d with an actor", pid, shapeID)
	}
	return impliedRelationship(sh.object(id, ob, lists, raw), sh.indicates), nil
}
