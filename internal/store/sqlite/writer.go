package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/actorjoin"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/listshape"
)

// writer is the intel.Sink of one import transaction.
type writer struct {
	tx     *sql.Tx
	source int64
	// addedBase is the added time of the first version this writer
	// stores; each next one gets a nanosecond more (stamp), so that no two
	// versions share one and a client resuming after the last it saw
	// misses none (server_added.go).
	addedBase    time.Time
	addedN       int64
	keepAdded    string // when set, stamp gives this (a version moved, not new)
	added        int
	actors       map[string]bool // actor ids touched by this import
	pending      []*intel.Object // full indicators waiting to be written in id order
	pendingBytes int             // about what pending holds (heldBytes)

	// shaped indicators (shape.go) waiting to be written in id order, and
	// the shapes of this import
	shaped    []shapedRow
	keyBuf    []byte
	drafts    map[string]*shapeDraft // by shape key
	lastKey   string
	lastDraft *shapeDraft
	shapeIDs  map[shapeRef]*shape
	shapes    map[int64]*shape // by id: this import's and the earlier ones met
	// hasFull: the store holds full indicators, whose ids a shaped one
	// must not take; hasShaped: it holds shaped ones a full one replaces.
	hadFull, hasShaped bool
	fullIDs            map[string]struct{} // full indicators, once a shaped one needs to know
	counting           bool                // false while moving an indicator between forms

	// A full buffer is written by a goroutine of its own while the
	// reader fills the next one. Every other use of tx waits for it
	// first, so tx is never used by two goroutines at once.
	inflight chan struct{}
	bgErr    error

	insertShape, insertShaped, insertShapedChunk, insertPlainChunk, getShaped, updateShaped, deleteShaped, getShape, addSource,
	getModified, insertObject, replaceObject, keepVersion, saveCurrentAsVersion,
	insertSource, insertName, insertRel, deleteValues, insertValue, insertWarninglist, putMatch *sql.Stmt
}

