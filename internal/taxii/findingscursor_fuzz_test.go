package taxii

import (
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/store"
)

// FuzzFindingsPos: any cursor is read without a panic, and what reads is
// written back the same.
func FuzzFindingsPos(f *testing.F) {
	at := time.Date(2024, 3, 4, 5, 6, 7, 8, time.UTC)
	f.Add(string(findingsPos{}.encode()))
	f.Add(string(findingsPos{Sightings: store.NewCursor(at, "k"), LastSighting: at, BlockTime: at, BlockID: "campaign--x"}.encode()))
	f.Add("f1\x00\x00-1\x00\x00")
	f.Add("")
	f.Fuzz(func(t *testing.T, c string) {
		p, err := parseFindingsPos(store.Cursor(c))
		if err != nil || c == "" {
			return
		}
		if back := p.encode(); string(back) != c {
			q, err := parseFindingsPos(back)
			if err != nil || q != p {
				t.Fatalf("%q reads as %+v, written back as %q", c, p, back)
			}
		}
	})
}
