package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/actorjoin"
	"github.com/whodunit-project/whodunit/internal/store"
)

// Import implements store.Store.
func (s *Store) Import(ctx context.Context, src intel.Source, fn func(intel.Sink) error) (store.ImportResult, error) {
	res := store.ImportResult{Source: src}
	if src.ImportedAt.IsZero() {
		src.ImportedAt = time.Now().UTC()
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return res, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it does nothing
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockImport); err != nil {
		return res, err
	}
	if src.SHA256 != "" {
		var id int64
		err := tx.QueryRow(ctx, "SELECT id FROM sources WHERE name = $1 AND digest = $2", src.Name, src.SHA256).Scan(&id)
		if err == nil {
			res.Already, res.Source.ID = true, id
			return res, nil
		}
		if !isNoRows(err) {
			return res, err
		}
	}
	digest := src.SHA256
	if src.Digest != nil {
		digest = pendingDigest // replaced before commit, by recordDigest
	}
	if err := tx.QueryRow(ctx, `INSERT INTO sources(name, path, format, imported_at, reliability, digest)
		VALUES ($1,$2,$3,$4,$5,$6) RETURNING id`,
		src.Name, src.Path, src.Format, fmtTime(src.ImportedAt), src.Reliability.String(), digest).Scan(&src.ID); err != nil {
		return res, err
	}
	res.Source = src
	// under the import lock, held to commit: see nextObjectAdded
	addedAt, err := nextObjectAdded(ctx, tx)
	if err != nil {
		return res, err
	}
	dropped, err := dropIndexesIfEmpty(ctx, tx) // see bulk.go
	if err != nil {
		return res, err
	}
	w := &writer{store: s, tx: tx, source: src.ID, addedBase: addedAt, actors: map[string]bool{}, dropped: dropped}
	if dropped.keysAway() {
		w.fresh = newFreshIDs()
	}
	if err := w.takeShapeBlock(ctx); err != nil {
		return res, err
	}
	// before the rollback: the sender may still be using the transaction
	defer w.send.wait() //nolint:errcheck // the error was returned already, or the import failed otherwise
	if err := fn(w); err != nil {
		return res, err
	}
	if err := w.flush(ctx); err != nil {
		return res, err
	}
	if err := w.endFresh(ctx); err != nil {
		return res, err
	}
	if err := dropped.rebuild(ctx, tx); err != nil {
		return res, err
	}
	if src.Digest != nil {
		// the digest of what fn read, known only now: the same content
		// imported before changes nothing (the deferred rollback drops it)
		if dup, err := recordDigest(ctx, tx, &src, src.Digest()); err != nil || dup != 0 {
			res.Already, res.Source.ID = dup != 0, dup
			return res, err
		}
		res.Source.SHA256 = src.SHA256
	}
	if err := w.linkActors(ctx); err != nil {
		return res, fmt.Errorf("resolving actors: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return res, err
	}
	res.New = w.added
	return res, nil
}

// pendingDigest marks a source whose digest is known only at commit; no
// committed row keeps it (imports hold the import lock to commit).
const pendingDigest = "pending"

// recordDigest stores digest on the new source src, unless a source of
// the same name already has it: then it returns that source's id.
func recordDigest(ctx context.Context, tx pgx.Tx, src *intel.Source, digest string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, "SELECT id FROM sources WHERE name = $1 AND digest = $2 AND id <> $3", src.Name, digest, src.ID).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !isNoRows(err) {
		return 0, err
	}
	src.SHA256 = digest
	_, err = tx.Exec(ctx, "UPDATE sources SET digest = $1 WHERE id = $2", digest, src.ID)
	return 0, err
}

// writer is the intel.Sink of one import transaction. Objects are
// buffered and written a batch at a time: one query reads which of them
// are stored already, and every write of the batch goes to the server in
// one pipelined round trip.
type writer struct {
	store  *Store
	tx     pgx.Tx
	source int64
	// addedBase is the added time of the first version this import
	// stores; each next one gets a nanosecond more (stamp), so that no two
	// versions share one and a TAXII client resuming by added_after after
	// the last it saw misses none.
	addedBase time.Time
	addedN    int64
	added     int
	actors    map[string]bool // intrusion sets touched by this import
	pending   []*intel.Object
	// dropped is what a first import dropped (bulk.go), and fresh what it
	// wrote while the primary keys are away; nil otherwise
	dropped *bulkIndexes
	fresh   *freshIDs
	send    copySender // of a first import's batches
	// listShapes is the shapes of list indicators this import makes
	listShapes importShapes
}

// writeBatch is how many objects a batch holds: large, so that a COPY
// carries many rows per round trip.
const writeBatch = 10000

