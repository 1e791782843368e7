package scan

import "bytes"

// The helpers below let a follower of growing files (internal/watch) name
// a file and resume it exactly as a scan of the same file would, so that
// watching a log and then scanning it gives the same sighting keys.

// HeadBytes is how many leading bytes of a file SourceOf looks at.
const HeadBytes = fingerprintMax

// SourceOf is the logical source a scan gives a file found at rel under
// its root: see Config.SourceName. head is the file's first bytes (up to
// HeadBytes); it is unused when name is set.
func SourceOf(name, rel string, head []byte) string {
	return logicalSource(name, rel, false, head)
}

// PrefixSettled reports whether head already holds the whole prefix the
// fingerprint covers, so that the file's source no longer changes as it
// grows.
func PrefixSettled(head []byte) bool {
	if len(head) >= fingerprintMax {
		return true
	}
	return len(head) > fingerprintMin && bytes.IndexByte(head[fingerprintMin-1:], '\n') >= 0
}

// HeaderTracker follows the '#' header lines of a Zeek TSV stream, as the
// scan engine does for the chunks it cuts: Block is the header in effect
// after the text seen so far, to put in front of text read from the middle.
type HeaderTracker struct{ t headerTracker }

// Scan takes the next text of the stream (starting at a line boundary).
func (h *HeaderTracker) Scan(text []byte) { h.t.scan(text) }

// Block is the header block in effect; Lines how many lines it has.
func (h *HeaderTracker) Block() []byte { return h.t.block }

// Lines is the number of lines of Block.
func (h *HeaderTracker) Lines() int64 { return h.t.lines }
