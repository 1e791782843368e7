package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// migration6 turns objects and object_versions into rowid tables. As
// WITHOUT ROWID tables they kept each row, raw JSON included, in the
// B-tree of their key, and SQLite reads a row's whole payload to compare
// keys when it overflows a page: every insert that passed a 50 MB MISP
// event re-read it, so large objects imported in quadratic time. A rowid
// table keeps the payload apart and compares keys in a small index.
var migration6 = migration{upgrade: rebuildWithRowid("objects", "object_versions")}

func rebuildWithRowid(tables ...string) func(ctx context.Context, tx *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		for _, t := range tables {
			if err := rebuildTable(ctx, tx, t); err != nil {
				return fmt.Errorf("%s: %w", t, err)
			}
		}
		return nil
	}
}

// column is a column as PRAGMA table_info describes it.
type column struct {
	name, typ, dflt string
	notNull         bool
	pk              int // position in the primary key, 0 when not in it
}

// rebuildTable copies table t into a rowid table of the same columns
// whose former primary key is a UNIQUE constraint, and recreates its
// indexes from their stored SQL, so that it keeps whatever the earlier
// migrations gave it.
func rebuildTable(ctx context.Context, tx *sql.Tx, t string) error {
	var def string
	if err := tx.QueryRowContext(ctx, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", t).Scan(&def); err != nil {
		return err
	}
	if !strings.Contains(strings.ToUpper(def), "WITHOUT ROWID") {
		return nil // rebuilt already (a test that took a store back)
	}
	cols, err := tableColumns(ctx, tx, t)
	if err != nil {
		return err
	}
	indexes, err := indexSQL(ctx, tx, t)
	if err != nil {
		return err
	}
	var defs, names, key []string
	for _, c := range cols {
		d := c.name + " " + c.typ
		if c.notNull {
			d += " NOT NULL"
		}
		if c.dflt != "" {
			d += " DEFAULT " + c.dflt
		}
		defs, names = append(defs, d), append(names, c.name)
		if c.pk > 0 {
			key = append(key, "")
		}
	}
	for _, c := range cols {
		if c.pk > 0 {
			key[c.pk-1] = c.name
		}
	}
	list := strings.Join(names, ", ")
	stmts := []string{
		fmt.Sprintf("CREATE TABLE %s_rebuilt (rid INTEGER PRIMARY KEY, %s, UNIQUE (%s))", t, strings.Join(defs, ", "), strings.Join(key, ", ")),
		fmt.Sprintf("INSERT INTO %s_rebuilt (%s) SELECT %s FROM %s", t, list, list, t),
		"DROP TABLE " + t,
		fmt.Sprintf("ALTER TABLE %s_rebuilt RENAME TO %s", t, t),
	}
	for _, s := range append(stmts, indexes...) {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%.60s: %w", s, err)
		}
	}
	return nil
}

func tableColumns(ctx context.Context, tx *sql.Tx, t string) ([]column, error) {
	rows, err := tx.QueryContext(ctx, "SELECT name, type, \"notnull\", coalesce(dflt_value, ''), pk FROM pragma_table_info(?)", t)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.typ, &c.notNull, &c.dflt, &c.pk); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("no such table")
	}
	return cols, rows.Err()
}

func indexSQL(ctx context.Context, tx *sql.Tx, t string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name", t)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