// Put implements intel.Sink.
func (w *writer) Put(ctx context.Context, o *intel.Object) error {
	if o.ID == "" || o.Type == "" {
		return fmt.Errorf("object without id or type")
	}
	cp := *o
	w.pending = append(w.pending, &cp)
	if len(w.pending) >= writeBatch {
		return w.flush(ctx)
	}
	return nil
}

// PutWarninglist implements intel.Sink.
func (w *writer) PutWarninglist(ctx context.Context, l *intel.Warninglist) error {
	if l.Name == "" {
		return fmt.Errorf("warninglist without a name")
	}
	if err := w.flush(ctx); err != nil {
		return err
	}
	if err := w.send.wait(); err != nil {
		return err
	}
	tag, err := w.tx.Exec(ctx, `INSERT INTO warninglists(name, description, version, match_type, category, attributes, entries, source_id)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
		ON CONFLICT (name) DO UPDATE SET description = excluded.description, version = excluded.version, match_type = excluded.match_type,
		category = excluded.category, attributes = excluded.attributes, entries = excluded.entries, source_id = excluded.source_id
		WHERE excluded.version >= warninglists.version`,
		l.Name, l.Description, l.Version, l.MatchType, l.Category, strings.Join(l.Attributes, "\n"), strings.Join(l.Entries, "\n"), w.source)
	if err != nil {
		return fmt.Errorf("warninglist %s: %w", l.Name, err)
	}
	w.added += int(tag.RowsAffected())
	return nil
}

// flush writes the buffered objects.
func (w *writer) flush(ctx context.Context) error {
	if len(w.pending) == 0 {
		return nil
	}
	pending := w.pending
	w.pending = nil
	if w.fresh != nil {
		return w.flushFresh(ctx, pending) // see freshids.go
	}
	cur, err := w.storedModified(ctx, pending)
	if err != nil {
		return err
	}
	b, err := w.copyBatch(ctx, pending, cur)
	if err != nil {
		return err
	}
	if err := w.tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("storing objects %s … %s: %w", pending[0].ID, pending[len(pending)-1].ID, err)
	}
	return nil
}

// copyBatch writes the objects of pending new to the store by COPY (see
// copy.go) and returns the statements of the rest of the batch.
func (w *writer) copyBatch(ctx context.Context, pending []*intel.Object, cur map[string]string) (*pgx.Batch, error) {
	fresh := splitFresh(pending, cur)
	copied, err := w.copyFresh(ctx, fresh)
	if err != nil {
		return nil, err
	}
	b := &pgx.Batch{}
	done := map[*intel.Object]bool{} // copied: only their names are left
	if copied {
		w.added += len(fresh)
		for _, f := range fresh {
			cur[f.o.ID] = f.mod
			done[f.o] = true
			w.queueNames(b, f.o)
		}
	}
	for _, o := range pending {
		if done[o] {
			continue
		}
		if err := w.queue(b, o, cur); err != nil {
			return nil, fmt.Errorf("%s: %w", o.ID, err)
		}
	}
	return b, nil
}

// storedModified maps the ids of objs that are stored to the modified
// time of their current version.
func (w *writer) storedModified(ctx context.Context, objs []*intel.Object) (map[string]string, error) {
	ids := make([]string, len(objs))
	for i, o := range objs {
		ids[i] = o.ID
	}
	if err := w.unshape(ctx, ids); err != nil {
		return nil, err
	}
	rows, err := w.tx.Query(ctx, "SELECT id, modified FROM objects WHERE id = ANY($1)", ids)
	if err != nil {
		return nil, err
	}
	cur := map[string]string{}
	var id, mod string
	_, err = pgx.ForEachRow(rows, []any{&id, &mod}, func() error {
		cur[id] = mod
		return nil
	})
	return cur, err
}

