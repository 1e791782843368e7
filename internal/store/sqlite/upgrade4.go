package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/match"
)

// Schema 4 renamed the keys of stored sightings and detections: their
// types had no JSON tags, so Go's field names ("IndicatorID") were in the
// database. The upgrade renames them with the same key maps as schema 3
// and writes each blob again as PutSightings and PutDetections do.

var (
	findingKeysOnce sync.Once
	sightingKeys    *keyMap
	detectionKeys   *keyMap
)

func legacyFindingKeys() (*keyMap, *keyMap) {
	findingKeysOnce.Do(func() {
		sightingKeys = keyMapOf(reflect.TypeFor[match.Sighting]())
		detectionKeys = keyMapOf(reflect.TypeFor[behavior.Detection]())
	})
	return sightingKeys, detectionKeys
}

// decodeLegacy reads data written with Go's field names (or already with
// the tags' names: keys that are no Go name pass through) into v.
func decodeLegacy(data []byte, km *keyMap, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	renamed, err := json.Marshal(km.rename(raw))
	if err != nil {
		return err
	}
	return json.Unmarshal(renamed, v)
}

// decodeLegacySighting reads a sighting stored before schema 4.
func decodeLegacySighting(data []byte, sg *match.Sighting) error {
	km, _ := legacyFindingKeys()
	return decodeLegacy(data, km, sg)
}

func upgradeToV4(ctx context.Context, tx *sql.Tx) error {
	sk, dk := legacyFindingKeys()
	if err := rewriteFindings(ctx, tx, "sightings", "key", sk, func() any { return new(match.Sighting) }); err != nil {
		return err
	}
	return rewriteFindings(ctx, tx, "detections", "id", dk, func() any { return new(behavior.Detection) })
}

// rewriteFindings re-encodes the data column of table, in pages by key.
func rewriteFindings(ctx context.Context, tx *sql.Tx, table, keyCol string, km *keyMap, fresh func() any) error {
	page := fmt.Sprintf("SELECT %s, data FROM %s WHERE %s > ? ORDER BY %s LIMIT 1000", keyCol, table, keyCol, keyCol)
	update := fmt.Sprintf("UPDATE %s SET data = ? WHERE %s = ?", table, keyCol)
	last := ""
	for {
		type row struct {
			key  string
			data []byte
		}
		rows, err := tx.QueryContext(ctx, page, last)
		if err != nil {
			return fmt.Errorf("%s: %w", table, err)
		}
		var batch []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.key, &r.data); err != nil {
				rows.Close()
				return fmt.Errorf("%s: %w", table, err)
			}
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
			v := fresh()
			if err := decodeLegacy(r.data, km, v); err != nil {
				return fmt.Errorf("%s row %s: stored JSON: %w", table, r.key, err)
			}
			data, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("%s row %s: %w", table, r.key, err)
			}
			if _, err := tx.ExecContext(ctx, update, data, r.key); err != nil {
				return fmt.Errorf("%s row %s: %w", table, r.key, err)
			}
		}
		last = batch[len(batch)-1].key
	}
}
