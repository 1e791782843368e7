package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/store"
)

func TestObjectCursorRoundTrip(t *testing.T) {
	for _, p := range []store.ObjectPosition{
		{Added: time.Date(2026, 12, 2, 1, 2, 3, 456789012, time.UTC), ID: "indicator--00000000-0000-4000-8000-000000000001",
			Modified: time.Date(2013, 2, 18, 0, 0, 0, 0, time.UTC)},
		{ID: "x-custom--a\x7e", Modified: time.Unix(0, 0)},
	} {
		got, err := store.NewObjectCursor(p).ObjectPosition()
		if err != nil || !got.Added.Equal(p.Added) || got.ID != p.ID || !got.Modified.Equal(p.Modified) {
			t.Errorf("%+v read back as %+v, %v", p, got, err)
		}
	}
	if p, err := store.Cursor("").ObjectPosition(); err != nil || !p.IsStart() {
		t.Errorf(`"" = %+v, %v; want the start`, p, err)
	}
	if _, err := store.NewCursor(time.Now(), "k").ObjectPosition(); !errors.Is(err, store.ErrBadCursor) {
		t.Errorf("a sighting cursor: %v, want ErrBadCursor", err)
	}
}

func TestParseVersions(t *testing.T) {
	f, err := store.ParseVersions([]string{"first", " 2013-02-18T00:00:00.5Z", "all"})
	if err != nil || !f.First || !f.All || f.Last || len(f.Times) != 1 || f.Times[0].Nanosecond() != 5e8 {
		t.Errorf("ParseVersions = %+v, %v", f, err)
	}
	if f, _ := store.ParseVersions(nil); !f.Last || f.NeedsHistory() {
		t.Errorf("default = %+v, want last only", f)
	}
	if _, err := store.ParseVersions([]string{"2013-02-18"}); err == nil {
		t.Error("a date without a time: no error")
	}
}

// FuzzObjectCursor holds cursor decoding to: no panic; a forged cursor is
// ErrBadCursor; an accepted one encodes back to itself.
func FuzzObjectCursor(f *testing.F) {
	f.Add(string(store.NewObjectCursor(store.ObjectPosition{Added: time.Date(2026, 12, 2, 1, 2, 3, 4, time.UTC),
		ID: "indicator--00000000-0000-4000-8000-000000000001", Modified: time.Date(2013, 2, 18, 0, 0, 0, 0, time.UTC)})))
	f.Add(string(store.NewCursor(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), "sighting-key")))
	f.Add("b2EAMjAxMy0wMi0xOFQwMDowMDowMFoAeA")
	f.Add("")
	f.Add("!!!")
	f.Fuzz(func(t *testing.T, c string) {
		p, err := store.Cursor(c).ObjectPosition()
		if err != nil {
			if !errors.Is(err, store.ErrBadCursor) {
				t.Fatalf("%q: %v does not wrap ErrBadCursor", c, err)
			}
			return
		}
		if c == "" {
			return
		}
		if back := store.NewObjectCursor(p); string(back) != c {
			t.Fatalf("%q decoded to %+v, encodes as %q", c, p, back)
		}
	})
}
