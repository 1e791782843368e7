package fileio

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"hash"
)

// ContentHash is a SHA-256 of text content that does not depend on how the
// text was wrapped: fed the decompressed bytes, it hashes them with CRLF
// line ends read as LF and the newlines at the very end left out, so the
// same feed re-gzipped, saved on Windows or given a final newline has the
// same identity. Write it the content in any pieces; Sum when done.
type ContentHash struct {
	h        hash.Hash
	newlines int  // line feeds held back: they count only if text follows
	cr       bool // a CR held back: dropped if a LF follows
}

// NewContentHash returns an empty ContentHash.
func NewContentHash() *ContentHash { return &ContentHash{h: sha256.New()} }

// Write implements io.Writer; it never fails.
func (c *ContentHash) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexAny(p, "\r\n")
		if i < 0 {
			c.text(p)
			break
		}
		if i > 0 {
			c.text(p[:i])
		}
		if p[i] == '\n' {
			c.cr = false // CRLF is LF
			c.newlines++
		} else {
			c.flush() // an earlier CR not followed by LF is content
			c.cr = true
		}
		p = p[i+1:]
	}
	return n, nil
}

// text writes content after the line ends held back before it.
func (c *ContentHash) text(p []byte) {
	c.flush()
	c.h.Write(p)
}

var lf = bytes.Repeat([]byte{'\n'}, 64)

func (c *ContentHash) flush() {
	for c.newlines > 0 {
		k := min(c.newlines, len(lf))
		c.h.Write(lf[:k])
		c.newlines -= k
	}
	if c.cr {
		c.h.Write([]byte{'\r'})
		c.cr = false
	}
}

// Extra hashes labels that are part of what was asserted (an import's
// --actor, say) after the content, separated so that no content can
// collide with them.
func (c *ContentHash) Extra(label string) {
	c.newlines, c.cr = 0, false
	c.h.Write([]byte{0})
	c.h.Write([]byte(label))
}

// Sum is the hex digest of what was written so far, without the line ends
// at its end.
func (c *ContentHash) Sum() string {
	return hex.EncodeToString(c.h.Sum(nil))
}
