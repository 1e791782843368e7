package intel

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Sink receives what an importer reads. The store's import transaction is a
// Sink; so is a collector in tests. Put may be called many times for the same
// id: the store keeps every version and the latest Modified wins.
type Sink interface {
	Put(ctx context.Context, o *Object) error
	PutWarninglist(ctx context.Context, w *Warninglist) error
}

// Importer reads one intelligence format.
type Importer interface {
	// Name is the format name used by --format and in messages.
	Name() string
	// Sniff reports whether the first bytes of a file look like this format.
	Sniff(head []byte, name string) bool
	// Import reads r (named name in messages) into sink. One bad record is
	// counted in Stats.Skipped and reported in Stats.Errors; an error that
	// makes the whole file unusable is returned, and the caller rolls back.
	Import(ctx context.Context, r io.Reader, name string, opt Options, sink Sink) (Stats, error)
}

// Options label what an importer reads (the flags of `intel import`).
type Options struct {
	Type        ValueType   // force the value type of plain lists
	Source      string      // source label
	Actor       string      // attribute every indicator to this actor name
	Confidence  int         // -1 = unset
	TLP         string      // clear, green, amber, amber+strict, red (or 1.0 white)
	Reliability Reliability // grade of the source
}

// DefaultOptions leaves every label unset.
func DefaultOptions() Options { return Options{Confidence: -1} }

// RecordError is one bad record, skipped with its position.
type RecordError struct {
	File   string
	Line   int64 // 1-based; 0 when the position is a byte offset
	Offset int64 // byte offset when Line is 0
	Err    error
}

func (e *RecordError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: offset %d: %v", e.File, e.Offset, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// MaxReportedErrors bounds how many record errors Stats keeps verbatim.
const MaxReportedErrors = 20

// Stats counts what one import read.
type Stats struct {
	Objects  map[string]int // by object type
	HostOnly int            // indicators only host telemetry can answer
	Network  int            // indicators network telemetry can answer
	Skipped  int
	Errors   []*RecordError // the first MaxReportedErrors
}

// Count records one object of type t.
func (s *Stats) Count(t string) {
	if s.Objects == nil {
		s.Objects = map[string]int{}
	}
	s.Objects[t]++
}

// Skip records one bad record.
func (s *Stats) Skip(e *RecordError) {
	s.Skipped++
	if len(s.Errors) < MaxReportedErrors {
		s.Errors = append(s.Errors, e)
	}
}

// Add merges o into s.
func (s *Stats) Add(o Stats) {
	for k, v := range o.Objects {
		if s.Objects == nil {
			s.Objects = map[string]int{}
		}
		s.Objects[k] += v
	}
	s.HostOnly += o.HostOnly
	s.Network += o.Network
	s.Skipped += o.Skipped
	for _, e := range o.Errors {
		if len(s.Errors) < MaxReportedErrors {
			s.Errors = append(s.Errors, e)
		}
	}
}

// Total is the number of objects read.
func (s *Stats) Total() int {
	n := 0
	for _, v := range s.Objects {
		n += v
	}
	return n
}

// String summarises s on one line: "24771 objects (20048 relationship, ...)".
func (s Stats) String() string {
	keys := make([]string, 0, len(s.Objects))
	for k := range s.Objects {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if s.Objects[keys[i]] != s.Objects[keys[j]] {
			return s.Objects[keys[i]] > s.Objects[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", s.Objects[k], k)
	}
	out := fmt.Sprintf("%d objects", s.Total())
	if len(parts) > 0 {
		out += " (" + strings.Join(parts, ", ") + ")"
	}
	if s.Skipped > 0 {
		out += fmt.Sprintf(", %d skipped", s.Skipped)
	}
	return out
}

// Collector is a Sink that keeps everything in memory (tests, previews).
type Collector struct {
	Objects      []*Object
	Warninglists []*Warninglist
}

// Put appends a copy of o.
func (c *Collector) Put(_ context.Context, o *Object) error {
	cp := *o
	c.Objects = append(c.Objects, &cp)
	return nil
}

// PutWarninglist appends w.
func (c *Collector) PutWarninglist(_ context.Context, w *Warninglist) error {
	c.Warninglists = append(c.Warninglists, w)
	return nil
}
