package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/whodunit-project/whodunit/internal/store"
)

// PutKey implements store.KeyStore. Uniqueness is the database's: the
// primary key, and a unique index on the names of valid keys.
func (s *Store) PutKey(ctx context.Context, k store.APIKey) error {
	if k.ID == "" || k.Name == "" || len(k.Hash) == 0 {
		return fmt.Errorf("api key: id, name and hash are required")
	}
	if k.Created.IsZero() {
		k.Created = time.Now()
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO api_keys(id, name, hash, tlp_max, internal, admin, read, write, created, revoked)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`, k.ID, k.Name, k.Hash, k.TLPMax, k.Internal, k.Admin,
		strings.Join(k.Read, "\n"), strings.Join(k.Write, "\n"), fmtTime(k.Created), fmtTime(k.Revoked))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" { // unique_violation
		return fmt.Errorf("api key %s (%s): %w", k.ID, k.Name, store.ErrExists)
	}
	return err
}

const keyCols = "id, name, hash, tlp_max, internal, admin, read, write, created, revoked"

func scanKey(row pgx.Row) (store.APIKey, error) {
	var k store.APIKey
	var read, write, created, revoked string
	if err := row.Scan(&k.ID, &k.Name, &k.Hash, &k.TLPMax, &k.Internal, &k.Admin, &read, &write, &created, &revoked); err != nil {
		return k, err
	}
	k.Read, k.Write = splitLines(read), splitLines(write)
	k.Created, k.Revoked = parseTime(created), parseTime(revoked)
	return k, nil
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// Key implements store.KeyStore.
func (s *Store) Key(ctx context.Context, id string) (store.APIKey, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, "SELECT "+keyCols+" FROM api_keys WHERE id = $1", id))
	if isNoRows(err) {
		return k, fmt.Errorf("api key %.12q: %w", id, store.ErrNotFound)
	}
	return k, err
}

// Keys implements store.KeyStore.
func (s *Store) Keys(ctx context.Context) ([]store.APIKey, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+keyCols+" FROM api_keys ORDER BY created, id")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.APIKey, error) { return scanKey(r) })
}

// RevokeKey implements store.KeyStore.
func (s *Store) RevokeKey(ctx context.Context, name string, at time.Time) error {
	if at.IsZero() {
		at = time.Now()
	}
	tag, err := s.pool.Exec(ctx, "UPDATE api_keys SET revoked = $1 WHERE name = $2 AND revoked = ''", fmtTime(at), name)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("api key %q: %w", name, store.ErrNotFound)
	}
	return nil
}

// PutAudit implements store.AuditLog: one insert into a table indexed
// by its sequence only, so that auditing every request stays cheap.
func (s *Store) PutAudit(ctx context.Context, e store.AuditEntry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO audit(at, key, remote, method, path, status, objects, took_ns) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
		fmtTime(e.At), e.Key, e.Remote, e.Method, e.Path, e.Status, e.Objects, int64(e.Took))
	return err
}

// Audit implements store.AuditLog.
func (s *Store) Audit(ctx context.Context, q store.AuditQuery, fn func(store.AuditEntry) error) error {
	p := &params{}
	var where []string
	if q.Key != "" {
		where = append(where, "key = "+p.add(q.Key))
	}
	if !q.Since.IsZero() {
		where = append(where, "at >= "+p.add(fmtTime(q.Since)))
	}
	if q.Method != "" {
		where = append(where, "method = "+p.add(q.Method))
	}
	if q.Path != "" {
		where = append(where, "path = "+p.add(q.Path))
	}
	if q.Status > 0 {
		where = append(where, "status = "+p.add(q.Status))
	}
	query := "SELECT seq, at, key, remote, method, path, status, objects, took_ns FROM audit" + whereClause(where)
	if q.Limit > 0 {
		query = "SELECT * FROM (" + query + fmt.Sprintf(" ORDER BY seq DESC LIMIT %d) x", q.Limit)
	}
	rows, err := s.pool.Query(ctx, query+" ORDER BY seq", p.args...)
	if err != nil {
		return err
	}
	var e store.AuditEntry
	var at string
	var took int64
	_, err = pgx.ForEachRow(rows, []any{&e.Seq, &at, &e.Key, &e.Remote, &e.Method, &e.Path, &e.Status, &e.Objects, &took}, func() error {
		e.At, e.Took = parseTime(at), time.Duration(took)
		return fn(e)
	})
	return err
}

// PutStatus implements store.StatusStore; it purges expired statuses.
func (s *Store) PutStatus(ctx context.Context, id string, doc []byte, expires time.Time) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM taxii_status WHERE expires <= $1", fmtTime(time.Now())); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO taxii_status(id, doc, expires) VALUES ($1,$2,$3)
			ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, expires = excluded.expires`, id, doc, fmtTime(expires))
		return err
	})
}

// Status implements store.StatusStore.
func (s *Store) Status(ctx context.Context, id string) ([]byte, error) {
	var doc []byte
	err := s.pool.QueryRow(ctx, "SELECT doc FROM taxii_status WHERE id = $1 AND expires > $2", id, fmtTime(time.Now())).Scan(&doc)
	if isNoRows(err) {
		return nil, fmt.Errorf("status %.40q: %w", id, store.ErrNotFound)
	}
	return doc, err
}

// PutSubscription implements store.SubscriptionStore.
func (s *Store) PutSubscription(ctx context.Context, sub store.Subscription) error {
	if sub.Name == "" {
		return fmt.Errorf("subscription without a name")
	}
	if sub.Updated.IsZero() {
		sub.Updated = time.Now()
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO subscriptions(name, url, collection, added_after, updated) VALUES ($1,$2,$3,$4,$5)
		ON CONFLICT (name) DO UPDATE SET url = excluded.url, collection = excluded.collection, added_after = excluded.added_after,
		updated = excluded.updated`, sub.Name, sub.URL, sub.Collection, sub.AddedAfter, fmtTime(sub.Updated))
	return err
}

// Subscriptions implements store.SubscriptionStore.
func (s *Store) Subscriptions(ctx context.Context) ([]store.Subscription, error) {
	rows, err := s.pool.Query(ctx, "SELECT name, url, collection, added_after, updated FROM subscriptions ORDER BY name")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Subscription, error) {
		var sub store.Subscription
		var updated string
		err := r.Scan(&sub.Name, &sub.URL, &sub.Collection, &sub.AddedAfter, &updated)
		sub.Updated = parseTime(updated)
		return sub, err
	})
}
