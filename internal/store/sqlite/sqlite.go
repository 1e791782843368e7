// Package sqlite is the embedded Store: one SQLite file through a pure-Go
// driver, WAL journal, versioned schema migrations, one transaction per
// imported file.
//
// Objects are kept as JSON in objects (current version), object_versions
// (history) and object_sources (every further source), with narrow tables
// beside them for what is searched: names, relationships, indicator values
// and the matcher's rows. Indicators that differ from the others of their
// import only by value — every line of a plain list or Zeek intel file —
// are kept as one narrow row each in list_indicators plus a shared row in
// indicator_shapes (shape.go), and their "indicates" relationship as the
// shape's actor; every read path rebuilds exactly the objects that were
// put. A full version of such an indicator turns it back into a full
// object. Imports write buffered indicators in id order, in batches that a
// second goroutine writes while the reader fills the next.
//
// Objects are stored as the JSON of intel.Object under its tags' names;
// what SQL filters or counts on (flags, warninglists, markings) is in
// columns, so no query reads inside the JSON. Sightings keep the columns a
// server filters and pages on (value, addresses, added time) beside their
// JSON (sightings.go); analysis runs and their campaigns are in analyses
// and analysis_campaigns (analyses.go). Schema 3 upgrades older databases
// in place (upgrade.go).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/listshape"
)

// Store is the SQLite implementation of store.Store.
type Store struct {
	db      *sql.DB
	readers readPool // see obskeys.go
	mu      sync.Mutex
	shapes  shapeCache
	implied impliedCache
}

var _ store.Store = (*Store)(nil)

// cacheSizeKiB is the page cache (negative: in KiB), sized for imports.
const cacheSizeKiB = -262144

const timeFmt = "2006-01-02T15:04:05.000000000Z"

// uriPath escapes the characters that end or escape the path part of an
// SQLite URI filename, so that "case#2" or "a?b.db" open that very file
// and never another one ("case", "a").
func uriPath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
}

// Open opens (creating if needed) the database at path and migrates it.
// On a full disk SQLite cannot size the WAL's shared-memory file, which
// every connection needs, so nothing could be read; when the database was
// closed cleanly (its WAL is empty) Open then opens it read-only as an
// immutable file, which needs no shared memory. Writes then fail as
// read-only (see ReadOnly) and reads work.
func Open(ctx context.Context, path string) (*Store, error) {
	s, err := open(ctx, path, "_pragma=journal_mode(WAL)")
	if err != nil && diskTrouble(err) && walEmpty(path) {
		if s2, err2 := open(ctx, path, "mode=ro&immutable=1"); err2 == nil {
			return s2, nil
		}
	}
	return s, err
}

func open(ctx context.Context, path, mode string) (*Store, error) {
	pragmas := "&_pragma=busy_timeout(10000)&_pragma=foreign_keys(OFF)&_pragma=temp_store(MEMORY)"
	dsn := "file:" + uriPath(path) + "?" + mode + "&_pragma=page_size(16384)&_pragma=synchronous(NORMAL)" + pragmas + "&_pragma=cache_size(" + strconv.Itoa(cacheSizeKiB) + ")&_pragma=wal_autocheckpoint(20000)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// One writer at a time is SQLite's model; a single connection also
	// keeps the WAL simple for an embedded CLI.
	db.SetMaxOpenConns(1)
	readMode := "mode=ro"
	if strings.Contains(mode, "immutable") {
		readMode = mode
	}
	s := &Store{db: db, readers: readPool{dsn: "file:" + uriPath(path) + "?" + readMode + pragmas}}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	var v int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this whodunit knows (%d)", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[i].sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if up := migrations[i].upgrade; up != nil {
			if err := up(ctx, tx); err != nil {
				tx.Rollback()
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error { return errors.Join(s.db.Close(), s.readers.close()) }

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFmt)
}

