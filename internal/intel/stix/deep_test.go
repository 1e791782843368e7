package stix_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestDeepNestingOffset: a value nested past the decoder's depth limit is
// reported where the nesting broke, not where its object began, so a
// reader can find it in a file of gigabytes.
func TestDeepNestingOffset(t *testing.T) {
	head := `{"type":"bundle","id":"bundle--0b1c3f3e-8f9c-4b8e-9d77-b2a0d6f3a001","objects":[` +
		`{"type":"indicator","id":"indicator--0b1c3f3e-8f9c-4b8e-9d77-b2a0d6f3a002","x":`
	doc := head + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "}]}"
	_, _, err := importBytes(t, []byte(doc))
	if err == nil {
		t.Fatal("a value nested 20,000 deep imported")
	}
	// encoding/json gives up near 10,000 levels: the offset must be
	// there, not at the object's start (byte 81).
	var off int
	if _, scanErr := fmt.Sscanf(err.Error()[strings.Index(err.Error(), "offset "):], "offset %d:", &off); scanErr != nil {
		t.Fatalf("error %q names no offset", err)
	}
	if off < len(head)+9900 || off > len(head)+10000 {
		t.Errorf("error %q: offset %d, want where the nesting broke (about %d)", err, off, len(head)+10000)
	}
}