func newWriter(ctx context.Context, tx *sql.Tx, source int64) (*writer, error) {
	w := &writer{tx: tx, source: source, actors: map[string]bool{}, counting: true,
		drafts: map[string]*shapeDraft{}, shapeIDs: map[shapeRef]*shape{}, shapes: map[int64]*shape{}}
	var err error
	if w.addedBase, err = nextObjectAdded(ctx, tx); err != nil {
		return nil, err
	}
	prep := []struct {
		dst *(*sql.Stmt)
		q   string
	}{
		{&w.getModified, "SELECT modified FROM objects WHERE id = ?"},
		{&w.insertShape, "INSERT INTO indicator_shapes(source_id, modified, pattern, raw, indicates, template, added) VALUES (?,?,?,?,?,?,?)"},
		{&w.insertShaped, "INSERT INTO list_indicators(id, shape, type, value, port, lists, raw, added) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING"},
		{&w.insertShapedChunk, "INSERT INTO list_indicators(id, shape, type, value, port, lists, raw, added) VALUES " +
			strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?),", shapedChunk), ",") + " ON CONFLICT(id) DO NOTHING"},
		{&w.insertPlainChunk, "INSERT INTO list_indicators(id, shape, type, value, port, lists, raw, added) VALUES " +
			strings.TrimSuffix(strings.Repeat("(?,?,?,?,0,'',NULL,?),", shapedChunk), ",") + " ON CONFLICT(id) DO NOTHING"},
		{&w.getShaped, "SELECT shape, type, value, port, lists, raw FROM list_indicators WHERE id = ?"},
		{&w.updateShaped, "UPDATE list_indicators SET shape = ?, type = ?, value = ?, port = ?, lists = ?, raw = ?, added = ? WHERE id = ?"},
		{&w.deleteShaped, "DELETE FROM list_indicators WHERE id = ?"},
		{&w.getShape, "SELECT " + shapeCols + " FROM indicator_shapes WHERE id = ?"},
		{&w.addSource, "INSERT OR IGNORE INTO object_sources(object_id, source_id) VALUES (?,?)"},
		{&w.insertObject, "INSERT INTO objects(id, type, name, modified, revoked, source_id, data, raw, markings, added) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING"},
		{&w.replaceObject, "UPDATE objects SET type = ?, name = ?, modified = ?, revoked = ?, data = ?, raw = ?, markings = ?, added = ? WHERE id = ?"},
		{&w.putMatch, `INSERT INTO match_indicators(id, modified, revoked, valid_from, valid_until, flags, pattern_type, pattern, lists, vals)
			VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET modified = excluded.modified, revoked = excluded.revoked,
			valid_from = excluded.valid_from, valid_until = excluded.valid_until, flags = excluded.flags, pattern_type = excluded.pattern_type,
			pattern = excluded.pattern, lists = excluded.lists, vals = excluded.vals`},
		{&w.keepVersion, "INSERT OR IGNORE INTO object_versions(id, modified, data, raw, added) VALUES (?,?,?,?,?)"},
		{&w.saveCurrentAsVersion, "INSERT OR IGNORE INTO object_versions(id, modified, data, raw, added) SELECT id, modified, data, raw, added FROM objects WHERE id = ?"},
		{&w.insertSource, "INSERT OR IGNORE INTO object_sources(object_id, source_id) SELECT ?1, ?2 WHERE NOT EXISTS (SELECT 1 FROM objects WHERE id = ?1 AND source_id = ?2)"},
		{&w.insertName, "INSERT OR IGNORE INTO names(norm, object_id, kind, display, source_id) VALUES (?,?,?,?,?)"},
		{&w.insertRel, "INSERT INTO relationships(id, type, source_ref, target_ref) VALUES (?,?,?,?) ON CONFLICT(id) DO UPDATE SET type = excluded.type, source_ref = excluded.source_ref, target_ref = excluded.target_ref"},
		{&w.deleteValues, "DELETE FROM indicator_values WHERE indicator_id = ?"},
		{&w.insertValue, "INSERT OR IGNORE INTO indicator_values(indicator_id, type, value, port, issuer) VALUES (?,?,?,?,?)"},
		{&w.insertWarninglist, `INSERT INTO warninglists(name, description, version, match_type, category, attributes, entries, source_id) VALUES (?,?,?,?,?,?,?,?)
			ON CONFLICT(name) DO UPDATE SET description = excluded.description, version = excluded.version, match_type = excluded.match_type,
			category = excluded.category, attributes = excluded.attributes, entries = excluded.entries, source_id = excluded.source_id
			WHERE excluded.version >= warninglists.version`},
	}
	for _, p := range prep {
		st, err := tx.PrepareContext(ctx, p.q)
		if err != nil {
			w.close()
			return nil, err
		}
		*p.dst = st
	}
	for q, dst := range map[string]*bool{
		"SELECT EXISTS (SELECT 1 FROM match_indicators)": &w.hadFull,
		"SELECT EXISTS (SELECT 1 FROM list_indicators)":  &w.hasShaped,
	} {
		if err := tx.QueryRowContext(ctx, q).Scan(dst); err != nil {
			w.close()
			return nil, err
		}
	}
	return w, nil
}

func (w *writer) close() {
	w.wait()
	for _, st := range []*sql.Stmt{w.insertShape, w.insertShaped, w.insertShapedChunk, w.insertPlainChunk, w.getShaped, w.updateShaped,
		w.deleteShaped, w.getShape, w.addSource, w.getModified, w.insertObject, w.replaceObject, w.keepVersion, w.saveCurrentAsVersion,
		w.insertSource, w.insertName, w.insertRel, w.deleteValues, w.insertValue, w.insertWarninglist, w.putMatch} {
		if st != nil {
			st.Close()
		}
	}
}

