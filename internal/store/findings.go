package store

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/match"
)

// DefaultPageLimit is the page size of SightingsPage when none is given.
const DefaultPageLimit = 1000

// ErrBadCursor is wrapped by the error for a cursor no store wrote.
var ErrBadCursor = errors.New("bad cursor")

// Cursor is an opaque position in the added order of sightings. It
// encodes the position itself (added time and key of the last sighting
// returned), not a handle kept by the store, so it survives a restart and
// any store of the same data reads it the same.
type Cursor string

const cursorVersion = "s1"

// cursorTime is the added time in a cursor: fixed width, so positions
// compare as text and as time alike.
const cursorTime = "2006-01-02T15:04:05.000000000Z"

// NewCursor is the position just after the sighting with this added time
// and key.
func NewCursor(added time.Time, key string) Cursor {
	raw := cursorVersion + "\x00" + added.UTC().Format(cursorTime) + "\x00" + key
	return Cursor(base64.RawURLEncoding.EncodeToString([]byte(raw)))
}

// Position decodes c; "" is the start (zero time, empty key).
func (c Cursor) Position() (added time.Time, key string, err error) {
	if c == "" {
		return time.Time{}, "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(string(c))
	if err != nil {
		return time.Time{}, "", fmt.Errorf("cursor %.40q: not base64url: %w", string(c), ErrBadCursor)
	}
	parts := strings.SplitN(string(raw), "\x00", 3)
	if len(parts) != 3 || parts[0] != cursorVersion || parts[2] == "" {
		return time.Time{}, "", fmt.Errorf("cursor %.40q: not a sighting position: %w", string(c), ErrBadCursor)
	}
	added, err = time.Parse(cursorTime, parts[1])
	if err != nil {
		return time.Time{}, "", fmt.Errorf("cursor %.40q: added time: %w", string(c), ErrBadCursor)
	}
	return added, parts[2], nil
}

// StoredSighting is a sighting with the time the store stored it.
type StoredSighting struct {
	Sighting match.Sighting
	Added    time.Time
}

// SightingPage is one page of SightingsPage.
type SightingPage struct {
	Sightings []StoredSighting
	// Next is the position after the last sighting of the page; after
	// itself when the page is empty. Passing it back continues there,
	// also later, when more sightings have been stored.
	Next Cursor
	// More reports that more sightings matched after Next when the page
	// was read.
	More bool
}

// Analysis is one stored analysis run: the report document and the
// campaigns it found, each with its assessment. The store keeps the JSON
// as given and does not interpret it.
type Analysis struct {
	ID        string // the caller's, or the decimal Seq
	Seq       int64  // assigned by the store: 1, 2, … in the order runs were stored
	Created   time.Time
	Snapshot  string          // version of the matcher snapshot the run used
	Document  json.RawMessage // the report document
	Campaigns []CampaignRecord
}

// CampaignRecord is one campaign of a run, with the fields a server
// filters and sorts on beside the full JSON.
type CampaignRecord struct {
	ID, Actor, Estimate, Confidence string
	Likelihood                      float64
	FirstSeen, LastSeen             time.Time
	Data                            json.RawMessage // the campaign with its assessment
}

// AnalysisInfo describes a stored run without its documents.
type AnalysisInfo struct {
	ID        string
	Seq       int64
	Created   time.Time
	Snapshot  string
	Campaigns int
}

// CampaignVersion is a campaign as one run found it.
type CampaignVersion struct {
	AnalysisID  string
	AnalysisSeq int64
	Created     time.Time // of the run
	Campaign    CampaignRecord
}

// LatestAnalysis is the id that names the newest run, like "".
const LatestAnalysis = "latest"

// CheckAnalysis reports what makes a unfit to store: JSON that is not
// JSON, a campaign without an id, two campaigns of one id, or the
// reserved id "latest". Every store calls it first.
func CheckAnalysis(a *Analysis) error {
	if strings.EqualFold(a.ID, LatestAnalysis) {
		return fmt.Errorf("analysis id %q is reserved for the newest run", a.ID)
	}
	if len(a.Document) > 0 && !json.Valid(a.Document) {
		return fmt.Errorf("analysis %s: the document is not valid JSON", a.ID)
	}
	seen := map[string]bool{}
	for i, c := range a.Campaigns {
		if c.ID == "" {
			return fmt.Errorf("analysis %s: campaign %d has no id", a.ID, i)
		}
		k := strings.ToLower(c.ID)
		if seen[k] {
			return fmt.Errorf("analysis %s: campaign %s twice", a.ID, c.ID)
		}
		seen[k] = true
		if len(c.Data) > 0 && !json.Valid(c.Data) {
			return fmt.Errorf("analysis %s: campaign %s: data is not valid JSON", a.ID, c.ID)
		}
	}
	return nil
}
