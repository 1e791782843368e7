// Package postgres is the server Store: PostgreSQL through a pgx pool,
// versioned schema migrations applied on Open, one transaction per
// imported file.
//
// The schema follows the SQLite store's: objects as JSON beside narrow
// tables for names, relationships, indicator values and the matcher's
// rows, and list indicators as one narrow row each with a shape they
// share (shapes.go). Imports are serialised by an advisory lock, as SQLite's single
// writer serialises them, so that deciding which version is current never
// races another import; PutSightings takes a lock of its own so that every
// call's added time is later than everything committed before it.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/whodunit-project/whodunit/internal/store"
)

// Store is the PostgreSQL implementation of store.Store.
type Store struct {
	pool   *pgxpool.Pool
	shapes shapeCache // of list indicators (shapes.go)
}

var _ store.Store = (*Store)(nil)

// Advisory lock keys ("whodunit" in ASCII, then one per purpose), held
// for a transaction.
const (
	lockMigrate   int64 = 0x77686f64756e0001
	lockImport    int64 = 0x77686f64756e0002
	lockSightings int64 = 0x77686f64756e0003
	lockAnalyses  int64 = 0x77686f64756e0004
)

// querier is what a pool and a transaction share.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Open connects to the database named by dsn (a postgres:// URL or
// "host=… dbname=…" keywords) and migrates it to the current schema.
func Open(ctx context.Context, dsn string) (*Store, error) {
	pool, err := connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres %s: %w", redact(dsn), err)
	}
	return &Store{pool: pool}, nil
}

// Migrate brings the database named by dsn to the current schema and
// returns its version, for a command that only migrates.
func Migrate(ctx context.Context, dsn string) (int, error) {
	pool, err := connect(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	if err := migrate(ctx, pool); err != nil {
		return 0, fmt.Errorf("postgres %s: %w", redact(dsn), err)
	}
	return len(migrations), nil
}

func connect(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: %w", redact(dsn), err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: %w", redact(dsn), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres %s: %w", redact(dsn), err)
	}
	return pool, nil
}

// redact names the server of dsn without its password, for messages.
func redact(dsn string) string {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

// migrate applies the migrations not yet applied, each in one
// transaction under an advisory lock, so that two processes opening a
// new database at once apply each migration once.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	for {
		done, err := migrateOne(ctx, pool)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next migration; done when there is none.
func migrateOne(ctx context.Context, pool *pgxpool.Pool) (done bool, err error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it does nothing
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockMigrate); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)"); err != nil {
		return false, err
	}
	var v int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&v); err != nil {
		return false, err
	}
	if v > len(migrations) {
		return false, fmt.Errorf("database schema version %d is newer than this whodunit knows (%d)", v, len(migrations))
	}
	if v == len(migrations) {
		return true, tx.Commit(ctx)
	}
	if _, err := tx.Exec(ctx, migrationSQL(v)); err != nil {
		return false, fmt.Errorf("migration %d: %w", v+1, err)
	}
	if fill := migrationFill[v+1]; fill != nil {
		if err := fill(ctx, tx); err != nil {
			return false, fmt.Errorf("migration %d: %w", v+1, err)
		}
	}
	if _, err := tx.Exec(ctx, "DELETE FROM schema_version"); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO schema_version(version) VALUES ($1)", v+1); err != nil {
		return false, err
	}
	return false, tx.Commit(ctx)
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

const timeFmt = "2006-01-02T15:04:05.000000000Z"

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFmt)
}

// parseTime reads what fmtTime wrote ("" is the zero time).
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// isNoRows reports a QueryRow that found nothing.
func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

func orderPair(a, b string) (string, string) {
	if b < a {
		return b, a
	}
	return a, b
}
