package match

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// Key is the identity of a sighting for de-duplication: the same indicator
// matched in the same field with the same value by the record at the same
// place of the same file gives the same key, whichever snapshot or run
// produced it. It is 32 hex characters (128 bits of SHA-256 over indicator
// id, file, line, offset, field and value, NUL-separated).
//
// File is part of the key as the sighting carries it; the scan engine
// records absolute paths so that re-scanning from another directory gives
// the same keys.
func (sg *Sighting) Key() string {
	h := sha256.New()
	var num [20]byte
	for i, part := range [...]string{sg.IndicatorID, sg.File, "", "", sg.Field, sg.Value} {
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
	return c
}

func cloneString(s string) string {
	if s == "" {
		return ""
	}
	return string(append([]byte(nil), s...))
}
