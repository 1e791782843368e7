package match

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// Key is the identity of a sighting for de-duplication: the same indicator
// matched in the same field with the same value by the record at the same
// place of the same logical source gives the same key, whichever snapshot,
// run, mount point or working directory produced it. It is 32 hex
// characters (128 bits of SHA-256 over indicator id, source, line, offset,
// field and value, NUL-separated).
//
// The source is Source when set (the scan engine always sets it), else
// File, for sightings made by producers that name no source. Keys made
// before Source existed hashed File, the absolute path, so the same log
// seen through two mounts had two keys; those stored keys differ from the
// ones made now.
func (sg *Sighting) Key() string {
	h := sha256.New()
	var num [20]byte
	src := sg.Source
	if src == "" {
		src = sg.File
	}
	for i, part := range [...]string{sg.IndicatorID, src, "", "", sg.Field, sg.Value} {
		switch i {
		case 2:
			part = string(strconv.AppendInt(num[:0], sg.Line, 10))
		case 3:
			part = string(strconv.AppendInt(num[:0], sg.Offset, 10))
		}
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Clone returns a copy of sg whose strings own their memory, for keeping a
// sighting beyond the emit call that delivered it. Strings that come from
// the snapshot (ids, indicator values, field names) are immutable already;
// those that may share the reader's buffer are copied.
func (sg *Sighting) Clone() Sighting {
	c := *sg
	c.Value, c.File, c.UID = cloneString(c.Value), cloneString(c.File), cloneString(c.UID)
	c.Source = cloneString(c.Source)
	return c
}

func cloneString(s string) string {
	if s == "" {
		return ""
	}
	return string(append([]byte(nil), s...))
}
