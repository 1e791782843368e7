// Package pgtest gives tests a fresh PostgreSQL database on the server the
// tests use (WHODUNIT_TEST_POSTGRES, else the loopback default), dropped
// when the test ends.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// DefaultDSN is the server the tests use when WHODUNIT_TEST_POSTGRES
// names none.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

func ServerDSN() string {
	if dsn := os.Getenv("WHODUNIT_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return DefaultDSN
}

// NewDatabase creates an empty database for this test and drops it when
// the test ends. When no server answers it skips, loudly, except under
// CI=true, where a missing server is a failure.
func NewDatabase(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	admin := ServerDSN()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no PostgreSQL server for the tests (%v); set WHODUNIT_TEST_POSTGRES", err)
		}
		t.Skipf("SKIPPING the PostgreSQL store tests: no server answers (%v); set WHODUNIT_TEST_POSTGRES to a DSN to run them", err)
	}
	defer conn.Close(ctx)
	buf := make([]byte, 6)
	if _, err := rand.Read(buf); err != nil {
		t.Fatal(err)
	}
	name := "whodunit_test_" + hex.EncodeToString(buf)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return WithParams(t, admin, map[string]string{"dbname": name})
}

// WithParams returns dsn with the given connection parameters set, in
// either of its forms (URL or keywords).
func WithParams(t testing.TB, dsn string, set map[string]string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("WHODUNIT_TEST_POSTGRES: %v", err)
		}
		q := u.Query()
		for k, v := range set {
			if k == "dbname" {
				u.Path = "/" + v
				continue
			}
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	for k, v := range set {
		dsn += " " + k + "=" + v
	}
	return dsn
}