// queue adds the writes of one object to b: the latest Modified becomes
// current, older and superseded versions are kept as history, and the
// source is always recorded. cur is updated as the batch will leave it.
func (w *writer) queue(b *pgx.Batch, o *intel.Object, cur map[string]string) error {
	mod := modifiedText(o)
	data, err := store.EncodeObject(o)
	if err != nil {
		return err
	}
	var raw []byte
	if len(o.Raw) > 0 {
		raw = []byte(o.Raw)
	}
	marks := strings.Join(o.Markings, "\n")
	prev, stored := cur[o.ID]
	current, fresh := false, false
	switch {
	case !stored:
		b.Queue(`INSERT INTO objects(id, type, name, modified, revoked, source_id, data, raw, markings, added) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
			o.ID, o.Type, o.Name, mod, o.Revoked, w.source, data, raw, marks, w.stamp())
		w.added++
		current, fresh = true, true
	case mod > prev:
		b.Queue(`INSERT INTO object_versions(id, modified, data, raw, added) SELECT id, modified, data, raw, added FROM objects WHERE id = $1
			ON CONFLICT DO NOTHING`, o.ID)
		b.Queue(`UPDATE objects SET type = $1, name = $2, modified = $3, revoked = $4, data = $5, raw = $6, markings = $7, added = $8 WHERE id = $9`,
			o.Type, o.Name, mod, o.Revoked, data, raw, marks, w.stamp(), o.ID)
		w.added++
		current = true
	case mod < prev:
		b.Queue(`INSERT INTO object_versions(id, modified, data, raw, added) VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING`,
			o.ID, mod, data, raw, w.stamp()).Exec(func(ct pgconn.CommandTag) error {
			w.added += int(ct.RowsAffected())
			return nil
		})
	}
	if stored {
		cur[o.ID] = max(prev, mod)
		// a derived relationship that another source gave first stays
		// that source's; this one is latent (see object_sources)
		b.Queue(`INSERT INTO object_sources(object_id, source_id, latent) SELECT $1, $2, $3
			WHERE NOT EXISTS (SELECT 1 FROM objects WHERE id = $1 AND source_id = $2)
			ON CONFLICT (object_id, source_id) DO UPDATE SET latent = object_sources.latent AND excluded.latent`,
			o.ID, w.source, derivedRelationship(o))
	} else {
		cur[o.ID] = mod
	}
	w.queueNames(b, o)
	if current {
		w.queueCurrent(b, o, mod, fresh)
	}
	return nil
}

// derivedRelationship reports an "indicates" relationship whose id is
// derived from its ends, as list readers make them: the same id from two
// lists is the same implied fact, not a second assertion.
func derivedRelationship(o *intel.Object) bool {
	r := o.Relationship
	return o.Type == intel.TypeRelationship && r != nil && r.Type == "indicates" &&
		o.ID == intel.DeriveID(intel.TypeRelationship, "indicates", r.SourceRef, r.TargetRef)
}

// queueCurrent writes the rows searched for the current version of o.
func (w *writer) queueCurrent(b *pgx.Batch, o *intel.Object, mod string, fresh bool) {
	if r := o.Relationship; r != nil {
		b.Queue(`INSERT INTO relationships(id, type, source_ref, target_ref) VALUES ($1,$2,$3,$4)
			ON CONFLICT (id) DO UPDATE SET type = excluded.type, source_ref = excluded.source_ref, target_ref = excluded.target_ref`,
			o.ID, r.Type, r.SourceRef, r.TargetRef)
	}
	ind := o.Indicator
	if ind == nil {
		return
	}
	if !fresh {
		b.Queue("DELETE FROM indicator_values WHERE indicator_id = $1", o.ID)
	}
	for _, ob := range ind.Observables {
		b.Queue(`INSERT INTO indicator_values(indicator_id, type, value, port, issuer) VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING`,
			o.ID, string(ob.Type), ob.Value, ob.Port, ob.Issuer)
	}
	flags, lists, vals := store.MatchFields(ind)
	b.Queue(`INSERT INTO match_indicators(id, modified, revoked, valid_from, valid_until, flags, pattern_type, pattern, lists, vals)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (id) DO UPDATE SET modified = excluded.modified, revoked = excluded.revoked,
		valid_from = excluded.valid_from, valid_until = excluded.valid_until, flags = excluded.flags, pattern_type = excluded.pattern_type,
		pattern = excluded.pattern, lists = excluded.lists, vals = excluded.vals`,
		o.ID, mod, o.Revoked, fmtTime(ind.ValidFrom), fmtTime(ind.ValidUntil), flags,
		ind.PatternType, ind.Pattern, lists, vals)
}

// queueNames indexes the names by which an analyst looks objects up:
// every object's name, and the aliases and ATT&CK ids of the others.
func (w *writer) queueNames(b *pgx.Batch, o *intel.Object) {
	switch o.Type {
	case intel.TypeIndicator, intel.TypeRelationship, intel.TypeSighting, intel.TypeObservedData:
		return
	}
	add := func(kind, display string) {
		if norm := actorjoin.NormName(display); norm != "" {
			b.Queue(`INSERT INTO names(norm, object_id, kind, display, source_id) VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING`,
				norm, o.ID, kind, display, w.source)
		}
	}
	add(actorjoin.KindName, o.Name)
	for _, a := range o.Aliases {
		add(actorjoin.KindAlias, a)
	}
	for _, r := range o.ExternalRefs {
		if r.ExternalID != "" && actorjoin.IsAttackSource(r.SourceName) {
			add(actorjoin.KindExternalID, r.ExternalID)
		}
	}
	if o.Type == intel.TypeIntrusionSet {
		w.actors[o.ID] = true
	}
}
