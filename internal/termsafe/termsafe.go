// Package termsafe shows control characters as escapes, so that text taken
// from telemetry or intelligence (a DNS name Zeek logged as \x1b[31m…, an
// actor's name) cannot drive the terminal it is printed on: no colours, no
// window titles, no carriage return overwriting a line already shown.
//
// Tab and newline pass through, since the output's own layout needs them;
// every other C0 control, DEL, the C1 controls (U+0080–U+009F) and bytes
// that are not UTF-8 are written as \xNN (\u0085 for a C1 rune), the form
// Zeek itself uses. Everything else, non-ASCII letters included, is kept.
package termsafe

import (
	"fmt"
	"io"
	"sync"
	"unicode/utf8"
)

// String returns s with its control characters escaped.
func String(s string) string {
	if clean(s) {
		return s
	}
	return string(appendEscaped(nil, []byte(s)))
}

// Writer escapes what is written through it. It keeps no state between
// writes: a rune cut in two by separate writes is shown as its bytes
// escaped, which fmt and text/tabwriter never do.
// It is safe for concurrent use when the writer it wraps is.
type Writer struct {
	w   io.Writer
	mu  sync.Mutex // guards buf
	buf []byte
}

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write implements io.Writer. It reports len(p) when the escaped bytes
// were all written.
func (t *Writer) Write(p []byte) (int, error) {
	if clean(p) {
		return t.w.Write(p)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = appendEscaped(t.buf[:0], p)
	if _, err := t.w.Write(t.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// clean reports whether b holds nothing to escape (the common case, kept
// free of copies): printable ASCII, tabs, newlines and UTF-8 without C1.
func clean[T string | []byte](b T) bool {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < 0x20 && c != '\t' && c != '\n' || c == 0x7f {
			return false
		}
		if c >= 0x80 {
			return cleanUTF8([]byte(b[i:]))
		}
	}
	return true
}

func cleanUTF8(b []byte) bool {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 || isControl(r) {
			return false
		}
		b = b[n:]
	}
	return true
}

func isControl(r rune) bool {
	return r < 0x20 && r != '\t' && r != '\n' || r >= 0x7f && r <= 0x9f
}

func appendEscaped(out, b []byte) []byte {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && n <= 1:
			out = fmt.Appendf(out, `\x%02x`, b[0])
		case r < 0x80 && isControl(r):
			out = fmt.Appendf(out, `\x%02x`, r)
		case isControl(r):
			out = fmt.Appendf(out, `\u%04x`, r)
		default:
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return out
}
