package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/listshape"
)

// Indicators of a list that differ only by value are kept as one narrow
// row each of list_indicators, pointing at a shape that holds what they
// share (listshape). Every object row costs its JSON, four more tables
// and eight index entries; a list row costs one row and two entries,
// which is what lets a million-line list import in seconds.
//
// Only an indicator whose id is new to the store is shaped, and a shaped
// indicator has exactly one source and one version. Anything that would
// change that (a second source asserting it, another version of it)
// first turns it back into a full object (unshape), so that every other
// write path deals with full objects only. A list's "indicates"
// relationships are stored as full objects.

// migrationListShapes is schema version 7. Shape ids come from a
// sequence in blocks of maxShapes (its increment), one block taken when
// an import starts, so that the import allocates them without a round
// trip while its batches are sent, and an id is never given twice
// (readers cache shapes by id). Tests that put
// the schema version back run it again, hence IF NOT EXISTS.
const migrationListShapes = `
CREATE SEQUENCE IF NOT EXISTS indicator_shape_blocks INCREMENT BY 4096;
CREATE TABLE IF NOT EXISTS indicator_shapes (
	id        bigint PRIMARY KEY,
	source_id bigint NOT NULL,
	modified  ctext NOT NULL, -- objects.modified of every indicator of the shape
	pattern   ctext NOT NULL, -- listshape's pattern mode
	raw       ctext NOT NULL, -- listshape's raw mode
	template  bytea NOT NULL  -- the shared fields, as objects.data
);
CREATE INDEX IF NOT EXISTS indicator_shapes_source ON indicator_shapes(source_id);
CREATE TABLE IF NOT EXISTS list_indicators (
	id    ctext PRIMARY KEY,
	shape bigint NOT NULL,
	type  ctext NOT NULL,
	value ctext NOT NULL,
	port  integer NOT NULL,
	lists ctext NOT NULL, -- warninglists, newline-separated
	raw   bytea,          -- only for the raw mode "row"
	added ctext NOT NULL
);
CREATE INDEX IF NOT EXISTS list_indicators_added ON list_indicators(added, id);
`

// maxShapes bounds the shapes of one import (the sequence's increment):
// indicators that share little but their value are cheaper as full
// objects than as a shape each.
const maxShapes = 4096

// listShape is a stored shape.
type listShape struct {
	id       int64
	sourceID int64
	modified string // as objects.modified
	pattern  string
	raw      string
	tmpl     intel.Object
}

// object rebuilds the indicator of row r.
func (sh *listShape) object(r *listRow) *intel.Object {
	return listshape.Rebuild(&sh.tmpl, sh.pattern, sh.raw, r.id, r.observable(), r.lists, r.raw)
}

// listRow is one row of list_indicators.
type listRow struct {
	id, typ, value, lists, added string
	shape                        int64
	port                         int
	raw                          []byte
}

func (r *listRow) observable() intel.Observable {
	return intel.Observable{Type: intel.ValueType(r.typ), Value: r.value, Port: r.port}
}

// listCols are the columns of list_indicators that scanTargets reads.
const listCols = "l.id, l.shape, l.type, l.value, l.port, l.lists, l.raw, l.added"

func (r *listRow) scanTargets() []any {
	return []any{&r.id, &r.shape, &r.typ, &r.value, &r.port, &r.lists, &r.raw, &r.added}
}

// shapeCache holds stored shapes by id. A shape never changes once
// committed and its id is never reused, so an entry never goes stale.
type shapeCache struct {
	mu   sync.Mutex
	byID map[int64]*listShape
}

