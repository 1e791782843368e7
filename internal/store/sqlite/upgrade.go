package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store"
)

// Schema 3 renamed the keys of stored objects: intel.Object's fields had
// no names in their tags, so their Go names were in the database. The
// upgrade reads each stored document with the keys renamed from Go names
// to the tags' names and writes it again as store.EncodeObject does.

// keyMap renames the keys of one JSON object: old (Go) name to new (tag)
// name, and the map of what each new key holds, when it is a struct.
type keyMap struct {
	names map[string]string
	sub   map[string]*keyMap
}

var (
	objectKeysOnce sync.Once
	objectKeys     *keyMap
)

// legacyObjectKeys is the key map of intel.Object, made once from its tags.
func legacyObjectKeys() *keyMap {
	objectKeysOnce.Do(func() { objectKeys = keyMapOf(reflect.TypeFor[intel.Object]()) })
	return objectKeys
}

var (
	marshalerType = reflect.TypeFor[json.Marshaler]()
	timeType      = reflect.TypeFor[time.Time]()
)

// keyMapOf follows pointers, slices and arrays to the struct t holds; nil
// when it holds none, or one that encodes itself (time.Time).
func keyMapOf(t reflect.Type) *keyMap {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == timeType || reflect.PointerTo(t).Implements(marshalerType) {
		return nil
	}
	km := &keyMap{names: map[string]string{}, sub: map[string]*keyMap{}}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		km.names[f.Name] = name
		if sub := keyMapOf(f.Type); sub != nil {
			km.sub[name] = sub
		}
	}
	return km
}

// rename renames the keys of v, a decoded JSON value, in place.
func (km *keyMap) rename(v any) any {
	switch x := v.(type) {
	case []any:
		for i := range x {
			x[i] = km.rename(x[i])
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			nk, ok := km.names[k]
			if !ok {
				nk = k // not a field: keep what was there
			}
			if sub := km.sub[nk]; sub != nil {
				val = sub.rename(val)
			}
			out[nk] = val
		}
		return out
	}
	return v
}

// upgradeLegacyObject reads data written with Go names and returns it as
// store.EncodeObject writes it now, with the object.
func upgradeLegacyObject(data []byte) ([]byte, *intel.Object, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers pass through unchanged
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, nil, err
	}
	renamed, err := json.Marshal(legacyObjectKeys().rename(v))
	if err != nil {
		return nil, nil, err
	}
	o := new(intel.Object)
	if err := json.Unmarshal(renamed, o); err != nil {
		return nil, nil, err
	}
	out, err := store.EncodeObject(o)
	return out, o, err
}

// upgradeToV3 rewrites the stored objects, versions and shape templates
// with the new key names, fills objects.markings, and fills the new
// sighting columns from the stored sightings.
func upgradeToV3(ctx context.Context, tx *sql.Tx) error {
	if err := rewriteRows(ctx, tx, "objects", "SELECT id, '', data FROM objects WHERE id > ?1 ORDER BY id LIMIT 1000",
		"UPDATE objects SET data = ?, markings = ? WHERE id = ?", true); err != nil {
		return err
	}
	if err := rewriteRows(ctx, tx, "object_versions", `SELECT id, modified, data FROM object_versions
		WHERE id > ?1 OR (id = ?1 AND modified > ?2) ORDER BY id, modified LIMIT 1000`,
		"UPDATE object_versions SET data = ? WHERE id = ? AND modified = ?", false); err != nil {
		return err
	}
	if err := rewriteRows(ctx, tx, "indicator_shapes", "SELECT CAST(id AS TEXT), '', template FROM indicator_shapes WHERE id > CAST(?1 AS INTEGER) ORDER BY id LIMIT 1000",
		"UPDATE indicator_shapes SET template = ? WHERE id = CAST(? AS INTEGER)", false); err != nil {
		return err
	}
	return fillSightingColumns(ctx, tx)
}

// rewriteRows upgrades the JSON of a table in pages of (key, second key,
// data) rows, after the last key of the page before.
func rewriteRows(ctx context.Context, tx *sql.Tx, table, page, update string, markings bool) error {
	type row struct{ k1, k2, data string }
	k1, k2 := "", ""
	for {
		args := []any{k1}
		if strings.Contains(page, "?2") {
			args = append(args, k2)
		}
		rows, err := tx.QueryContext(ctx, page, args...)
		if err != nil {
			return fmt.Errorf("%s: %w", table, err)
		}
		var batch []row
		for rows.Next() {
			var r row
			var data []byte
			if err := rows.Scan(&r.k1, &r.k2, &data); err != nil {
				rows.Close()
				return fmt.Errorf("%s: %w", table, err)
			}
			r.data = string(data)
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%s: %w", table, err)
		}
		if len(batch) == 0 {
			return nil
		}
		for _, r := range batch {
			data, o, err := upgradeLegacyObject([]byte(r.data))
			if err != nil {
				return fmt.Errorf("%s row %s: stored JSON: %w", table, r.k1, err)
			}
			args := []any{data}
			if markings {
				args = append(args, strings.Join(o.Markings, "\n"))
			}
			args = append(args, r.k1)
			if !markings && r.k2 != "" {
				args = append(args, r.k2)
			}
			if _, err := tx.ExecContext(ctx, update, args...); err != nil {
				return fmt.Errorf("%s row %s: %w", table, r.k1, err)
			}
		}
		last := batch[len(batch)-1]
		k1, k2 = last.k1, last.k2
	}
}

// fillSightingColumns copies value and addresses out of each stored
// sighting; all of them are taken as added now, the first time known.
func fillSightingColumns(ctx context.Context, tx *sql.Tx) error {
	now := fmtTime(time.Now())
	key := ""
	for {
		rows, err := tx.QueryContext(ctx, "SELECT key, data FROM sightings WHERE key > ? ORDER BY key LIMIT 1000", key)
		if err != nil {
			return err
		}
		type row struct {
			key string
			sg  match.Sighting
		}
		var batch []row
		for rows.Next() {
			var r row
			var data []byte
			if err := rows.Scan(&r.key, &data); err != nil {
				rows.Close()
				return err
			}
			if err := decodeLegacySighting(data, &r.sg); err != nil {
				rows.Close()
				return fmt.Errorf("stored sighting %s: %w", r.key, err)
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		for _, r := range batch {
			if _, err := tx.ExecContext(ctx, "UPDATE sightings SET value = ?, src = ?, dst = ?, added = ? WHERE key = ?",
				r.sg.Value, addrText(r.sg.SrcIP), addrText(r.sg.DstIP), now, r.key); err != nil {
				return err
			}
		}
		key = batch[len(batch)-1].key
	}
}
