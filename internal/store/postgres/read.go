package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

// params numbers the arguments of a query as it is built.
type params struct{ args []any }

// add returns the placeholder of v.
func (p *params) add(v any) string {
	p.args = append(p.args, v)
	return fmt.Sprintf("$%d", len(p.args))
}

// Object implements store.Store.
func (s *Store) Object(ctx context.Context, id string) (*intel.Object, error) {
	var data, raw []byte
	err := s.pool.QueryRow(ctx, "SELECT data, raw FROM objects WHERE id = $1", id).Scan(&data, &raw)
	if isNoRows(err) {
		return s.objectOrListed(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	return store.DecodeObject(data, raw)
}

// objectOrListed reads id as an object or a shaped indicator in one
// snapshot: an import may have turned the one into the other since the
// first look.
func (s *Store) objectOrListed(ctx context.Context, id string) (*intel.Object, error) {
	var o *intel.Object
	err := s.inSnapshot(ctx, func(tx pgx.Tx) error {
		var data, raw []byte
		err := tx.QueryRow(ctx, "SELECT data, raw FROM objects WHERE id = $1", id).Scan(&data, &raw)
		if err == nil {
			o, err = store.DecodeObject(data, raw)
			return err
		}
		if !isNoRows(err) {
			return err
		}
		if o, err = s.listObject(ctx, tx, id); err == nil && o == nil {
			err = fmt.Errorf("%s: %w", id, store.ErrNotFound)
		}
		return err
	})
	return o, err
}

// Versions implements store.Store. A shaped indicator (shapes.go) has
// one version; both forms are read in one snapshot.
func (s *Store) Versions(ctx context.Context, id string) ([]*intel.Object, error) {
	var out []*intel.Object
	err := s.inSnapshot(ctx, func(tx pgx.Tx) error {
		err := s.eachObjectOf(ctx, tx, `SELECT data, raw FROM (SELECT data, raw, modified FROM object_versions WHERE id = $1
			UNION ALL SELECT data, raw, modified FROM objects WHERE id = $1) v ORDER BY modified`, []any{id}, func(o *intel.Object) error {
			out = append(out, o)
			return nil
		})
		if err != nil || len(out) > 0 {
			return err
		}
		o, err := s.listObject(ctx, tx, id)
		if o != nil {
			out = append(out, o)
		}
		return err
	})
	return out, err
}

// objectList runs a query of (data, raw) rows.
func (s *Store) objectList(ctx context.Context, q string, args ...any) ([]*intel.Object, error) {
	var out []*intel.Object
	err := s.eachObject(ctx, q, args, func(o *intel.Object) error {
		out = append(out, o)
		return nil
	})
	return out, err
}

// eachObject streams the objects of a query of (data, raw) rows to fn.
func (s *Store) eachObject(ctx context.Context, q string, args []any, fn func(*intel.Object) error) error {
	return s.eachObjectOf(ctx, s.pool, q, args, fn)
}

// eachObjectOf is eachObject through db.
func (s *Store) eachObjectOf(ctx context.Context, db querier, q string, args []any, fn func(*intel.Object) error) error {
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	var data, raw []byte
	_, err = pgx.ForEachRow(rows, []any{&data, &raw}, func() error {
		o, err := store.DecodeObject(data, raw)
		if err != nil {
			return err
		}
		return fn(o)
	})
	return err
}

// FindByName implements store.Store.
func (s *Store) FindByName(ctx context.Context, name string, types ...string) ([]*intel.Object, error) {
	norm := store.NormName(name)
	if norm == "" {
		return nil, nil
	}
	q := `SELECT o.data, o.raw FROM objects o WHERE o.id IN (SELECT object_id FROM names WHERE norm = $1)`
	args := []any{norm}
	if len(types) > 0 {
		q += " AND o.type = ANY($2)"
		args = append(args, types)
	}
	return s.objectList(ctx, q+" ORDER BY o.id", args...)
}

// Objects implements store.Store, in the order (type, name, id): the
// objects rows and the shaped indicators (shapes.go) in one ordered
// query, each shaped indicator standing as type "indicator" named by its
// value.
func (s *Store) Objects(ctx context.Context, q store.ObjectQuery, fn func(*intel.Object) error) error {
	p := &params{}
	var targets []string
	if q.Actor != "" {
		var err error
		if targets, err = s.actorTargets(ctx, q.Actor); err != nil || len(targets) == 0 {
			return err
		}
	}
	parts := []string{"SELECT o.type, o.name, o.id, o.data, o.raw, 0::bigint, ''::text, ''::text, 0, ''::text FROM objects o" +
		whereClause(objectConds(q, targets, p))}
	listed := len(q.Types) == 0 || slices.Contains(q.Types, intel.TypeIndicator)
	if listed {
		parts = append(parts, `SELECT 'indicator' COLLATE "C", l.value, l.id, NULL::bytea, l.raw, l.shape, l.type, l.value, l.port, l.lists
			FROM list_indicators l`+whereClause(listConds(q, targets, p)))
	}
	query := strings.Join(parts, " UNION ALL ") + " ORDER BY 1, 2, 3"
	if q.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	// the shapes are read first, in the rows' snapshot
	return s.inSnapshot(ctx, func(tx pgx.Tx) error {
		var shapes map[int64]*listShape
		if listed {
			var err error
			if shapes, err = s.allListShapes(ctx, tx); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, query, p.args...)
		if err != nil {
			return err
		}
		return eachObjectRow(rows, shapes, fn)
	})
}

// eachObjectRow calls fn on the object of every row of Objects' query.
func eachObjectRow(rows pgx.Rows, shapes map[int64]*listShape, fn func(*intel.Object) error) error {
	var typ, name string
	var data []byte
	var r listRow
	_, err := pgx.ForEachRow(rows, []any{&typ, &name, &r.id, &data, &r.raw, &r.shape, &r.typ, &r.value, &r.port, &r.lists}, func() error {
		if r.shape == 0 {
			o, err := store.DecodeObject(data, r.raw)
			if err != nil {
				return err
			}
			return fn(o)
		}
		sh, ok := shapes[r.shape]
		if !ok {
			return fmt.Errorf("stored indicator %s: no shape %d", r.id, r.shape)
		}
		return fn(sh.object(&r))
	})
	return err
}

// objectConds are the conditions of q on objects rows (alias o).
func objectConds(q store.ObjectQuery, targets []string, p *params) []string {
	var where []string
	if len(q.Types) > 0 {
		where = append(where, "o.type = ANY("+p.add(q.Types)+")")
	}
	if q.Source != "" {
		n := p.add(q.Source)
		where = append(where, "(o.source_id IN (SELECT id FROM sources WHERE name = "+n+
			") OR o.id IN (SELECT os.object_id FROM object_sources os JOIN sources s ON s.id = os.source_id WHERE NOT os.latent AND s.name = "+n+"))")
	}
	if q.ValueType != "" {
		where = append(where, "o.id IN (SELECT indicator_id FROM indicator_values WHERE type = "+p.add(string(q.ValueType))+")")
	}
	if targets != nil {
		where = append(where, "o.id IN (SELECT source_ref FROM relationships WHERE type = 'indicates' AND target_ref = ANY("+p.add(targets)+"))")
	}
	return where
}

// listConds are the conditions of q on list rows (alias l).
func listConds(q store.ObjectQuery, targets []string, p *params) []string {
	var where []string
	if q.Source != "" {
		where = append(where, "l.shape IN (SELECT sh.id FROM indicator_shapes sh JOIN sources s ON s.id = sh.source_id WHERE s.name = "+p.add(q.Source)+")")
	}
	if q.ValueType != "" {
		where = append(where, "l.type = "+p.add(string(q.ValueType)))
	}
	if targets != nil {
		where = append(where, "l.id IN (SELECT source_ref FROM relationships WHERE type = 'indicates' AND target_ref = ANY("+p.add(targets)+"))")
	}
	return where
}

// actorTargets resolves a name or id to the ids of every actor record
// joined with it, and the threat-actors attributed to them, so that
// indicators of a persona (APT1's Ugly Gorilla) count for the group.
func (s *Store) actorTargets(ctx context.Context, nameOrID string) ([]string, error) {
	ids, err := store.ActorCluster(ctx, s, nameOrID)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, "SELECT DISTINCT target_ref FROM relationships WHERE type = 'attributed-to' AND source_ref = ANY($1) ORDER BY 1", ids)
	if err != nil {
		return nil, err
	}
	attributed, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	for _, t := range attributed {
		if !seen[t] {
			seen[t] = true
			ids = append(ids, t)
		}
	}
	return ids, nil
}

// Count implements store.Store.
func (s *Store) Count(ctx context.Context, objType string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM objects WHERE type = $1)
		+ CASE WHEN $1 = 'indicator' THEN (SELECT count(*) FROM list_indicators) ELSE 0 END`, objType).Scan(&n)
	return n, err
}

// Relationships implements store.Store.
func (s *Store) Relationships(ctx context.Context, id string) ([]*intel.Object, error) {
	return s.objectList(ctx, `SELECT o.data, o.raw FROM relationships r JOIN objects o ON o.id = r.id
		WHERE r.source_ref = $1 OR r.target_ref = $1 ORDER BY r.type, r.id`, id)
}

const sourceCols = "s.id, s.name, s.path, s.format, s.imported_at, s.reliability, s.digest"

// ObjectSources implements store.Store.
func (s *Store) ObjectSources(ctx context.Context, id string) ([]intel.Source, error) {
	return s.querySources(ctx, "SELECT "+sourceCols+` FROM sources s WHERE s.id IN (SELECT source_id FROM objects WHERE id = $1
		UNION SELECT source_id FROM object_sources WHERE object_id = $1 AND NOT latent
		UNION SELECT sh.source_id FROM list_indicators l JOIN indicator_shapes sh ON sh.id = l.shape WHERE l.id = $1) ORDER BY s.id`, id)
}

// Sources implements store.Store.
func (s *Store) Sources(ctx context.Context) ([]intel.Source, error) {
	return s.querySources(ctx, "SELECT "+sourceCols+" FROM sources s ORDER BY s.id")
}

func (s *Store) querySources(ctx context.Context, q string, args ...any) ([]intel.Source, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var out []intel.Source
	var src intel.Source
	var at, rel string
	_, err = pgx.ForEachRow(rows, []any{&src.ID, &src.Name, &src.Path, &src.Format, &at, &rel, &src.SHA256}, func() error {
		src.ImportedAt, src.Reliability = parseTime(at), 0
		if rel != "" {
			src.Reliability = intel.Reliability(rel[0])
		}
		out = append(out, src)
		return nil
	})
	return out, err
}

// Names implements store.Store.
func (s *Store) Names(ctx context.Context, id string) ([]store.NameRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT n.display, n.kind, s.name FROM names n JOIN sources s ON s.id = n.source_id
		WHERE n.object_id = $1 ORDER BY CASE n.kind WHEN 'name' THEN 0 WHEN 'alias' THEN 1 ELSE 2 END, n.display, s.id`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.NameRecord, error) {
		var n store.NameRecord
		err := r.Scan(&n.Name, &n.Kind, &n.Source)
		return n, err
	})
}

// Warninglists implements store.Store.
func (s *Store) Warninglists(ctx context.Context) ([]*intel.Warninglist, error) {
	rows, err := s.pool.Query(ctx, "SELECT name, description, version, match_type, category, attributes, entries FROM warninglists ORDER BY name")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*intel.Warninglist, error) {
		w := new(intel.Warninglist)
		var attrs, entries string
		if err := r.Scan(&w.Name, &w.Description, &w.Version, &w.MatchType, &w.Category, &attrs, &entries); err != nil {
			return nil, err
		}
		if attrs != "" {
			w.Attributes = strings.Split(attrs, "\n")
		}
		if entries != "" {
			w.Entries = strings.Split(entries, "\n")
		}
		return w, nil
	})
}