// listShapes returns the stored shapes of ids, from the cache or read.
func (s *Store) listShapes(ctx context.Context, q querier, ids []int64) (map[int64]*listShape, error) {
	out := make(map[int64]*listShape, len(ids))
	var missing []int64
	s.shapes.mu.Lock()
	for _, id := range ids {
		if sh, ok := s.shapes.byID[id]; ok {
			out[id] = sh
		} else if _, dup := out[id]; !dup {
			missing = append(missing, id)
		}
	}
	s.shapes.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	rows, err := q.Query(ctx, "SELECT id, source_id, modified, pattern, raw, template FROM indicator_shapes WHERE id = ANY($1)", missing)
	if err != nil {
		return nil, err
	}
	var sh listShape
	var tmpl []byte
	if _, err := pgx.ForEachRow(rows, []any{&sh.id, &sh.sourceID, &sh.modified, &sh.pattern, &sh.raw, &tmpl}, func() error {
		o, err := store.DecodeObject(tmpl, nil)
		if err != nil {
			return fmt.Errorf("stored indicator shape %d: %w", sh.id, err)
		}
		got := sh
		got.tmpl = *o
		if got.tmpl.Indicator == nil {
			got.tmpl.Indicator = &intel.IndicatorSpec{}
		}
		out[got.id] = &got
		return nil
	}); err != nil {
		return nil, err
	}
	s.shapes.mu.Lock()
	if s.shapes.byID == nil {
		s.shapes.byID = map[int64]*listShape{}
	}
	for _, id := range missing {
		if sh, ok := out[id]; ok {
			s.shapes.byID[id] = sh
		}
	}
	s.shapes.mu.Unlock()
	return out, nil
}

// listObjects rebuilds the objects of rows, in their order.
func (s *Store) listObjects(ctx context.Context, q querier, rows []listRow) ([]*intel.Object, error) {
	ids := make([]int64, len(rows))
	for i := range rows {
		ids[i] = rows[i].shape
	}
	shapes, err := s.listShapes(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*intel.Object, len(rows))
	for i := range rows {
		sh, ok := shapes[rows[i].shape]
		if !ok {
			return nil, fmt.Errorf("stored indicator %s: no shape %d", rows[i].id, rows[i].shape)
		}
		out[i] = sh.object(&rows[i])
	}
	return out, nil
}