// sortBatch is how many indicators Put gathers before writing them in id
// order: sorted inserts walk the B-trees in order instead of at random,
// which is what makes large lists affordable.
const sortBatch = 100_000

// sortBatchBytes bounds the same buffer by what it holds: 100,000
// indicators with 100 KB descriptions would be 10 GB (the audit's 5,000
// such indicators peaked at 1.9 GB).
const sortBatchBytes = 32 << 20

// heldBytes is about what a buffered indicator keeps in memory.
func heldBytes(o *intel.Object) int {
	n := 256 + len(o.Raw) + len(o.Description) + len(o.Name)
	if o.Indicator != nil {
		n += len(o.Indicator.Pattern)
	}
	return n
}

// Put implements intel.Sink. Indicators are buffered and written in id
// order (the same id keeps its order of arrival); everything else is
// written at once, except an "indicates" relationship that its shaped
// indicator stands for (shape.go).
func (w *writer) Put(ctx context.Context, o *intel.Object) error {
	switch o.Type {
	case intel.TypeIndicator:
		// flush before, not after, adding: the relationship that follows
		// an indicator must still find it buffered
		if len(w.pending)+len(w.shaped) >= sortBatch || w.pendingBytes >= sortBatchBytes {
			if err := w.flushBehind(ctx); err != nil {
				return err
			}
		}
		key, pm, rm, ok := listshape.Key(w.keyBuf[:0], o)
		w.keyBuf = key
		if ok && w.addShaped(o, key, pm, rm) {
			return nil
		}
		cp := *o
		w.pending = append(w.pending, &cp)
		w.pendingBytes += heldBytes(o)
		return nil
	case intel.TypeRelationship:
		if n := len(w.shaped); n > 0 {
			last := &w.shaped[n-1]
			if last.indicates == "" && foldable(o, &last.draft.tmpl, last.id) {
				last.indicates = o.Relationship.TargetRef
				return nil
			}
		}
	}
	if err := w.wait(); err != nil {
		return err
	}
	return w.put(ctx, o, w.source)
}

// flush writes what is buffered, after what is being written.
func (w *writer) flush(ctx context.Context) error {
	if err := w.wait(); err != nil {
		return err
	}
	err := w.writeBatch(ctx, w.pending, w.shaped)
	w.pending, w.shaped, w.pendingBytes = nil, nil, 0
	return err
}

// flushBehind hands the buffers to a goroutine that writes them, once the
// previous ones are written.
func (w *writer) flushBehind(ctx context.Context) error {
	if err := w.wait(); err != nil {
		return err
	}
	pending, shaped := w.pending, w.shaped
	w.pending, w.shaped, w.pendingBytes = nil, make([]shapedRow, 0, len(shaped)), 0
	done := make(chan struct{})
	w.inflight = done
	go func() {
		defer close(done)
		w.bgErr = w.writeBatch(ctx, pending, shaped)
	}()
	return nil
}

// wait waits for the buffers being written and returns the error.
func (w *writer) wait() error {
	if w.inflight == nil {
		return nil
	}
	<-w.inflight
	w.inflight = nil
	err := w.bgErr
	w.bgErr = nil
	return err
}

// writeBatch writes buffered indicators in id order: the full ones first,
// so that a shaped one sees them.
func (w *writer) writeBatch(ctx context.Context, pending []*intel.Object, shaped []shapedRow) error {
	sort.SliceStable(pending, func(i, j int) bool { return pending[i].ID < pending[j].ID })
	for _, o := range pending {
		if err := w.put(ctx, o, w.source); err != nil {
			return err
		}
	}
	return w.flushShaped(ctx, shaped)
}

