package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/postgres"
	"github.com/whodunit-project/whodunit/internal/store/postgres/pgtest"
	"github.com/whodunit-project/whodunit/internal/store/storetest"
)

// TestContract runs the store contract with one fresh schema per case, in
// one database made for the run.
func TestContract(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) store.Store {
		schema := fmt.Sprintf("case_%d", n.Add(1))
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "CREATE SCHEMA "+schema); err != nil {
			t.Fatal(err)
		}
		s, err := postgres.Open(context.Background(), pgtest.WithParams(t, dsn, map[string]string{"search_path": schema}))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestMigrateIsIdempotent(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	for i := 0; i < 2; i++ {
		v, err := postgres.Migrate(ctx, dsn)
		if want := postgres.LatestSchemaVersion(); err != nil || v != want {
			t.Fatalf("Migrate #%d = %d, %v; want version %d", i+1, v, err, want)
		}
	}
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.LinkActors(ctx, "intrusion-set--a", "intrusion-set--b", "x"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = postgres.Open(ctx, dsn) // reopening keeps the data
	if err != nil {
		t.Fatal(err)
	}
	links, err := s.ActorLinks(ctx)
	if err != nil || len(links) != 1 {
		t.Fatalf("links after reopen: %v %v", links, err)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	if _, err := postgres.Migrate(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "UPDATE schema_version SET version = 99"); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.Open(ctx, dsn); err == nil {
		t.Fatal("a database of schema 99 opened")
	}
}

func TestBadDSNIsAnError(t *testing.T) {
	if _, err := postgres.Open(context.Background(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"); err == nil {
		t.Fatal("a server that does not answer: no error")
	}
}
