package telemetry

import (
	"errors"
	"fmt"
	"io"
)

// Reader yields events from one source. Next fills ev (after resetting it)
// and returns nil, io.EOF at the end, a *RecordError for one bad record (the
// caller counts it and calls Next again), or any other error when the rest of
// the input cannot be read.
type Reader interface {
	Next(ev *Event) error
}

// RecordError is one bad record: the reader skipped it and can go on.
type RecordError struct {
	File   string
	Line   int64 // 1-based line or packet number; 0 when unknown
	Offset int64 // byte offset of the record
	Err    error
}

func (e *RecordError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: offset %d: %v", e.File, e.Offset, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// IsRecordError reports whether err is a skippable *RecordError.
func IsRecordError(err error) bool {
	var re *RecordError
	return errors.As(err, &re)
}

// DefaultMaxLineBytes bounds one line of the line-oriented formats when
// their MaxLineBytes is 0. The scan engine splits large files at lines up
// to the same bound, so a file reads the same split or whole.
const DefaultMaxLineBytes = 1 << 20

// Format is one telemetry format: a cheap content sniff and a reader factory.
type Format interface {
	// Name is the format name used by --format and in messages ("zeek", "eve", "pcap", …).
	Name() string
	// Sniff reports whether the first bytes (after decompression) look like this format.
	Sniff(head []byte, name string) bool
	// Open returns a reader over r; name is used in messages and provenance.
	Open(r io.Reader, name string) (Reader, error)
}

// Registry picks a Format by sniffing. It is an ordinary value built by the
// caller (no init-time registration): formats are tried in order.
type Registry struct {
	formats []Format
}

// NewRegistry returns a registry trying formats in the given order.
func NewRegistry(formats ...Format) *Registry { return &Registry{formats: formats} }

// Formats lists the registered formats.
func (r *Registry) Formats() []Format { return r.formats }

// ByName returns the format called name.
func (r *Registry) ByName(name string) (Format, bool) {
	for _, f := range r.formats {
		if f.Name() == name {
			return f, true
		}
	}
	return nil, false
}

// Sniff returns the first format that recognises head.
func (r *Registry) Sniff(head []byte, name string) (Format, bool) {
	for _, f := range r.formats {
		if f.Sniff(head, name) {
			return f, true
		}
	}
	return nil, false
}
