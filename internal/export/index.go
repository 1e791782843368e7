package export

import (
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
)

// labelIndex remembers, for every indicator, which actors it indicates
// and which sources assert it, without keeping the indicators: each id maps
// to a small number naming one distinct combination of actors and
// sources, and a million list lines from one file with one actor share a
// single combination. Ids of the form type--uuid are keyed by their 16
// bytes; any other id by its text.
type labelIndex struct {
	byUUID  map[[16]byte]uint32
	byText  map[string]uint32
	combos  []combo
	interns map[string]uint32
	steps   map[step]uint32 // combination + one more label → combination
}

// combo is one set of actor and source numbers, each sorted.
type combo struct {
	actors  []int32
	sources []int32
}

type step struct {
	from  uint32
	kind  byte // 'a' actor, 's' source
	label int32
}

func newLabelIndex() *labelIndex {
	ix := &labelIndex{byUUID: map[[16]byte]uint32{}, byText: map[string]uint32{},
		interns: map[string]uint32{}, steps: map[step]uint32{}}
	ix.combos = append(ix.combos, combo{}) // 0: no labels
	ix.interns[""] = 0
	return ix
}

// uuidKey returns the 16 bytes of the uuid in "type--uuid".
func uuidKey(id string) ([16]byte, bool) {
	var k [16]byte
	i := strings.Index(id, "--")
	if i < 0 || len(id)-i-2 != 36 {
		return k, false
	}
	u := id[i+2:]
	if u[8] != '-' || u[13] != '-' || u[18] != '-' || u[23] != '-' || strings.ContainsAny(u, "ABCDEF") {
		return k, false // upper-case hex would not print back the same
	}
	h := u[:8] + u[9:13] + u[14:18] + u[19:23] + u[24:]
	if _, err := hex.Decode(k[:], []byte(h)); err != nil {
		return k, false
	}
	return k, true
}

func (ix *labelIndex) get(id string) combo {
	if k, ok := uuidKey(id); ok {
		return ix.combos[ix.byUUID[k]]
	}
	return ix.combos[ix.byText[id]]
}

// add records that id has the actor (kind 'a') or source (kind 's') label.
func (ix *labelIndex) add(id string, kind byte, label int32) {
	k, isUUID := uuidKey(id)
	var cur uint32
	if isUUID {
		cur = ix.byUUID[k]
	} else {
		cur = ix.byText[id]
	}
	next := ix.next(cur, kind, label)
	if isUUID {
		ix.byUUID[k] = next
	} else {
		ix.byText[id] = next
	}
}

func (ix *labelIndex) next(cur uint32, kind byte, label int32) uint32 {
	st := step{cur, kind, label}
	if n, ok := ix.steps[st]; ok {
		return n
	}
	c := ix.combos[cur]
	nc := combo{actors: c.actors, sources: c.sources}
	if kind == 'a' {
		nc.actors = withLabel(c.actors, label)
	} else {
		nc.sources = withLabel(c.sources, label)
	}
	key := comboKey(nc)
	n, ok := ix.interns[key]
	if !ok {
		n = uint32(len(ix.combos))
		ix.combos = append(ix.combos, nc)
		ix.interns[key] = n
	}
	ix.steps[st] = n
	return n
}

func withLabel(s []int32, l int32) []int32 {
	i, found := slices.BinarySearch(s, l)
	if found {
		return s
	}
	return slices.Insert(slices.Clone(s), i, l)
}

func comboKey(c combo) string {
	var b strings.Builder
	for _, a := range c.actors {
		b.WriteString(strconv.Itoa(int(a)))
		b.WriteByte(',')
	}
	b.WriteByte('|')
	for _, s := range c.sources {
		b.WriteString(strconv.Itoa(int(s)))
		b.WriteByte(',')
	}
	return b.String()
}