// parseTime reads what fmtTime wrote: the fixed layout is read by hand
// (compiling a million indicators parses a million timestamps), anything
// else through time.Parse.
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	if len(s) == len(timeFmt) && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' && s[19] == '.' && s[29] == 'Z' {
		num := func(a, b int) (int, bool) {
			n := 0
			for i := a; i < b; i++ {
				c := s[i]
				if c < '0' || c > '9' {
					return 0, false
				}
				n = n*10 + int(c-'0')
			}
			return n, true
		}
		y, ok1 := num(0, 4)
		mo, ok2 := num(5, 7)
		d, ok3 := num(8, 10)
		h, ok4 := num(11, 13)
		mi, ok5 := num(14, 16)
		se, ok6 := num(17, 19)
		ns, ok7 := num(20, 29)
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 {
			return time.Date(y, time.Month(mo), d, h, mi, se, ns, time.UTC)
		}
	}
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// Import implements store.Store.
func (s *Store) Import(ctx context.Context, src intel.Source, fn func(intel.Sink) error) (store.ImportResult, error) {
	res := store.ImportResult{Source: src}
	if src.ImportedAt.IsZero() {
		src.ImportedAt = time.Now().UTC()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, err
	}
	defer tx.Rollback()
	if src.SHA256 != "" {
		var id int64
		err := tx.QueryRowContext(ctx, "SELECT id FROM sources WHERE name = ? AND digest = ?", src.Name, src.SHA256).Scan(&id)
		if err == nil {
			res.Already = true
			res.Source.ID = id
			return res, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return res, err
		}
	}
	digest := src.SHA256
	if src.Digest != nil {
		digest = pendingDigest // replaced before commit, by recordDigest
	}
	r, err := tx.ExecContext(ctx, "INSERT INTO sources(name, path, format, imported_at, reliability, digest) VALUES (?,?,?,?,?,?)",
		src.Name, src.Path, src.Format, fmtTime(src.ImportedAt), src.Reliability.String(), digest)
	if err != nil {
		return res, err
	}
	src.ID, _ = r.LastInsertId()
	res.Source = src
	w, err := newWriter(ctx, tx, src.ID)
	if err != nil {
		return res, err
	}
	defer w.close()
	if err := fn(w); err != nil {
		return res, err
	}
	if err := w.flush(ctx); err != nil {
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
	if err := w.boundShapes(ctx); err != nil {
		return res, err
	}
	if err := tx.Commit(); err != nil {
		return res, err
	}
	s.forgetShapes()
	res.New = w.added
	return res, nil
}

// pendingDigest marks a source whose digest is known only at commit; no
// committed row keeps it.
const pendingDigest = "pending"

// recordDigest stores digest on the new source src, unless a source of
// the same name already has it: then it returns that source's id.
func recordDigest(ctx context.Context, tx *sql.Tx, src *intel.Source, digest string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM sources WHERE name = ? AND digest = ? AND id <> ?", src.Name, digest, src.ID).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	src.SHA256 = digest
	_, err = tx.ExecContext(ctx, "UPDATE sources SET digest = ? WHERE id = ?", digest, src.ID)
	return 0, err
}

// Object implements store.Store.
func (s *Store) Object(ctx context.Context, id string) (*intel.Object, error) {
	var data, raw []byte
	err := s.db.QueryRowContext(ctx, "SELECT data, raw FROM objects WHERE id = ?", id).Scan(&data, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		o, _, err := s.shapedObject(ctx, id)
		if err != nil {
			return nil, err
		}
		if o == nil {
			return nil, fmt.Errorf("%s: %w", id, store.ErrNotFound)
		}
		return o, nil
	}
	if err != nil {
		return nil, err
	}
	return store.DecodeObject(data, raw)
}

// Versions implements store.Store.
func (s *Store) Versions(ctx context.Context, id string) ([]*intel.Object, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT data, raw, modified FROM object_versions WHERE id = ?
		UNION ALL SELECT data, raw, modified FROM objects WHERE id = ? ORDER BY 3`, id, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*intel.Object
	var mods []string
	for rows.Next() {
		var data, raw []byte
		var mod string
		if err := rows.Scan(&data, &raw, &mod); err != nil {
			return nil, err
		}
		o, err := store.DecodeObject(data, raw)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
		mods = append(mods, mod)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	o, sh, err := s.shapedObject(ctx, id)
	if err != nil || o == nil {
		return out, err
	}
	// the current version of a shaped indicator goes after the older ones
	i := sort.SearchStrings(mods, sh.modified)
	for i < len(mods) && mods[i] == sh.modified {
		i++
	}
	return append(out[:i], append([]*intel.Object{o}, out[i:]...)...), nil
}

// FindByName implements store.Store.
func (s *Store) FindByName(ctx context.Context, name string, types ...string) ([]*intel.Object, error) {
	norm := store.NormName(name)
	if norm == "" {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT o.data, o.raw FROM names n JOIN objects o ON o.id = n.object_id
		WHERE n.norm = ? ORDER BY o.id`, norm)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*intel.Object
	for rows.Next() {
		var data, raw []byte
		if err := rows.Scan(&data, &raw); err != nil {
			return nil, err
		}
		o, err := store.DecodeObject(data, raw)
		if err != nil {
			return nil, err
		}
		if len(types) == 0 || contains(types, o.Type) {
			out = append(out, o)
		}
	}
	return out, rows.Err()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Objects implements store.Store. Shaped indicators and the relationships
// they stand for are merged into the same order (type, name, id).
func (s *Store) Objects(ctx context.Context, q store.ObjectQuery, fn func(*intel.Object) error) error {
	var where, shapedWhere []string
	var args, shapedArgs []any
	if len(q.Types) > 0 {
		where = append(where, "o.type IN ("+placeholders(len(q.Types))+")")
		for _, t := range q.Types {
			args = append(args, t)
		}
	}
	if q.Source != "" {
		where = append(where, "(o.source_id IN (SELECT id FROM sources WHERE name = ?) OR o.id IN (SELECT os.object_id FROM object_sources os JOIN sources s ON s.id = os.source_id WHERE s.name = ?))")
		args = append(args, q.Source, q.Source)
		shapedWhere = append(shapedWhere, `(l.shape IN (SELECT sh.id FROM indicator_shapes sh JOIN sources s ON s.id = sh.source_id WHERE s.name = ?)
			OR l.id IN (SELECT os.object_id FROM object_sources os JOIN sources s ON s.id = os.source_id WHERE s.name = ?))`)
		shapedArgs = append(shapedArgs, q.Source, q.Source)
	}
	if q.ValueType != "" {
		where = append(where, "o.id IN (SELECT indicator_id FROM indicator_values WHERE type = ?)")
		args = append(args, string(q.ValueType))
		shapedWhere = append(shapedWhere, "l.type = ?")
		shapedArgs = append(shapedArgs, string(q.ValueType))
	}
	if q.Actor != "" {
		ids, err := store.ActorCluster(ctx, s, q.Actor)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		targets, err := s.reachableTargets(ctx, ids)
		if err != nil {
			return err
		}
		in := placeholders(len(targets))
		indicates := "SELECT source_ref FROM relationships WHERE type = 'indicates' AND target_ref IN (" + in + ")"
		where = append(where, "o.id IN ("+indicates+")")
		args = append(args, toAny(targets)...)
		shapedWhere = append(shapedWhere, "(l.shape IN (SELECT id FROM indicator_shapes WHERE indicates IN ("+in+")) OR l.id IN ("+indicates+"))")
		shapedArgs = append(append(shapedArgs, toAny(targets)...), toAny(targets)...)
	}
	parts := []string{"SELECT o.type, o.name, o.id, o.data, o.raw, 0, '', '', 0, '', 0 FROM objects o" + whereClause(where)}
	all := args
	wantType := func(t string) bool { return len(q.Types) == 0 || contains(q.Types, t) }
	if wantType(intel.TypeIndicator) {
		parts = append(parts, "SELECT 'indicator', l.value, l.id, NULL, l.raw, l.shape, l.type, l.value, l.port, l.lists, 0 FROM list_indicators l"+whereClause(shapedWhere))
		all = append(all, shapedArgs...)
	}
	// the relationships shaped indicators stand for, where the filters
	// can hold for a relationship: not by value type or actor
	if wantType(intel.TypeRelationship) && q.ValueType == "" && q.Actor == "" {
		relWhere := []string{"l.shape IN (SELECT id FROM indicator_shapes WHERE indicates <> '')"}
		var relArgs []any
		if q.Source != "" {
			relWhere = append(relWhere, "l.shape IN (SELECT sh.id FROM indicator_shapes sh JOIN sources s ON s.id = sh.source_id WHERE s.name = ?)")
			relArgs = append(relArgs, q.Source)
		}
		parts = append(parts, "SELECT 'relationship', '', l.id, NULL, NULL, l.shape, l.type, l.value, l.port, l.lists, 1 FROM list_indicators l"+whereClause(relWhere))
		all = append(all, relArgs...)
	}
	query := strings.Join(parts, " UNION ALL ") + " ORDER BY 1, 2, 3"
	if q.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	// loaded before the query: its one connection is busy until the end
	shapes, err := s.allShapes(ctx)
	if err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, query, all...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var typ, name, id, vtype, value, lists string
		var data, raw []byte
		var shapeID int64
		var port, rel int
		if err := rows.Scan(&typ, &name, &id, &data, &raw, &shapeID, &vtype, &value, &port, &lists, &rel); err != nil {
			return err
		}
		var o *intel.Object
		if shapeID == 0 {
			if o, err = store.DecodeObject(data, raw); err != nil {
				return err
			}
		} else {
			sh, ok := shapes[shapeID]
			if !ok {
				return fmt.Errorf("stored indicator %s: no shape %d", id, shapeID)
			}
			o = sh.object(id, intel.Observable{Type: intel.ValueType(vtype), Value: value, Port: port}, lists, raw)
			if rel != 0 {
				o = impliedRelationship(o, sh.indicates)
			}
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	return rows.Err()
}

func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// reachableTargets adds to actor ids the threat-actors attributed to them, so
// that indicators of a persona (APT1's Ugly Gorilla) count for the group.
func (s *Store) reachableTargets(ctx context.Context, ids []string) ([]string, error) {
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	rows, err := s.db.QueryContext(ctx, "SELECT target_ref FROM relationships WHERE type = 'attributed-to' AND source_ref IN ("+placeholders(len(ids))+")", toAny(ids)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := append([]string(nil), ids...)
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out, rows.Err()
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// Count implements store.Store.
func (s *Store) Count(ctx context.Context, objType string) (int, error) {
	var n, shaped int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM objects WHERE type = ?", objType).Scan(&n); err != nil {
		return 0, err
	}
	switch objType {
	case intel.TypeIndicator:
		if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM list_indicators").Scan(&shaped); err != nil {
			return 0, err
		}
	case intel.TypeRelationship:
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM list_indicators
			WHERE shape IN (SELECT id FROM indicator_shapes WHERE indicates <> '')`).Scan(&shaped); err != nil {
			return 0, err
		}
	}
	return n + shaped, nil
}

// MatchIndicators implements store.Store: one pass over narrow rows.
func (s *Store) MatchIndicators(ctx context.Context, fn func(*intel.Object) error) error {
	// Each page is read once: a small page cache keeps the pass from
	// holding hundreds of MB beside the snapshot being built.
	if _, err := s.db.ExecContext(ctx, "PRAGMA cache_size = -16384"); err != nil {
		return err
	}
	defer s.db.ExecContext(context.WithoutCancel(ctx), "PRAGMA cache_size = "+strconv.Itoa(cacheSizeKiB))
	rows, err := s.db.QueryContext(ctx, `SELECT id, modified, revoked, valid_from, valid_until, flags, pattern_type, pattern, lists, vals
		FROM match_indicators ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, mod, from, until, ptype, pat, lists, vals string
		var revoked bool
		var flags int
		if err := rows.Scan(&id, &mod, &revoked, &from, &until, &flags, &ptype, &pat, &lists, &vals); err != nil {
			return err
		}
		row := store.MatchRow{ID: id, Modified: parseTime(mod), Revoked: revoked, ValidFrom: parseTime(from), ValidUntil: parseTime(until),
			Flags: flags, PatternType: ptype, Pattern: pat, Lists: lists, Vals: vals}
		o, err := row.Indicator()
		if err != nil {
			return err
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	return s.matchShaped(ctx, fn)
}

// matchShaped streams the shaped indicators as MatchIndicators does,
// without their patterns: each has its one observable.
func (s *Store) matchShaped(ctx context.Context, fn func(*intel.Object) error) error {
	shapes, err := s.allShapes(ctx)
	if err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, "SELECT id, shape, type, value, port, lists FROM list_indicators ORDER BY id")
	if err != nil {
		return err
	}
	defer rows.Close()
	// indicators share their shape's parsed modified time
	modified := map[int64]time.Time{}
	for rows.Next() {
		var id, typ, value, lists string
		var shapeID int64
		var port int
		if err := rows.Scan(&id, &shapeID, &typ, &value, &port, &lists); err != nil {
			return err
		}
		sh, ok := shapes[shapeID]
		if !ok {
			return fmt.Errorf("stored indicator %s: no shape %d", id, shapeID)
		}
		mod, ok := modified[shapeID]
		if !ok {
			mod = parseTime(sh.modified)
			modified[shapeID] = mod
		}
		o := listshape.Lean(&sh.tmpl, mod, id, intel.Observable{Type: intel.ValueType(typ), Value: value, Port: port}, lists)
		if err := fn(o); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Relationships implements store.Store.
func (s *Store) Relationships(ctx context.Context, id string) ([]*intel.Object, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT o.data, o.raw FROM relationships r JOIN objects o ON o.id = r.id
		WHERE r.source_ref = ? OR r.target_ref = ? ORDER BY r.type, r.id`, id, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*intel.Object
	for rows.Next() {
		var data, raw []byte
		if err := rows.Scan(&data, &raw); err != nil {
			return nil, err
		}
		o, err := store.DecodeObject(data, raw)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	implied, err := s.shapedRelationships(ctx, id)
	if err != nil || len(implied) == 0 {
		return out, err
	}
	out = append(out, implied...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Relationship, out[j].Relationship
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func scanSource(sc interface{ Scan(...any) error }) (intel.Source, error) {
	var src intel.Source
	var at, rel string
	if err := sc.Scan(&src.ID, &src.Name, &src.Path, &src.Format, &at, &rel, &src.SHA256); err != nil {
		return src, err
	}
	src.ImportedAt = parseTime(at)
	if rel != "" {
		src.Reliability = intel.Reliability(rel[0])
	}
	return src, nil
}

const sourceCols = "s.id, s.name, s.path, s.format, s.imported_at, s.reliability, s.digest"

// ObjectSources implements store.Store.
func (s *Store) ObjectSources(ctx context.Context, id string) ([]intel.Source, error) {
	return s.querySources(ctx, "SELECT "+sourceCols+` FROM sources s WHERE s.id IN (SELECT source_id FROM objects WHERE id = ?1
		UNION SELECT source_id FROM object_sources WHERE object_id = ?1
		UNION SELECT sh.source_id FROM list_indicators l JOIN indicator_shapes sh ON sh.id = l.shape WHERE l.id = ?1) ORDER BY s.id`, id)
}

// Sources implements store.Store.
func (s *Store) Sources(ctx context.Context) ([]intel.Source, error) {
	return s.querySources(ctx, "SELECT "+sourceCols+" FROM sources s ORDER BY s.id")
}

func (s *Store) querySources(ctx context.Context, q string, args ...any) ([]intel.Source, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []intel.Source
	for rows.Next() {
		src, err := scanSource(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, src)
	}
	return out, rows.Err()
}

// Names implements store.Store.
func (s *Store) Names(ctx context.Context, id string) ([]store.NameRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT n.display, n.kind, s.name FROM names n JOIN sources s ON s.id = n.source_id
		WHERE n.object_id = ? ORDER BY CASE n.kind WHEN 'name' THEN 0 WHEN 'alias' THEN 1 ELSE 2 END, n.display, s.id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.NameRecord
	for rows.Next() {
		var r store.NameRecord
		if err := rows.Scan(&r.Name, &r.Kind, &r.Source); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Warninglists implements store.Store.
func (s *Store) Warninglists(ctx context.Context) ([]*intel.Warninglist, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT name, description, version, match_type, category, attributes, entries FROM warninglists ORDER BY name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*intel.Warninglist
	for rows.Next() {
		w := new(intel.Warninglist)
		var attrs string
		var entries []byte
		if err := rows.Scan(&w.Name, &w.Description, &w.Version, &w.MatchType, &w.Category, &attrs, &entries); err != nil {
			return nil, err
		}
		if attrs != "" {
			w.Attributes = strings.Split(attrs, "\n")
		}
		if len(entries) > 0 {
			w.Entries = strings.Split(string(entries), "\n")
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// ActorLinks implements store.Store.
func (s *Store) ActorLinks(ctx context.Context) ([]store.ActorLink, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, a, b, rule, detail, created, undone FROM actor_links ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.ActorLink
	for rows.Next() {
		var l store.ActorLink
		var created string
		var undone int
		if err := rows.Scan(&l.ID, &l.A, &l.B, &l.Rule, &l.Detail, &created, &undone); err != nil {
			return nil, err
		}
		l.Created = parseTime(created)
		l.Undone = undone != 0
		out = append(out, l)
	}
	return out, rows.Err()
}

// LinkActors implements store.Store.
func (s *Store) LinkActors(ctx context.Context, a, b, detail string) error {
	a, b = orderPair(a, b)
	_, err := s.db.ExecContext(ctx, `INSERT INTO actor_links(a, b, rule, detail, created) VALUES (?,?,'manual',?,?)
		ON CONFLICT(a, b, rule) DO UPDATE SET undone = 0, detail = excluded.detail`, a, b, detail, fmtTime(time.Now()))
	return err
}

// UnlinkActors implements store.Store.
func (s *Store) UnlinkActors(ctx context.Context, a, b string) (int, error) {
	a, b = orderPair(a, b)
	r, err := s.db.ExecContext(ctx, "UPDATE actor_links SET undone = 1 WHERE a = ? AND b = ? AND undone = 0", a, b)
	if err != nil {
		return 0, err
	}
	n, _ := r.RowsAffected()
	return int(n), nil
}

func orderPair(a, b string) (string, string) {
	if b < a {
		return b, a
	}
	return a, b
}

// IntelStats implements store.Store.
func (s *Store) IntelStats(ctx context.Context) (store.IntelStats, error) {
	st := store.IntelStats{Objects: map[string]int{}, IndicatorTypes: map[string]int{}, BySource: map[string]int{},
		ByActor: map[string]int{}, ByMarking: map[string]int{}}
	count := func(q string, m map[string]int, args ...any) error {
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var n int
			if err := rows.Scan(&k, &n); err != nil {
				return err
			}
			m[k] += n
		}
		return rows.Err()
	}
	if err := count("SELECT type, count(*) FROM objects GROUP BY type", st.Objects); err != nil {
		return st, err
	}
	if err := count("SELECT type, count(DISTINCT indicator_id) FROM indicator_values GROUP BY type", st.IndicatorTypes); err != nil {
		return st, err
	}
	if err := count(`SELECT s.name, count(*) FROM (SELECT source_id FROM objects UNION ALL SELECT source_id FROM object_sources) x
		JOIN sources s ON s.id = x.source_id GROUP BY s.name`, st.BySource); err != nil {
		return st, err
	}
	one := func(q string, dst *int) error { return s.db.QueryRowContext(ctx, q).Scan(dst) }
	var patternOnly int
	for q, dst := range map[string]*int{
		"SELECT count(*) FROM object_versions": &st.Versions,
		"SELECT count(*) FROM sources":         &st.Sources,
		"SELECT count(*) FROM warninglists":    &st.Warninglists,
		// the flags of current full indicators are columns of match_indicators
		"SELECT count(*) FROM match_indicators WHERE vals = '' AND flags & 1 = 0": &patternOnly,
		"SELECT count(*) FROM match_indicators WHERE flags & 1 <> 0":              &st.HostOnly,
		"SELECT count(*) FROM match_indicators WHERE flags & 3 = 0":               &st.Network,
		"SELECT count(*) FROM match_indicators WHERE flags & 2 <> 0":              &st.Context,
		"SELECT count(*) FROM objects WHERE type = 'indicator' AND revoked = 1":   &st.Revoked,
		"SELECT count(*) FROM match_indicators WHERE lists <> ''":                 &st.Warninglisted,
	} {
		if err := one(q, dst); err != nil {
			return st, err
		}
	}
	if patternOnly > 0 {
		st.IndicatorTypes["stix-pattern"] = patternOnly
	}
	shapedMarks, err := s.shapedStats(ctx, &st)
	if err != nil {
		return st, err
	}
	// Markings: count objects per marking id, named by the marking definition.
	markNames := map[string]string{}
	if err := s.Objects(ctx, store.ObjectQuery{Types: []string{intel.TypeMarkingDef}}, func(o *intel.Object) error {
		markNames[o.ID] = o.Name
		return nil
	}); err != nil {
		return st, err
	}
	byID := shapedMarks
	bySet := map[string]int{}
	if err := count(`SELECT markings, count(*) FROM objects WHERE markings <> '' AND type <> 'marking-definition' GROUP BY markings`,
		bySet); err != nil {
		return st, err
	}
	for set, n := range bySet { // an object with several markings counts for each
		for _, m := range strings.Split(set, "\n") {
			byID[m] += n
		}
	}
	for id, n := range byID {
		name := markNames[id]
		if name == "" {
			name = id
		}
		st.ByMarking[name] += n
	}
	// Indicators per actor: follow "indicates" to actors (and to the groups
	// their personas are attributed to), resolved through actor links.
	if err := s.indicatorsByActor(ctx, st.ByActor); err != nil {
		return st, err
	}
	return st, nil
}

// shapedStats adds the shaped indicators, and the relationships they
// stand for, to st in one pass, and returns their counts by marking id.
func (s *Store) shapedStats(ctx context.Context, st *store.IntelStats) (map[string]int, error) {
	shapes, err := s.allShapes(ctx)
	if err != nil {
		return nil, err
	}
	perShape := map[int64]int{}
	if err := func() error {
		rows, err := s.db.QueryContext(ctx, "SELECT shape, type, lists <> '' FROM list_indicators")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var shapeID int64
			var typ string
			var listed bool
			if err := rows.Scan(&shapeID, &typ, &listed); err != nil {
				return err
			}
			perShape[shapeID]++
			st.IndicatorTypes[typ]++
			if listed {
				st.Warninglisted++
			}
		}
		return rows.Err()
	}(); err != nil {
		return nil, err
	}
	sourceNames := map[int64]string{}
	srcs, err := s.Sources(ctx)
	if err != nil {
		return nil, err
	}
	for _, src := range srcs {
		sourceNames[src.ID] = src.Name
	}
	marks := map[string]int{}
	for id, n := range perShape {
		sh, ok := shapes[id]
		if !ok {
			return nil, fmt.Errorf("stored indicators of missing shape %d", id)
		}
		objs := n // the indicators, and as many relationships when they indicate an actor
		st.Objects[intel.TypeIndicator] += n
		if sh.indicates != "" {
			st.Objects[intel.TypeRelationship] += n
			objs += n
		}
		st.BySource[sourceNames[sh.sourceID]] += objs
		for _, m := range sh.tmpl.Markings {
			marks[m] += objs
		}
		t := sh.tmpl.Indicator
		switch {
		case t.HostOnly:
			st.HostOnly += n
		case t.Context:
			st.Context += n
		default:
			st.Network += n
		}
		if sh.tmpl.Revoked {
			st.Revoked += n
		}
	}
	// their second sources are in object_sources, which the caller counts
	return marks, nil
}

func (s *Store) indicatorsByActor(ctx context.Context, out map[string]int) error {
	actorName, err := store.CanonicalActorNames(ctx, s)
	if err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT target_ref, count(DISTINCT source_ref) FROM relationships WHERE type = 'indicates' GROUP BY target_ref
		UNION ALL SELECT sh.indicates, count(*) FROM list_indicators l JOIN indicator_shapes sh ON sh.id = l.shape WHERE sh.indicates <> '' GROUP BY sh.indicates`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var target string
		var n int
		if err := rows.Scan(&target, &n); err != nil {
			return err
		}
		if name, ok := actorName(target); ok {
			out[name] += n
		}
	}
	return rows.Err()
}

// sortedKeys is used for deterministic output in tests and stats.
func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
