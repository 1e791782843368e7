package sqlite

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/listshape"
)

// shapedChunk is how many shaped indicators one INSERT writes: one
// statement per row spends more in the driver than in SQLite.
const shapedChunk = 256

// shapedRow is a buffered shaped indicator.
type shapedRow struct {
	id        string
	key       uint64 // the id's first 64 bits, to sort without comparing strings
	seq       int    // order of arrival, for a stable sort
	draft     *shapeDraft
	indicates string // set when its relationship folds into the shape
	ob        intel.Observable
	lists     string
	raw       []byte // only for listshape.RawRow shapes
}

// shapeRef names one shape of an import: a draft and its actor.
type shapeRef struct {
	draft     *shapeDraft
	indicates string
}

// maxDrafts bounds the shapes of one import: indicators that share little
// but their value are cheaper as full objects than as a shape each.
const maxDrafts = 4096

// addShaped buffers o, which fits the shape keyed key, unless the import
// has too many shapes already.
func (w *writer) addShaped(o *intel.Object, key []byte, pm, rm string) bool {
	// a list's indicators come in runs of one shape
	d := w.lastDraft
	if d == nil || string(key) != w.lastKey {
		var ok bool
		if d, ok = w.drafts[string(key)]; !ok {
			if len(w.drafts) >= maxDrafts {
				return false
			}
			d = newDraft(o, pm, rm)
			w.drafts[string(key)] = d
		}
		w.lastDraft, w.lastKey = d, string(key)
	}
	r := shapedRow{id: o.ID, key: idPrefix(o.ID), seq: len(w.shaped), draft: d, ob: o.Indicator.Observables[0]}
	if len(o.Indicator.Warninglists) > 0 {
		r.lists = strings.Join(o.Indicator.Warninglists, "\n")
	}
	if rm == listshape.RawRow {
		r.raw = o.Raw
	}
	w.shaped = append(w.shaped, r)
	return true
}

// idPrefix reads the first 16 hex digits after the "--" of a STIX id as a
// number, which orders as the text does; 0 for anything else.
func idPrefix(id string) uint64 {
	i := strings.Index(id, "--")
	if i < 0 {
		return 0
	}
	var k uint64
	n := 0
	for _, c := range []byte(id[i+2:]) {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c == '-':
			continue
		default:
			return 0
		}
		k = k<<4 | uint64(v)
		if n++; n == 16 {
			return k
		}
	}
	return 0
}

// shapeOf returns the stored shape of r, storing it on first use.
func (w *writer) shapeOf(ctx context.Context, r *shapedRow) (*shape, error) {
	ref := shapeRef{r.draft, r.indicates}
	if sh, ok := w.shapeIDs[ref]; ok {
		return sh, nil
	}
	d := r.draft
	mod := fmtTime(d.tmpl.Modified)
	if mod == "" {
		mod = fmtTime(epoch)
	}
	data, err := store.EncodeObject(&d.tmpl)
	if err != nil {
		return nil, err
	}
	res, err := w.insertShape.ExecContext(ctx, w.source, mod, d.pattern, d.raw, r.indicates, data, w.stamp())
	if err != nil {
		return nil, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, err
	}
	sh := &shape{id: id, sourceID: w.source, modified: mod, pattern: d.pattern, raw: d.raw, indicates: r.indicates, tmpl: d.tmpl}
	w.shapeIDs[ref] = sh
	w.shapes[id] = sh
	return sh, nil
}

// shapeByID returns a stored shape, this import's or an earlier one's.
func (w *writer) shapeByID(ctx context.Context, id int64) (*shape, error) {
	if sh, ok := w.shapes[id]; ok {
		return sh, nil
	}
	sh, err := scanShape(w.getShape.QueryRowContext(ctx, id))
	if err != nil {
		return nil, fmt.Errorf("indicator shape %d: %w", id, err)
	}
	w.shapes[id] = sh
	return sh, nil
}

