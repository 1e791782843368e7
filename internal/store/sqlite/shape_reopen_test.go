package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/flat"
)

// TestShapesAddedByAnotherStore: a store that has read every shape once
// (a watcher's matcher) still reads indicators that another open store
// (an import in another process) adds afterwards.
func TestShapesAddedByAnotherStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	reader, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	count := func() int {
		n := 0
		if err := reader.MatchIndicators(ctx, func(*intel.Object) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("%d indicators in a new store", n)
	}
	feed := filepath.Join("..", "..", "..", "..", "shared", "data", "intel", "apt1", "apt1-md5.dat")
	in, err := os.Open(feed)
	if os.IsNotExist(err) {
		t.Skipf("%s not present", feed)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	writer, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	var put int
	if _, err := writer.Import(ctx, intel.Source{Name: "apt1-md5.dat", Format: "zeek-intel", SHA256: "x"}, func(sink intel.Sink) error {
		res, err := flat.ZeekIntel{}.Import(ctx, in, feed, intel.DefaultOptions(), sink)
		put = res.Objects[intel.TypeIndicator]
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n == 0 || n < put/2 {
		t.Fatalf("the first store reads %d indicators after the other imported %d objects", n, put)
	}
}
