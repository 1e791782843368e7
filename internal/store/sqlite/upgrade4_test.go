package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

// legacyJSON encodes the struct v as stores before schema 4 did: with Go's
// field names as keys (the types had no JSON tags); values keep their own
// encoding.
func legacyJSON(t *testing.T, v any) []byte {
	t.Helper()
	rv := reflect.ValueOf(v)
	m := map[string]any{}
	for i := 0; i < rv.NumField(); i++ {
		f := rv.Type().Field(i)
		if f.Name == "Source" && rv.Field(i).String() == "" {
			continue // it was omitempty
		}
		m[f.Name] = rv.Field(i).Interface()
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func legacyDetection() behavior.Detection {
	return behavior.Detection{ID: "beacon-1", Analytic: behavior.Beacon, Src: netip.MustParseAddr("10.0.0.5"),
		Dst: netip.MustParseAddr("58.246.20.7"), DstName: "msnhome.org", DstPort: 443, Proto: "tcp", DstASN: 4837, DstASOrg: "CHINA UNICOM",
		SrcAliases: []netip.Addr{netip.MustParseAddr("fd00::5")}, Score: 0.8, RawScore: 0.9, FirstSeen: fixtureT0, LastSeen: fixtureT0.Add(3600e9),
		Count: 60, Parts: map[string]float64{"interval_skew": 0.1, "Score": 2}, Facts: []string{"median interval 60s ± 9s"},
		Modifiers: []behavior.Modifier{{Name: "allowlist", Factor: 0.5, Reason: "lab"}}, Samples: []string{"conn.log:7"}}
}

// storeAtSchema3 writes a store, then takes it back to schema 3 with the
// findings stored under Go's field names, as that schema kept them.
func storeAtSchema3(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v3.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	sg := fixtureSightings()
	sg[1].Source = "sensor-1/conn.log"
	if _, err := s.PutSightings(ctx, sg); err != nil {
		t.Fatal(err)
	}
	if err := s.PutDetections(ctx, []behavior.Detection{legacyDetection()}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range sg {
		if _, err := db.Exec("UPDATE sightings SET data = ? WHERE key = ?", legacyJSON(t, sg[i]), sg[i].Key()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec("UPDATE detections SET data = ?", legacyJSON(t, legacyDetection())); err != nil {
		t.Fatal(err)
	}
	for _, q := range append(undoSchema5, "DROP TABLE scans", "PRAGMA user_version = 3") {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func TestUpgradeFromSchema3RenamesFindingKeys(t *testing.T) {
	ctx := context.Background()
	path := storeAtSchema3(t)
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("upgrading a schema-3 database: %v", err)
	}
	defer s.Close()
	want := fixtureSightings()
	want[1].Source = "sensor-1/conn.log"
	var got []match.Sighting
	if err := s.Sightings(ctx, store.SightingQuery{}, func(sg *match.Sighting) error { got = append(got, *sg); return nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, addrCmp); diff != "" {
		t.Errorf("sightings after the upgrade (-want +got):\n%s", diff)
	}
	var dets []behavior.Detection
	if err := s.Detections(ctx, func(d *behavior.Detection) error { dets = append(dets, *d); return nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]behavior.Detection{legacyDetection()}, dets, addrCmp); diff != "" {
		t.Errorf("detections after the upgrade (-want +got):\n%s", diff)
	}
	if scans, err := s.Scans(ctx); err != nil || len(scans) != 0 {
		t.Errorf("scans after the upgrade: %v, %v", scans, err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT key, data FROM sightings UNION ALL SELECT id, data FROM detections")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	keys := map[string]bool{}
	for rows.Next() {
		var key, data string
		if err := rows.Scan(&key, &data); err != nil {
			t.Fatal(err)
		}
		keys[key] = true
		for _, goName := range []string{`"IndicatorID"`, `"SrcIP"`, `"Analytic"`, `"DstName"`, `"Source"`} {
			if strings.Contains(data, goName) {
				t.Errorf("row %s still has %s: %s", key, goName, data)
			}
		}
	}
	for _, sg := range want {
		if !keys[sg.Key()] {
			t.Errorf("sighting key %s (line %d) is gone", sg.Key(), sg.Line)
		}
	}
}
