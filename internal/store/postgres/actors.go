package postgres

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/whodunit-project/whodunit/internal/intel/actorjoin"
	"github.com/whodunit-project/whodunit/internal/store"
)

// linkActors joins the intrusion sets this import touched with the ones
// already stored that share a name with them, where actorjoin.Join says
// so, as the SQLite store does. A link undone before is not redone:
// actor_links keeps it, undone, and the insert leaves it alone.
func (w *writer) linkActors(ctx context.Context) error {
	if len(w.actors) == 0 {
		return nil
	}
	ids := make([]string, 0, len(w.actors))
	for id := range w.actors {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	now := fmtTime(time.Now())
	for _, id := range ids {
		me, err := actorNames(ctx, w.tx, id)
		if err != nil {
			return err
		}
		cands, err := actorCandidates(ctx, w.tx, id)
		if err != nil {
			return err
		}
		for _, c := range cands {
			other, err := actorNames(ctx, w.tx, c)
			if err != nil {
				return err
			}
			rule, detail, ok := actorjoin.Join(me, other)
			if !ok {
				continue
			}
			a, b := orderPair(id, c)
			if _, err := w.tx.Exec(ctx, `INSERT INTO actor_links(a, b, rule, detail, created) VALUES ($1,$2,$3,$4,$5)
				ON CONFLICT (a, b, rule) DO NOTHING`, a, b, rule, detail, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// actorNames loads what Join decides on for a stored actor record: every
// name any source gave it, and the country of its current version.
func actorNames(ctx context.Context, q querier, id string) (*actorjoin.Names, error) {
	an := &actorjoin.Names{ID: id}
	rows, err := q.Query(ctx, "SELECT kind, display FROM names WHERE object_id = $1", id)
	if err != nil {
		return nil, err
	}
	var kind, display string
	if _, err := pgx.ForEachRow(rows, []any{&kind, &display}, func() error {
		an.Add(kind, display)
		return nil
	}); err != nil {
		return nil, err
	}
	var data []byte
	err = q.QueryRow(ctx, "SELECT data FROM objects WHERE id = $1", id).Scan(&data)
	if isNoRows(err) {
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
func actorCandidates(ctx context.Context, q querier, id string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT n2.object_id FROM names n1 JOIN names n2 ON n2.norm = n1.norm
		JOIN objects o ON o.id = n2.object_id
		WHERE n1.object_id = $1 AND n2.object_id <> n1.object_id AND o.type = 'intrusion-set' ORDER BY n2.object_id`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// ActorLinks implements store.Store.
func (s *Store) ActorLinks(ctx context.Context) ([]store.ActorLink, error) {
	rows, err := s.pool.Query(ctx, "SELECT id, a, b, rule, detail, created, undone FROM actor_links ORDER BY id")
	if err != nil {
		return nil, err
	}
	var out []store.ActorLink
	var l store.ActorLink
	var created string
	_, err = pgx.ForEachRow(rows, []any{&l.ID, &l.A, &l.B, &l.Rule, &l.Detail, &created, &l.Undone}, func() error {
		l.Created = parseTime(created)
		out = append(out, l)
		return nil
	})
	return out, err
}

// LinkActors implements store.Store.
func (s *Store) LinkActors(ctx context.Context, a, b, detail string) error {
	a, b = orderPair(a, b)
	_, err := s.pool.Exec(ctx, `INSERT INTO actor_links(a, b, rule, detail, created) VALUES ($1,$2,'manual',$3,$4)
		ON CONFLICT (a, b, rule) DO UPDATE SET undone = false, detail = excluded.detail`, a, b, detail, fmtTime(time.Now()))
	return err
}

// UnlinkActors implements store.Store.
func (s *Store) UnlinkActors(ctx context.Context, a, b string) (int, error) {
	a, b = orderPair(a, b)
	tag, err := s.pool.Exec(ctx, "UPDATE actor_links SET undone = true WHERE a = $1 AND b = $2 AND NOT undone", a, b)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}