// put stores one object: the latest Modified becomes current, older and
// superseded versions are kept as history, and the source is always recorded.
func (w *writer) put(ctx context.Context, o *intel.Object, src int64) error {
	if o.ID == "" || o.Type == "" {
		return fmt.Errorf("object without id or type")
	}
	if o.Type == intel.TypeIndicator {
		if w.fullIDs != nil {
			w.fullIDs[o.ID] = struct{}{}
		} else {
			w.hadFull = true // loadFullIDs will find it
		}
		if w.hasShaped {
			if err := w.unshape(ctx, o.ID); err != nil {
				return err
			}
		}
	}
	mod := fmtTime(o.Modified)
	if mod == "" {
		mod = fmtTime(time.Unix(0, 0))
	}
	data, err := store.EncodeObject(o)
	if err != nil {
		return err
	}
	var raw any
	if len(o.Raw) > 0 {
		raw = []byte(o.Raw)
	}
	marks := strings.Join(o.Markings, "\n")
	// The common case, a new object, costs one insert.
	r, err := w.insertObject.ExecContext(ctx, o.ID, o.Type, o.Name, mod, o.Revoked, src, data, raw, marks, w.stamp())
	if err != nil {
		return err
	}
	current, fresh := false, false
	if n, _ := r.RowsAffected(); n > 0 {
		w.count(1)
		current, fresh = true, true
	} else {
		var cur string
		if err := w.getModified.QueryRowContext(ctx, o.ID).Scan(&cur); err != nil {
			return err
		}
		switch {
		case mod > cur:
			if _, err := w.saveCurrentAsVersion.ExecContext(ctx, o.ID); err != nil {
				return err
			}
			if _, err := w.replaceObject.ExecContext(ctx, o.Type, o.Name, mod, o.Revoked, data, raw, marks, w.stamp(), o.ID); err != nil {
				return err
			}
			w.count(1)
			current = true
		case mod < cur:
			r, err := w.keepVersion.ExecContext(ctx, o.ID, mod, data, raw, w.stamp())
			if err != nil {
				return err
			}
			if n, _ := r.RowsAffected(); n > 0 {
				w.count(1)
			}
		}
		if _, err := w.insertSource.ExecContext(ctx, o.ID, src); err != nil {
			return err
		}
	}
	if err := w.putNames(ctx, o, src); err != nil {
		return err
	}
	if !current {
		return nil
	}
	if o.Relationship != nil {
		r := o.Relationship
		if _, err := w.insertRel.ExecContext(ctx, o.ID, r.Type, r.SourceRef, r.TargetRef); err != nil {
			return err
		}
	}
	if o.Indicator != nil {
		if !fresh {
			if _, err := w.deleteValues.ExecContext(ctx, o.ID); err != nil {
				return err
			}
		}
		ind := o.Indicator
		for _, ob := range ind.Observables {
			if _, err := w.insertValue.ExecContext(ctx, o.ID, string(ob.Type), ob.Value, ob.Port, ob.Issuer); err != nil {
				return err
			}
		}
		flags, lists, vals := store.MatchFields(ind)
		if _, err := w.putMatch.ExecContext(ctx, o.ID, mod, o.Revoked, fmtTime(ind.ValidFrom), fmtTime(ind.ValidUntil), flags,
			ind.PatternType, ind.Pattern, lists, vals); err != nil {
			return err
		}
	}
	return nil
}

// putNames indexes the names by which an analyst looks objects up: every
// object's name, and the aliases and external ids of actors, malware, tools,
// techniques and campaigns.
func (w *writer) putNames(ctx context.Context, o *intel.Object, src int64) error {
	switch o.Type {
	case intel.TypeIndicator, intel.TypeRelationship, intel.TypeSighting, intel.TypeObservedData:
		return nil
	}
	add := func(kind, display string) error {
		norm := actorjoin.NormName(display)
		if norm == "" {
			return nil
		}
		_, err := w.insertName.ExecContext(ctx, norm, o.ID, kind, display, src)
		return err
	}
	if err := add(actorjoin.KindName, o.Name); err != nil {
		return err
	}
	for _, a := range o.Aliases {
		if err := add(actorjoin.KindAlias, a); err != nil {
			return err
		}
	}
	for _, r := range o.ExternalRefs {
		if r.ExternalID != "" && actorjoin.IsAttackSource(r.SourceName) {
			if err := add(actorjoin.KindExternalID, r.ExternalID); err != nil {
				return err
			}
		}
	}
	if o.Type == intel.TypeIntrusionSet {
		w.actors[o.ID] = true
	}
	return nil
}

