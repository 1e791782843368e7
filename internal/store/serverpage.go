package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// objectCursorVersion starts the text of an object cursor, so that a
// sighting cursor (or anything else) is refused as one.
const objectCursorVersion = "o1"

// ObjectPosition is a place in the added order of object versions: just
// after the version of ID with this Added and Modified time.
type ObjectPosition struct {
	Added    time.Time
	ID       string
	Modified time.Time
}

// IsStart reports the position before every version.
func (p ObjectPosition) IsStart() bool { return p.ID == "" }

// NewObjectCursor is the cursor of position p.
func NewObjectCursor(p ObjectPosition) Cursor {
	raw := objectCursorVersion + "\x00" + p.Added.UTC().Format(cursorTime) + "\x00" +
		p.Modified.UTC().Format(cursorTime) + "\x00" + p.ID
	return Cursor(base64.RawURLEncoding.EncodeToString([]byte(raw)))
}

// ObjectPosition decodes an object cursor; "" is the start. Anything this
// package did not write is an error wrapping ErrBadCursor.
func (c Cursor) ObjectPosition() (ObjectPosition, error) {
	var p ObjectPosition
	if c == "" {
		return p, nil
	}
	if len(c) > 1024 {
		return p, fmt.Errorf("cursor of %d bytes: too long: %w", len(c), ErrBadCursor)
	}
	// strict: one text per position, so a cursor cannot be varied
	raw, err := base64.RawURLEncoding.Strict().DecodeString(string(c))
	if err != nil {
		return p, fmt.Errorf("cursor %.40q: not base64url: %w", string(c), ErrBadCursor)
	}
	parts := strings.SplitN(string(raw), "\x00", 4)
	if len(parts) != 4 || parts[0] != objectCursorVersion || !validObjectID(parts[3]) {
		return p, fmt.Errorf("cursor %.40q: not an object position: %w", string(c), ErrBadCursor)
	}
	if p.Added, err = parseCursorTime(parts[1]); err != nil {
		return p, fmt.Errorf("cursor %.40q: added time: %w", string(c), ErrBadCursor)
	}
	if p.Modified, err = parseCursorTime(parts[2]); err != nil {
		return p, fmt.Errorf("cursor %.40q: version: %w", string(c), ErrBadCursor)
	}
	p.ID = parts[3]
	return p, nil
}

// parseCursorTime reads a time of cursorTime's layout, and only that: the
// fixed width is what makes positions compare as stored text.
func parseCursorTime(s string) (time.Time, error) {
	t, err := time.Parse(cursorTime, s)
	if err == nil && t.UTC().Format(cursorTime) != s {
		err = fmt.Errorf("%q is not in the cursor layout", s)
	}
	return t, err
}

// validObjectID reports a STIX id's shape: type--rest, printable ASCII.
func validObjectID(id string) bool {
	i := strings.Index(id, "--")
	if i <= 0 || i+2 >= len(id) {
		return false
	}
	for j := 0; j < len(id); j++ {
		if id[j] <= ' ' || id[j] > '~' {
			return false
		}
	}
	return true
}

// VersionTime is the version of o as TAXII names it: modified, or
// created when it has none.
func VersionTime(o *intel.Object) time.Time {
	if !o.Modified.IsZero() {
		return o.Modified
	}
	return o.Created
}

// SpecVersionOf is o's spec_version, "2.1" when it states none.
func SpecVersionOf(o *intel.Object) string {
	if o.SpecVersion == "" {
		return "2.1"
	}
	return o.SpecVersion
}

// TypeRange is the half-open range [lo, hi) of the ids of objects of
// type typ ("indicator--…"): a condition on an id index where no type
// column is at hand.
func TypeRange(typ string) (lo, hi string) { return typ + "--", typ + "-." }

// VersionFilter is PageQuery.Versions parsed.
type VersionFilter struct {
	Last, First, All bool
	Times            []time.Time
}

// ParseVersions parses PageQuery.Versions: "last" when empty.
func ParseVersions(vs []string) (VersionFilter, error) {
	var f VersionFilter
	if len(vs) == 0 {
		f.Last = true
	}
	for _, v := range vs {
		switch v = strings.TrimSpace(v); v {
		case "last":
			f.Last = true
		case "first":
			f.First = true
		case "all":
			f.All = true
		default:
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return f, fmt.Errorf("version %q: neither last, first, all nor an RFC 3339 time", v)
			}
			f.Times = append(f.Times, t.UTC())
		}
	}
	return f, nil
}

// NeedsHistory reports whether versions other than the current ones can
// match.
func (f VersionFilter) NeedsHistory() bool { return f.First || f.All || len(f.Times) > 0 }

// PageRow is one version as a store's page query read it.
type PageRow struct {
	Pos  ObjectPosition
	Item PageItem
}

// CollectPage fills one page of ObjectsPage from fetch, which returns up
// to n versions after a position in added order, filtered as far as the
// store's SQL can. keep, when not nil, filters further (fields only the
// decoded object has): then fetch is asked again until the page is full,
// so that More is exact. after is the cursor of from, returned as Next
// when nothing at all was examined.
func CollectPage(from ObjectPosition, after Cursor, limit int, keep func(*intel.Object) bool,
	fetch func(from ObjectPosition, n int) ([]PageRow, error)) (ObjectPage, error) {
	if limit <= 0 {
		limit = DefaultPageLimit
	}
	page := ObjectPage{Next: after}
	for {
		rows, err := fetch(from, limit+1)
		if err != nil {
			return page, err
		}
		for _, r := range rows {
			match := keep == nil || keep(r.Item.Object)
			if match && len(page.Items) == limit {
				page.More = true
				return page, nil
			}
			from = r.Pos
			page.Next = NewObjectCursor(from)
			if match {
				r.Item.After = page.Next
				page.Items = append(page.Items, r.Item)
			}
		}
		if len(rows) <= limit {
			return page, nil
		}
	}
}

// SpecVersionFilter is the keep of CollectPage for q.SpecVersions; nil
// when it does not filter.
func SpecVersionFilter(specs []string) func(*intel.Object) bool {
	if len(specs) == 0 {
		return nil
	}
	return func(o *intel.Object) bool {
		v := SpecVersionOf(o)
		for _, s := range specs {
			if strings.TrimSpace(s) == v {
				return true
			}
		}
		return false
	}
}

// AllVersions is ObjectVersions of any ObjectPager and IntelReader: every
// page of id's matching versions; ErrNotFound when id has no version.
func AllVersions(ctx context.Context, s interface {
	ObjectPager
	IntelReader
}, id string, q PageQuery) ([]PageItem, error) {
	q.IDs = []string{id}
	var out []PageItem
	var after Cursor
	for {
		page, err := s.ObjectsPage(ctx, q, after, DefaultPageLimit)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if !page.More {
			break
		}
		after = page.Next
	}
	if len(out) == 0 {
		if _, err := s.Object(ctx, id); err != nil {
			return nil, err
		}
	}
	return out, nil
}
