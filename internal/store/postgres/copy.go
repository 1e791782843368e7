package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

// The bulk path of an import. An object whose id is not stored yet (and
// appears first in its batch) writes only new rows: its objects row, its
// relationship, its indicator values and its matcher row. Those go in by
// COPY, which is many times faster than one INSERT each and is what makes
// a million-line list import in seconds. Every other object (a new
// version, an older one, a second source) takes the statement path of
// queue, after the COPY, so it sees the rows the COPY wrote.
//
// COPY has no ON CONFLICT. It is safe because the import lock keeps other
// imports out and every table written holds rows only of stored objects
// (DeleteSource removes them with the object). Should that ever not hold,
// the COPY fails on the unique key inside a savepoint, which is rolled
// back, and the batch takes the statement path instead: the stored result
// is the same either way.

// freshObject is an object of the batch stored by COPY.
type freshObject struct {
	o   *intel.Object
	mod string
}

// splitFresh returns the objects of pending whose id neither is stored
// (cur) nor appeared earlier in the batch.
func splitFresh(pending []*intel.Object, cur map[string]string) []freshObject {
	seen := make(map[string]bool, len(pending))
	var fresh []freshObject
	for _, o := range pending {
		if _, stored := cur[o.ID]; stored || seen[o.ID] {
			continue
		}
		seen[o.ID] = true
		fresh = append(fresh, freshObject{o: o, mod: modifiedText(o)})
	}
	return fresh
}

// modifiedText is o's modified time as the objects table keeps it; the
// epoch when it has none.
func modifiedText(o *intel.Object) string {
	if mod := fmtTime(o.Modified); mod != "" {
		return mod
	}
	return fmtTime(time.Unix(0, 0))
}

// copyFresh writes the rows of fresh by COPY in a savepoint. It reports
// false, with the savepoint rolled back, when a row was stored already.
func (w *writer) copyFresh(ctx context.Context, fresh []freshObject) (bool, error) {
	if len(fresh) == 0 {
		return true, nil
	}
	sp, err := w.tx.Begin(ctx)
	if err != nil {
		return false, err
	}
	laid, err := w.copyRows(ctx, sp, fresh)
	if err == nil {
		return true, sp.Commit(ctx)
	}
	// the shapes laid out are not stored: the next batch lays them out
	w.listShapes.unstored = append(laid, w.listShapes.unstored...)
	if rbErr := sp.Rollback(ctx); rbErr != nil {
		return false, errors.Join(err, rbErr)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" { // unique_violation
		return false, nil
	}
	return false, fmt.Errorf("copying objects %s … %s: %w", fresh[0].o.ID, fresh[len(fresh)-1].o.ID, err)
}

// copyRows runs the COPY of each table written for fresh objects.
func (w *writer) copyRows(ctx context.Context, tx pgx.Tx, fresh []freshObject) ([]*shapeDraft, error) {
	tables, laid, err := w.freshRows(fresh)
	if err != nil {
		return nil, err
	}
	for _, t := range tables {
		if err := t.send(ctx, tx); err != nil {
			return laid, err
		}
	}
	return laid, nil
}

// freshRows lays out the rows of fresh objects, table by table, as queue
// would write them one statement at a time, or as list rows (shapes.go);
// it returns the shapes laid out too.
func (w *writer) freshRows(fresh []freshObject) ([]*copyTable, []*shapeDraft, error) {
	objects := newCopyTable("objects", "id", "type", "name", "modified", "revoked", "source_id", "data", "raw", "markings", "added")
	rels := newCopyTable("relationships", "id", "type", "source_ref", "target_ref")
	values := newCopyTable("indicator_values", "indicator_id", "type", "value", "port", "issuer")
	matches := newCopyTable("match_indicators", "id", "modified", "revoked", "valid_from", "valid_until", "flags", "pattern_type", "pattern", "lists", "vals")
	listed := newCopyTable("list_indicators", "id", "shape", "type", "value", "port", "lists", "raw", "added")
	for _, f := range fresh {
		o := f.o
		if d, ok, err := w.draftOf(o); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", o.ID, err)
		} else if ok {
			w.addListRow(listed, d, o)
			continue
		}
		// encoded here, not before: a list row needs no JSON
		data, err := store.EncodeObject(o)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", o.ID, err)
		}
		var raw []byte
		if len(o.Raw) > 0 {
			raw = []byte(o.Raw)
		}
		objects.row().text(o.ID).text(o.Type).text(o.Name).text(f.mod).bool(o.Revoked).int8(w.source).
			bytes(data).bytes(raw).text(strings.Join(o.Markings, "\n")).text(w.stamp())
		if r := o.Relationship; r != nil {
			rels.row().text(o.ID).text(r.Type).text(r.SourceRef).text(r.TargetRef)
		}
		ind := o.Indicator
		if ind == nil {
			continue
		}
		appendValues(values, o.ID, ind.Observables)
		flags, lists, vals := store.MatchFields(ind)
		matches.row().text(o.ID).text(f.mod).bool(o.Revoked).text(fmtTime(ind.ValidFrom)).text(fmtTime(ind.ValidUntil)).int4(flags).
			text(ind.PatternType).text(ind.Pattern).text(lists).text(vals)
	}
	shapes, laid := w.newShapeRows()
	return []*copyTable{shapes, listed, objects, rels, values, matches}, laid, nil
}

// appendValues adds the indicator_values rows of one indicator, each
// observable once (the statement path's ON CONFLICT DO NOTHING).
func appendValues(rows *copyTable, id string, obs []intel.Observable) {
	var seen map[intel.Observable]bool // only for the rare indicator of many
	if len(obs) > 1 {
		seen = make(map[intel.Observable]bool, len(obs))
	}
	for _, ob := range obs {
		if seen != nil {
			if seen[ob] {
				continue
			}
			seen[ob] = true
		}
		rows.row().text(id).text(string(ob.Type)).text(ob.Value).int4(ob.Port).text(ob.Issuer)
	}
}