// queryListRows reads the list rows of a query selecting listCols.
func queryListRows(ctx context.Context, q querier, sql string, args ...any) ([]listRow, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	var out []listRow
	var r listRow
	_, err = pgx.ForEachRow(rows, r.scanTargets(), func() error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// listObject reads the shaped indicator stored under id; nil when there
// is none.
func (s *Store) listObject(ctx context.Context, q querier, id string) (*intel.Object, error) {
	rows, err := queryListRows(ctx, q, "SELECT "+listCols+" FROM list_indicators l WHERE l.id = $1", id)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	objs, err := s.listObjects(ctx, q, rows)
	if err != nil {
		return nil, err
	}
	return objs[0], nil
}

// shapeDraft is a shape an import is making: its id, its modes, and its
// template as stored.
type shapeDraft struct {
	id           int64
	pattern, raw string
	mod          string
	data         []byte
}

// importShapes is what one import knows of the shapes it makes.
type importShapes struct {
	byKey    map[string]*shapeDraft
	lastKey  string
	last     *shapeDraft
	keyBuf   []byte
	base     int64 // the first id of the import's block; 0: no shapes
	unstored []*shapeDraft
}

// draftOf returns the shape o fits in this import, making it when new;
// ok is false when o takes the full path.
func (w *writer) draftOf(o *intel.Object) (*shapeDraft, bool, error) {
	is := &w.listShapes
	key, pm, rm, ok := listshape.Key(is.keyBuf[:0], o)
	is.keyBuf = key
	if !ok || is.base == 0 {
		return nil, false, nil
	}
	// a list's indicators come in runs of one shape
	if is.last != nil && string(key) == is.lastKey {
		return is.last, true, nil
	}
	d, ok := is.byKey[string(key)]
	if !ok {
		if len(is.byKey) == maxShapes {
			return nil, false, nil
		}
		tmpl := listshape.Template(o)
		data, err := store.EncodeObject(&tmpl)
		if err != nil {
			return nil, false, err
		}
		d = &shapeDraft{id: is.base + int64(len(is.byKey)), pattern: pm, raw: rm, mod: modifiedText(&tmpl), data: data}
		if is.byKey == nil {
			is.byKey = map[string]*shapeDraft{}
		}
		is.byKey[string(key)] = d
		is.unstored = append(is.unstored, d)
	}
	is.last, is.lastKey = d, string(key)
	return d, true, nil
}

// takeShapeBlock reserves the ids of the shapes this import may make.
func (w *writer) takeShapeBlock(ctx context.Context) error {
	return w.tx.QueryRow(ctx, "SELECT nextval('indicator_shape_blocks')").Scan(&w.listShapes.base)
}

// addListRow lays out the list row of o, of shape d.
func (w *writer) addListRow(lists *copyTable, d *shapeDraft, o *intel.Object) {
	ob := o.Indicator.Observables[0]
	var raw []byte
	if d.raw == listshape.RawRow {
		raw = []byte(o.Raw)
	}
	lists.row().text(o.ID).int8(d.id).text(string(ob.Type)).text(ob.Value).int4(ob.Port).
		text(strings.Join(o.Indicator.Warninglists, "\n")).bytes(raw).text(w.stamp())
}

// newShapeRows lays out the shapes made since the last call, and returns
// them too: should the batch be rolled back, they are laid out again.
func (w *writer) newShapeRows() (*copyTable, []*shapeDraft) {
	shapes := newCopyTable("indicator_shapes", "id", "source_id", "modified", "pattern", "raw", "template")
	laid := w.listShapes.unstored
	for _, d := range laid {
		shapes.row().int8(d.id).int8(w.source).text(d.mod).text(d.pattern).text(d.raw).bytes(d.data)
	}
	w.listShapes.unstored = nil
	return shapes, laid
}

// unshape turns the shaped indicators among ids back into full objects,
// with their source, version and added time, so that another source or
// version of them is written as for any stored object.
func (w *writer) unshape(ctx context.Context, ids []string) error {
	rows, err := queryListRows(ctx, w.tx, "SELECT "+listCols+" FROM list_indicators l WHERE l.id = ANY($1)", ids)
	if err != nil || len(rows) == 0 {
		return err
	}
	shapeIDs := make([]int64, len(rows))
	for i := range rows {
		shapeIDs[i] = rows[i].shape
	}
	shapes, err := w.store.listShapes(ctx, w.tx, shapeIDs)
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	gone := make([]string, len(rows))
	for i := range rows {
		r := &rows[i]
		sh, ok := shapes[r.shape]
		if !ok {
			return fmt.Errorf("stored indicator %s: no shape %d", r.id, r.shape)
		}
		o := sh.object(r)
		data, err := store.EncodeObject(o)
		if err != nil {
			return fmt.Errorf("%s: %w", o.ID, err)
		}
		var raw []byte
		if len(o.Raw) > 0 {
			raw = []byte(o.Raw)
		}
		b.Queue(`INSERT INTO objects(id, type, name, modified, revoked, source_id, data, raw, markings, added) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
			o.ID, o.Type, o.Name, sh.modified, o.Revoked, sh.sourceID, data, raw, strings.Join(o.Markings, "\n"), r.added)
		w.queueCurrent(b, o, sh.modified, true)
		gone[i] = r.id
	}
	b.Queue("DELETE FROM list_indicators WHERE id = ANY($1)", gone)
	if err := w.tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("turning list indicators %s … into full objects: %w", gone[0], err)
	}
	return nil
}

// allListShapes returns every stored shape by id, as q sees them.
func (s *Store) allListShapes(ctx context.Context, q querier) (map[int64]*listShape, error) {
	rows, err := q.Query(ctx, "SELECT id FROM indicator_shapes")
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	return s.listShapes(ctx, q, ids)
}

// inSnapshot runs fn in a read-only transaction of one snapshot, so that
// list rows and the shapes they point at are read as of one moment: an
// import committing or a source deleted meanwhile cannot leave a row
// read without its shape.
func (s *Store) inSnapshot(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, fn)
}