// flushShaped writes the buffered shaped indicators in id order, a chunk
// per statement; a chunk that meets a stored id is redone row by row.
func (w *writer) flushShaped(ctx context.Context, rows []shapedRow) error {
	if len(rows) == 0 {
		return nil
	}
	// in id order (near enough: ids of another type prefix sort apart),
	// so that inserts walk the B-tree forwards; equal ids stay together
	slices.SortFunc(rows, func(a, b shapedRow) int {
		if a.key != b.key {
			return cmp.Compare(a.key, b.key)
		}
		if c := strings.Compare(a.id, b.id); c != 0 {
			return c
		}
		return a.seq - b.seq
	})
	if err := w.loadFullIDs(ctx); err != nil {
		return err
	}
	args := make([]any, 0, 7*shapedChunk)
	var chunk []*shapedRow
	var again []*shapedRow // a repeated id, written after its first
	writeChunk := func() error {
		if len(chunk) == 0 {
			return nil
		}
		defer func() { chunk = chunk[:0] }()
		if len(chunk) < shapedChunk {
			for _, r := range chunk {
				if err := w.putShaped(ctx, r); err != nil {
					return err
				}
			}
			return nil
		}
		args = args[:0]
		folded := 0
		plain := true // no port, warninglist or raw: a statement with fewer arguments
		for _, r := range chunk {
			if r.ob.Port != 0 || r.lists != "" || len(r.raw) > 0 {
				plain = false
				break
			}
		}
		for _, r := range chunk {
			sh, err := w.shapeOf(ctx, r)
			if err != nil {
				return err
			}
			if plain {
				args = append(args, r.id, sh.id, string(r.ob.Type), r.ob.Value, w.stamp())
			} else {
				args = append(args, r.id, sh.id, string(r.ob.Type), r.ob.Value, r.ob.Port, r.lists, nullBytes(r.raw), w.stamp())
			}
			if r.indicates != "" {
				folded++
			}
		}
		stmt := w.insertShapedChunk
		if plain {
			stmt = w.insertPlainChunk
		}
		res, err := stmt.ExecContext(ctx, args...)
		if err != nil {
			return err
		}
		w.hasShaped = true
		n, _ := res.RowsAffected()
		if int(n) == len(chunk) {
			w.count(len(chunk) + folded)
			return nil
		}
		// some ids were stored before: settle each row alone (the rows
		// this statement wrote find themselves and add nothing)
		w.count(int(n))
		for _, r := range chunk {
			if err := w.putShaped(ctx, r); err != nil {
				return err
			}
		}
		return nil
	}
	for i := range rows {
		r := &rows[i]
		if i > 0 && rows[i-1].id == r.id {
			again = append(again, r)
			continue
		}
		if _, full := w.fullIDs[r.id]; full {
			// a full indicator holds the id: this one joins it as one
			if err := w.putShapedAsFull(ctx, r); err != nil {
				return err
			}
			continue
		}
		chunk = append(chunk, r)
		if len(chunk) == shapedChunk {
			if err := writeChunk(); err != nil {
				return err
			}
		}
	}
	if err := writeChunk(); err != nil {
		return err
	}
	for _, r := range again {
		if _, full := w.fullIDs[r.id]; full {
			if err := w.putShapedAsFull(ctx, r); err != nil {
				return err
			}
			continue
		}
		if err := w.putShaped(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// loadFullIDs reads, once, the ids of the full indicators stored before
// this import; put adds the ones it writes. A map costs less than asking
// SQLite once per shaped indicator.
func (w *writer) loadFullIDs(ctx context.Context) error {
	if w.fullIDs != nil {
		return nil
	}
	w.fullIDs = map[string]struct{}{}
	if !w.hadFull {
		return nil
	}
	rows, err := w.tx.QueryContext(ctx, "SELECT id FROM match_indicators")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		w.fullIDs[id] = struct{}{}
	}
	return rows.Err()
}

func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// putShaped writes one shaped indicator, settling an id stored before the
// way put settles objects: the latest Modified is current, the other
// version is history, and every source is kept.
func (w *writer) putShaped(ctx context.Context, r *shapedRow) error {
	sh, err := w.shapeOf(ctx, r)
	if err != nil {
		return err
	}
	res, err := w.insertShaped.ExecContext(ctx, r.id, sh.id, string(r.ob.Type), r.ob.Value, r.ob.Port, r.lists, nullBytes(r.raw), w.stamp())
	if err != nil {
		return err
	}
	w.hasShaped = true
	if n, _ := res.RowsAffected(); n > 0 {
		w.count(1)
		if r.indicates != "" {
			w.count(1)
		}
		return nil
	}
	ex, exOb, exLists, exRaw, err := w.storedShaped(ctx, r.id)
	if err != nil {
		return err
	}
	if ex.id == sh.id && exOb == r.ob && exLists == r.lists && bytes.Equal(exRaw, r.raw) {
		return nil // this very row, written by this import
	}
	mine := sh.object(r.id, r.ob, r.lists, r.raw)
	stored := ex.object(r.id, exOb, exLists, exRaw)
	current := ex
	switch {
	case sh.modified > ex.modified:
		exAdded, err := w.shapedAdded(ctx, r.id)
		if err != nil {
			return err
		}
		if err := w.keepShapedVersion(ctx, stored, ex.modified, exAdded); err != nil {
			return err
		}
		if _, err := w.updateShaped.ExecContext(ctx, sh.id, string(r.ob.Type), r.ob.Value, r.ob.Port, r.lists, nullBytes(r.raw), w.stamp(), r.id); err != nil {
			return err
		}
		w.count(1)
		current = sh
		if ex.sourceID != w.source {
			if _, err := w.addSource.ExecContext(ctx, r.id, ex.sourceID); err != nil {
				return err
			}
		}
		// the stored version's relationship outlives its shape
		if ex.indicates != "" && ex.indicates != sh.indicates {
			if err := w.put(ctx, impliedRelationship(stored, ex.indicates), ex.sourceID); err != nil {
				return err
			}
		}
	case sh.modified < ex.modified:
		if err := w.keepShapedVersion(ctx, mine, sh.modified, w.stamp()); err != nil {
			return err
		}
		fallthrough
	default:
		if ex.sourceID != w.source {
			if _, err := w.addSource.ExecContext(ctx, r.id, w.source); err != nil {
				return err
			}
		}
	}
	if sh.indicates != "" && sh.indicates != current.indicates {
		return w.put(ctx, impliedRelationship(mine, sh.indicates), w.source)
	}
	return nil
}

// storedShaped reads the shaped indicator stored under id.
func (w *writer) storedShaped(ctx context.Context, id string) (*shape, intel.Observable, string, []byte, error) {
	var shapeID int64
	var ob intel.Observable
	var typ, lists string
	var raw []byte
	if err := w.getShaped.QueryRowContext(ctx, id).Scan(&shapeID, &typ, &ob.Value, &ob.Port, &lists, &raw); err != nil {
		return nil, ob, "", nil, err
	}
	ob.Type = intel.ValueType(typ)
	sh, err := w.shapeByID(ctx, shapeID)
	return sh, ob, lists, raw, err
}

// keepShapedVersion stores o as a superseded version added at added.
func (w *writer) keepShapedVersion(ctx context.Context, o *intel.Object, modified, added string) error {
	data, err := store.EncodeObject(o)
	if err != nil {
		return err
	}
	res, err := w.keepVersion.ExecContext(ctx, o.ID, modified, data, nullBytes(o.Raw), added)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		w.count(1)
	}
	return nil
}

// putShapedAsFull writes a shaped indicator whose id a full one holds, as
// a full object.
func (w *writer) putShapedAsFull(ctx context.Context, r *shapedRow) error {
	d := r.draft
	sh := shape{pattern: d.pattern, raw: d.raw, tmpl: d.tmpl}
	o := sh.object(r.id, r.ob, r.lists, r.raw)
	if err := w.put(ctx, o, w.source); err != nil {
		return err
	}
	if r.indicates != "" {
		return w.put(ctx, impliedRelationship(o, r.indicates), w.source)
	}
	return nil
}

// unshape turns the shaped indicator stored under id, if any, into a full
// object with its relationship, so that a full version of it can be put.
// Its sources and versions stay as they are: both are kept by id.
func (w *writer) unshape(ctx context.Context, id string) error {
	ex, ob, lists, raw, err := w.storedShaped(ctx, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	added, err := w.shapedAdded(ctx, id)
	if err != nil {
		return err
	}
	if _, err := w.deleteShaped.ExecContext(ctx, id); err != nil {
		return err
	}
	o := ex.object(id, ob, lists, raw)
	was := w.counting
	w.counting = false // nothing new: the same facts in another form
	defer func() { w.counting = was }()
	w.keepAdded = added // the same version: it keeps its added time
	err = w.put(ctx, o, ex.sourceID)
	w.keepAdded = ""
	if err != nil {
		return err
	}
	if ex.indicates != "" {
		return w.put(ctx, impliedRelationship(o, ex.indicates), ex.sourceID)
	}
	return nil
}
