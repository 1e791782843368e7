package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

// TestObjectsAreRowidTables: the tables that hold raw JSON are rowid
// tables, so that a key comparison never reads a large object's payload
// (the quadratic import of large MISP events), and a store made by
// schema 5 keeps every object and version through the rebuild.
func TestObjectsAreRowidTables(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	importAPT1(t, s)
	before, err := s.IntelStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, table := range []string{"objects", "object_versions"} {
		var def string
		if err := db.QueryRow("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", table).Scan(&def); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.ToUpper(def), "WITHOUT ROWID") {
			t.Errorf("%s is a WITHOUT ROWID table: %s", table, def)
		}
	}
	// Take the store back to schema 5 as it was: WITHOUT ROWID tables.
	for _, q := range []string{
		"CREATE TABLE objects_old (id TEXT PRIMARY KEY, type TEXT NOT NULL, name TEXT NOT NULL DEFAULT '', modified TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0, source_id INTEGER NOT NULL, data BLOB NOT NULL, raw BLOB, markings TEXT NOT NULL DEFAULT '', added TEXT NOT NULL DEFAULT '') WITHOUT ROWID",
		"INSERT INTO objects_old SELECT id, type, name, modified, revoked, source_id, data, raw, markings, added FROM objects",
		"DROP TABLE objects", "ALTER TABLE objects_old RENAME TO objects",
		"CREATE INDEX objects_type ON objects(type)", "CREATE INDEX objects_source ON objects(source_id)",
		"CREATE INDEX objects_added ON objects(added, id)", "CREATE INDEX objects_type_added ON objects(type, added, id)",
		"PRAGMA user_version = 5",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	db.Close()
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	after, err := s.IntelStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, before, after) {
		t.Errorf("after the rebuild: %+v, want %+v", after, before)
	}
}

func sameJSON(t *testing.T, a, b any) bool {
	t.Helper()
	x, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(x) == string(y)
}
