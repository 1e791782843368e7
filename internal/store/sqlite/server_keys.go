package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

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
	_, err := s.db.ExecContext(ctx, `INSERT INTO api_keys(id, name, hash, tlp_max, internal, admin, read, write, created, revoked)
		VALUES (?,?,?,?,?,?,?,?,?,?)`, k.ID, k.Name, k.Hash, k.TLPMax, k.Internal, k.Admin,
		strings.Join(k.Read, "\n"), strings.Join(k.Write, "\n"), fmtTime(k.Created), fmtTime(k.Revoked))
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
		return fmt.Errorf("api key %s (%s): %w", k.ID, k.Name, store.ErrExists)
	}
	return err
}

const keyCols = "id, name, hash, tlp_max, internal, admin, read, write, created, revoked"

func scanKey(row interface{ Scan(...any) error }) (store.APIKey, error) {
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
	k, err := scanKey(s.db.QueryRowContext(ctx, "SELECT "+keyCols+" FROM api_keys WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return k, fmt.Errorf("api key %.12q: %w", id, store.ErrNotFound)
	}
	return k, err
}

// Keys implements store.KeyStore.
func (s *Store) Keys(ctx context.Context) ([]store.APIKey, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+keyCols+" FROM api_keys ORDER BY created, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeKey implements store.KeyStore.
func (s *Store) RevokeKey(ctx context.Context, name string, at time.Time) error {
	if at.IsZero() {
		at = time.Now()
	}
	r, err := s.db.ExecContext(ctx, "UPDATE api_keys SET revoked = ? WHERE name = ? AND revoked = ''", fmtTime(at), name)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
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
	_, err := s.db.ExecContext(ctx, `INSERT INTO audit(at, key, remote, method, path, status, objects, took_ns) VALUES (?,?,?,?,?,?,?,?)`,
		fmtTime(e.At), e.Key, e.Remote, e.Method, e.Path, e.Status, e.Objects, int64(e.Took))
	return err
}

// Audit implements store.AuditLog. The entries are read before fn runs:
// the store's one connection must be free for what fn does.
func (s *Store) Audit(ctx context.Context, q store.AuditQuery, fn func(store.AuditEntry) error) error {
	var where []string
	var args []any
	if q.Key != "" {
		where, args = append(where, "key = ?"), append(args, q.Key)
	}
	if !q.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, fmtTime(q.Since))
	}
	if q.Method != "" {
		where, args = append(where, "method = ?"), append(args, q.Method)
	}
	if q.Path != "" {
		where, args = append(where, "path = ?"), append(args, q.Path)
	}
	if q.Status > 0 {
		where, args = append(where, "status = ?"), append(args, q.Status)
	}
	query := "SELECT seq, at, key, remote, method, path, status, objects, took_ns FROM audit" + whereClause(where)
	if q.Limit > 0 {
		query = "SELECT * FROM (" + query + fmt.Sprintf(" ORDER BY seq DESC LIMIT %d)", q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, query+" ORDER BY seq", args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var list []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var at string
		var took int64
		if err := rows.Scan(&e.Seq, &at, &e.Key, &e.Remote, &e.Method, &e.Path, &e.Status, &e.Objects, &took); err != nil {
			return err
		}
		e.At, e.Took = parseTime(at), time.Duration(took)
		list = append(list, e)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	for _, e := range list {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// PutStatus implements store.StatusStore; it purges expired statuses.
func (s *Store) PutStatus(ctx context.Context, id string, doc []byte, expires time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "DELETE FROM taxii_status WHERE expires <= ?", fmtTime(time.Now())); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO taxii_status(id, doc, expires) VALUES (?,?,?)
		ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, expires = excluded.expires`, id, doc, fmtTime(expires)); err != nil {
		return err
	}
	return tx.Commit()
}

// Status implements store.StatusStore.
func (s *Store) Status(ctx context.Context, id string) ([]byte, error) {
	var doc []byte
	err := s.db.QueryRowContext(ctx, "SELECT doc FROM taxii_status WHERE id = ? AND expires > ?", id, fmtTime(time.Now())).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
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
	_, err := s.db.ExecContext(ctx, `INSERT INTO subscriptions(name, url, collection, added_after, updated) VALUES (?,?,?,?,?)
		ON CONFLICT(name) DO UPDATE SET url = excluded.url, collection = excluded.collection, added_after = excluded.added_after,
		updated = excluded.updated`, sub.Name, sub.URL, sub.Collection, sub.AddedAfter, fmtTime(sub.Updated))
	return err
}

// Subscriptions implements store.SubscriptionStore.
func (s *Store) Subscriptions(ctx context.Context) ([]store.Subscription, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT name, url, collection, added_after, updated FROM subscriptions ORDER BY name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Subscription
	for rows.Next() {
		var sub store.Subscription
		var updated string
		if err := rows.Scan(&sub.Name, &sub.URL, &sub.Collection, &sub.AddedAfter, &updated); err != nil {
			return nil, err
		}
		sub.Updated = parseTime(updated)
		out = append(out, sub)
	}
	return out, rows.Err()
}
