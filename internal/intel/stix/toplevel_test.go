package stix_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/stix"
)

// sortedKeys re-encodes a real bundle with its keys sorted, as many JSON
// writers do: "id", "objects", "spec_version", "type".
func sortedKeys(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("shared data absent: %v", err)
	}
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(v) // maps marshal with sorted keys
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Index(out, []byte(`"objects"`)) > bytes.Index(out, []byte(`"type":"bundle"`)) {
		t.Fatal("the re-encoded bundle does not put objects before type")
	}
	return out
}

// TestSortedKeysBundleStreams: the real APT1 bundle with sorted keys
// imports the same objects as as published, and a bundle whose sorted
// objects exceed the single-object limit is not refused as one object.
func TestSortedKeysBundleStreams(t *testing.T) {
	path := shared(t, "intel/stix/apt1.json")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := importBytes(t, orig)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := importBytes(t, sortedKeys(t, path))
	if err != nil {
		t.Fatalf("sorted keys: %v", err)
	}
	if len(got.Objects) != len(want.Objects) || len(got.Objects) == 0 {
		t.Fatalf("sorted keys: %d objects, as published %d", len(got.Objects), len(want.Objects))
	}
	for i := range want.Objects {
		if got.Objects[i].ID != want.Objects[i].ID || got.Objects[i].SpecVersion != want.Objects[i].SpecVersion {
			t.Errorf("object %d: %s %s, want %s %s", i, got.Objects[i].ID, got.Objects[i].SpecVersion, want.Objects[i].ID, want.Objects[i].SpecVersion)
		}
	}
}

// TestLargeCustomBundleMembersNotHeld: ten 8 MB custom members of a bundle
// are read past, not kept: the heap does not grow with their sum (the
// audit's ten 60 MB members held 701 MB).
func TestLargeCustomBundleMembersNotHeld(t *testing.T) {
	path := shared(t, "intel/stix/apt1.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	big := `"` + strings.Repeat("x", 8<<20) + `"`
	var doc bytes.Buffer
	doc.WriteString(`{"type":"bundle","id":"bundle--0b1c3f3e-8f9c-4b8e-9d77-b2a0d6f3a001",`)
	for i := 0; i < 10; i++ {
		doc.WriteString(`"x_blob_` + string(rune('a'+i)) + `":` + big + ",")
	}
	i := bytes.Index(data, []byte(`"objects"`))
	doc.Write(data[i:])
	// Measure what is reachable when the first object reaches the sink:
	// the members read before "objects" are garbage by then, unless held.
	sink := &heapAtFirstPut{}
	doc2 := doc.Bytes()
	doc = bytes.Buffer{}
	if _, err := (stix.Importer{}).Import(context.Background(), bytes.NewReader(doc2), "big.json", intel.DefaultOptions(), sink); err != nil {
		t.Fatal(err)
	}
	if sink.n == 0 {
		t.Fatal("no objects imported")
	}
	// Besides the document, the decoder's grown buffer and the test's own
	// copies come to about 64 MiB; holding the members adds 80 MiB more
	// (144 MiB before the fix).
	if sink.heap-int64(len(doc2)) > 104<<20 {
		t.Errorf("%d MiB reachable besides the document when the objects began: the custom members were held", (sink.heap-int64(len(doc2)))>>20)
	}
}

// heapAtFirstPut records the live heap when the first object arrives.
type heapAtFirstPut struct {
	n    int
	heap int64
}

func (h *heapAtFirstPut) Put(ctx context.Context, o *intel.Object) error {
	if h.n == 0 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		h.heap = int64(m.HeapAlloc)
	}
	h.n++
	return nil
}

func (h *heapAtFirstPut) PutWarninglist(ctx context.Context, w *intel.Warninglist) error { return nil }