// PutWarninglist implements intel.Sink.
func (w *writer) PutWarninglist(ctx context.Context, l *intel.Warninglist) error {
	if l.Name == "" {
		return fmt.Errorf("warninglist without a name")
	}
	if err := w.wait(); err != nil {
		return err
	}
	r, err := w.insertWarninglist.ExecContext(ctx, l.Name, l.Description, l.Version, l.MatchType, l.Category,
		strings.Join(l.Attributes, "\n"), []byte(strings.Join(l.Entries, "\n")), w.source)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n > 0 {
		w.added++
	}
	return nil
}

// count adds n to the objects and versions this import added.
func (w *writer) count(n int) {
	if w.counting {
		w.added += n
	}
}

// linkActors joins the intrusion sets this import touched with the ones
// already stored that share a name with them, where actorjoin.Join says
// so. The store only loads records and writes links; a link undone
// before is not redone (actor_links keeps it, undone).
func (w *writer) linkActors(ctx context.Context) error {
	if len(w.actors) == 0 {
		return nil
	}
	now := fmtTime(time.Now())
	for _, id := range sortedKeys(w.actors) {
		me, err := w.actorNames(ctx, id)
		if err != nil {
			return err
		}
		cands, err := w.actorCandidates(ctx, id)
		if err != nil {
			return err
		}
		for _, c := range cands {
			other, err := w.actorNames(ctx, c)
			if err != nil {
				return err
			}
			rule, detail, ok := actorjoin.Join(me, other)
			if !ok {
				continue
			}
			a, b := orderPair(id, c)
			if _, err := w.tx.ExecContext(ctx, "INSERT OR IGNORE INTO actor_links(a, b, rule, detail, created) VALUES (?,?,?,?,?)",
				a, b, rule, detail, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// actorNames loads what Join decides on for a stored actor record: every
// name any source gave it, and the country of its current version.
func (w *writer) actorNames(ctx context.Context, id string) (*actorjoin.Names, error) {
	an := &actorjoin.Names{ID: id}
	rows, err := w.tx.QueryContext(ctx, "SELECT kind, display FROM names WHERE object_id = ?", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var kind, display string
		if err := rows.Scan(&kind, &display); err != nil {
			return nil, err
		}
		an.Add(kind, display)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	var data []byte
	err = w.tx.QueryRowContext(ctx, "SELECT data FROM objects WHERE id = ?", id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return an, nil
	}
	if err != nil {
		return nil, err
	}
	o, err := store.DecodeObject(data, nil)
	if err != nil {
		return nil, fmt.Errorf("actor %s: %w", id, err)
	}
	if o.Actor != nil {
		an.Country = o.Actor.Country
	}
	return an, nil
}

// actorCandidates lists the other intrusion sets that share any name,
// alias or external id with id: the only records Join could join it to.
func (w *writer) actorCandidates(ctx context.Context, id string) ([]string, error) {
	// CROSS JOIN fixes the order: from the actor's own names outwards.
	// Left to itself the planner starts from every intrusion set, which
	// made linking quadratic in the number of actors.
	rows, err := w.tx.QueryContext(ctx, `SELECT DISTINCT n2.object_id FROM names n1 CROSS JOIN names n2 ON n2.norm = n1.norm
		CROSS JOIN objects o ON o.id = n2.object_id
		WHERE n1.object_id = ? AND n2.object_id <> n1.object_id AND o.type = 'intrusion-set' ORDER BY n2.object_id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
