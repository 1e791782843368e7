package misp_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/misp"
)

// TestDeepNestingOffset: the error for a value nested past the decoder's
// limit names where the nesting broke, not where the event began.
func TestDeepNestingOffset(t *testing.T) {
	head := `{"Event": {"info": "x", "Tag": `
	doc := head + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "}}"
	var c intel.Collector
	_, err := misp.Importer{}.Import(context.Background(), strings.NewReader(doc), "deep.json", intel.DefaultOptions(), &c)
	if err == nil {
		t.Fatal("a value nested 20,000 deep imported")
	}
	msg := err.Error()
	i := strings.Index(msg, "offset ")
	var off int
	if i < 0 {
		t.Fatalf("error %q names no offset", msg)
	}
	if _, err := fmt.Sscanf(msg[i:], "offset %d:", &off); err != nil {
		t.Fatalf("error %q: %v", msg, err)
	}
	if off < len(head)+9900 || off > len(head)+10000 {
		t.Errorf("error %q: offset %d, want where the nesting broke (about %d)", msg, off, len(head)+10000)
	}
}
