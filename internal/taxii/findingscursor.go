package taxii

import (
	"strconv"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/store"
)

// findingsPos is where a findings page ended. The collection merges two
// streams — stored sightings, paged by the store's cursor, and the block
// of objects of the latest analysis, all added at the analysis's created
// time — so the position holds one place in each, plus the added time of
// the last sighting served (a block entry is due only when its time is
// not before it: at one instant sightings come first).
type findingsPos struct {
	Sightings    store.Cursor // after this sighting ("" = from the start)
	LastSighting time.Time    // added time of the last sighting served
	BlockTime    time.Time    // added time of the last block entry served
	BlockID      string       // its id
}

// findingsPosTag starts every encoded position, so that a cursor of
// another shape is refused rather than misread.
const findingsPosTag = "f1"

// encode is the position as one cursor (signed by sealNext before it
// leaves the server).
func (p findingsPos) encode() store.Cursor {
	return store.Cursor(strings.Join([]string{findingsPosTag, string(p.Sightings),
		nanos(p.LastSighting), nanos(p.BlockTime), p.BlockID}, "\x00"))
}

func nanos(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixNano(), 10)
}

// parseFindingsPos reads what encode wrote; "" is the start. Anything
// else is errBadNext (a token is signed, so only a server bug or a key
// shared with another program gets here).
func parseFindingsPos(c store.Cursor) (findingsPos, error) {
	if c == "" {
		return findingsPos{}, nil
	}
	parts := strings.Split(string(c), "\x00")
	if len(parts) != 5 || parts[0] != findingsPosTag {
		return findingsPos{}, errBadNext
	}
	last, err1 := parseNanos(parts[2])
	block, err2 := parseNanos(parts[3])
	if err1 != nil || err2 != nil || (parts[4] == "") != block.IsZero() {
		return findingsPos{}, errBadNext
	}
	return findingsPos{Sightings: store.Cursor(parts[1]), LastSighting: last, BlockTime: block, BlockID: parts[4]}, nil
}

func parseNanos(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, errBadNext
	}
	return time.Unix(0, n).UTC(), nil
}

// blockDue reports whether an analysis object added at t with id is yet
// to be served after p.
func (p findingsPos) blockDue(t time.Time, id string) bool {
	if t.Before(p.LastSighting) {
		return false
	}
	return t.After(p.BlockTime) || t.Equal(p.BlockTime) && id > p.BlockID
}
