package scan

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
)

// The logical source of a file names it for Sighting.Key whatever path it
// is read through (two mounts of one log, a copy in another directory): the
// name the user gave (Config.SourceName) or a fingerprint of the file's
// content, then the file's path relative to the root it was found under.
const (
	// fingerprintMin and fingerprintMax bound the fingerprinted prefix:
	// the first complete lines that hold at least fingerprintMin bytes,
	// or the first fingerprintMax bytes when no line ends between the
	// two. Such a prefix is settled once the file has it, so a log that
	// is appended to keeps its fingerprint, and with it the keys of the
	// records it held; a whole-file hash would change with every line
	// added. 4 KiB reaches past a Zeek header (whose #open time every
	// sensor rotating on the hour shares) into a dozen records with
	// their timestamps and uids, which tell two logs apart.
	fingerprintMin = 4 << 10
	fingerprintMax = 64 << 10
)

// fingerprintPrefix is the part of head (the file's first bytes, up to
// fingerprintMax of them) that the fingerprint covers. A file shorter
// than the settled prefix is covered by its complete lines only — a line
// still being written is left out — and so changes its fingerprint if it
// grows past that point; name such sources with Config.SourceName.
func fingerprintPrefix(head []byte) []byte {
	if len(head) > fingerprintMin {
		if i := bytes.IndexByte(head[fingerprintMin-1:], '\n'); i >= 0 {
			return head[:fingerprintMin+i]
		}
	}
	if len(head) >= fingerprintMax {
		return head[:fingerprintMax]
	}
	if i := bytes.LastIndexByte(head, '\n'); i >= 0 {
		return head[:i+1]
	}
	return head
}

// fingerprint is 128 bits of SHA-256 of the settled prefix, in hex.
func fingerprint(head []byte) string {
	sum := sha256.Sum256(fingerprintPrefix(head))
	return hex.EncodeToString(sum[:16])
}

// peekHead returns up to fingerprintMax bytes from the start of r without
// consuming them (the reader reads them again).
func peekHead(r *bufio.Reader) []byte {
	head, _ := r.Peek(fingerprintMax) // a shorter file gives what it has
	return head
}

// logicalSource is the Sighting.Source of one file: "NAME/REL" when the
// user named the source, otherwise "sha256:FINGERPRINT/REL"; standard
// input is NAME or "stdin".
func logicalSource(name, rel string, stdin bool, head []byte) string {
	switch {
	case stdin && name != "":
		return name
	case stdin:
		return "stdin"
	case name != "":
		return name + "/" + rel
	}
	return "sha256:" + fingerprint(head) + "/" + rel
}

// relativePath is file's path under root as forward-slashed text; a file
// given by itself is its base name.
func relativePath(root, file string, walked bool) string {
	if walked {
		if rel, err := filepath.Rel(root, file); err == nil {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.Base(file)
}
