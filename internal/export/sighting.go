package export

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

// stixRef reports a STIX identifier: type--uuid, lower-case hex.
func stixRef(id string) bool {
	typ, u, ok := strings.Cut(id, "--")
	if !ok || typ == "" || len(u) != 36 {
		return false
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// stixMillis is the STIX timestamp form of shared sightings (milliseconds, UTC).
const stixMillis = "2006-01-02T15:04:05.000Z"

// SightingObject renders one of our sightings, stored at added, as a STIX
// 2.1 sighting of its indicator marked with level, with the id the same
// sighting always gets (so a partner that receives it twice keeps one).
// The values seen and the hosts stay home: only the indicator, the time
// and the field are shared. ok is false when the indicator id is not a
// STIX identifier.
func SightingObject(sg match.Sighting, added time.Time, level tlp.Level) (id string, raw []byte, ok bool) {
	if !stixRef(sg.IndicatorID) {
		return "", nil, false
	}
	id = intel.DeriveID(intel.TypeSighting, "whodunit-sighting", sg.Key())
	created := added.UTC().Truncate(time.Millisecond).Format(stixMillis)
	seen := sg.Time.UTC().Format(stixMillis)
	doc := map[string]any{
		"type": intel.TypeSighting, "spec_version": "2.1", "id": id,
		"created": created, "modified": created,
		"sighting_of_ref": sg.IndicatorID, "count": 1, "first_seen": seen, "last_seen": seen,
		"x_whodunit_field": sg.Field,
	}
	if m, err := intel.TLPMarking(level.String()); err == nil {
		doc["object_marking_refs"] = []string{m.ID}
	}
	raw, err := json.Marshal(doc)
	return id, raw, err == nil
}
