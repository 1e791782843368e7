package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// Reading shaped indicators (shape.go) back as the objects that were put.

// shapes caches stored shapes. A shape is never changed once committed,
// and the store reads only committed rows, so entries never go stale; but
// another process (an import while a watcher runs) may add shapes, so
// "every shape" is checked against the highest stored id before use.
type shapeCache struct {
	byID  map[int64]*shape
	all   bool  // every stored shape up to maxID is in byID
	maxID int64 // the highest shape id when the cache was filled
}

// shape returns stored shape id.
func (s *Store) shape(ctx context.Context, id int64) (*shape, error) {
	s.mu.Lock()
	sh, ok := s.shapes.byID[id]
	s.mu.Unlock()
	if ok {
		return sh, nil
	}
	sh, err := scanShape(s.db.QueryRowContext(ctx, "SELECT "+shapeCols+" FROM indicator_shapes WHERE id = ?", id))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.shapes.byID == nil {
		s.shapes.byID = map[int64]*shape{}
	}
	s.shapes.byID[id] = sh
	s.mu.Unlock()
	return sh, nil
}

// allShapes returns every stored shape by id.
func (s *Store) allShapes(ctx context.Context) (map[int64]*shape, error) {
	var maxID int64
	if err := s.db.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM indicator_shapes").Scan(&maxID); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.shapes.all && s.shapes.maxID == maxID {
		m := s.shapes.byID
		s.mu.Unlock()
		return m, nil
	}
	s.mu.Unlock()
	rows, err := s.db.QueryContext(ctx, "SELECT "+shapeCols+" FROM indicator_shapes")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[int64]*shape{}
	var top int64
	for rows.Next() {
		sh, err := scanShape(rows)
		if err != nil {
			return nil, err
		}
		m[sh.id] = sh
		top = max(top, sh.id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// the cache is replaced, not merged: a reader holding the old map
	// keeps a consistent one
	s.mu.Lock()
	s.shapes = shapeCache{byID: m, all: true, maxID: top}
	s.mu.Unlock()
	return m, nil
}

// forgetShapes drops the "every shape" mark after an import added some.
func (s *Store) forgetShapes() {
	s.mu.Lock()
	s.shapes.all = false
	s.mu.Unlock()
}

// shapedRowOut is a list_indicators row as read.
type shapedRowOut struct {
	id    string
	shape int64
	ob    intel.Observable
	lists string
	raw   []byte
}

func (r *shapedRowOut) scanArgs(typ *string) []any {
	return []any{&r.id, &r.shape, typ, &r.ob.Value, &r.ob.Port, &r.lists, &r.raw}
}

const shapedCols = "l.id, l.shape, l.type, l.value, l.port, l.lists, l.raw"

// shapedObject reads the shaped indicator id; nil when there is none.
func (s *Store) shapedObject(ctx context.Context, id string) (*intel.Object, *shape, error) {
	var r shapedRowOut
	var typ string
	err := s.db.QueryRowContext(ctx, "SELECT "+shapedCols+" FROM list_indicators l WHERE l.id = ?", id).Scan(r.scanArgs(&typ)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	r.ob.Type = intel.ValueType(typ)
	sh, err := s.shape(ctx, r.shape)
	if err != nil {
		return nil, nil, err
	}
	return sh.object(r.id, r.ob, r.lists, r.raw), sh, nil
}

// shapedRelationships returns the "indicates" relationships that shaped
// indicators stand for, of indicator id or towards actor id.
func (s *Store) shapedRelationships(ctx context.Context, id string) ([]*intel.Object, error) {
	var out []*intel.Object
	o, sh, err := s.shapedObject(ctx, id)
	if err != nil {
		return nil, err
	}
	if o != nil && sh.indicates != "" {
		out = append(out, impliedRelationship(o, sh.indicates))
	}
	var shapeIDs []any
	if err := func() error {
		rows, err := s.db.QueryContext(ctx, "SELECT id FROM indicator_shapes WHERE indicates = ?", id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var sid int64
			if err := rows.Scan(&sid); err != nil {
				return err
			}
			shapeIDs = append(shapeIDs, sid)
		}
		return rows.Err()
	}(); err != nil || len(shapeIDs) == 0 {
		return out, err
	}
	shapes, err := s.allShapes(ctx) // before the query holds the one connection
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, "SELECT "+shapedCols+" FROM list_indicators l WHERE l.shape IN ("+placeholders(len(shapeIDs))+")", shapeIDs...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r shapedRowOut
		var typ string
		if err := rows.Scan(r.scanArgs(&typ)...); err != nil {
			return nil, err
		}
		r.ob.Type = intel.ValueType(typ)
		sh, ok := shapes[r.shape]
		if !ok {
			return nil, fmt.Errorf("stored indicator %s: no shape %d", r.id, r.shape)
		}
		out = append(out, impliedRelationship(sh.object(r.id, r.ob, r.lists, r.raw), sh.indicates))
	}
	return out, rows.Err()
}
