package zk

import (
	"fmt"
	"io"
	"testing"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/zeek"
)

func TestSmoke(t *testing.T) {
	files, _ := fileio.Expand([]string{"/work/shared/data/telemetry/zeek"})
	reg := telemetry.NewRegistry(zeek.TSV{})
	for _, f := range files {
		in, err := fileio.Open(f, fileio.DefaultLimits)
		if err != nil { t.Fatal(err) }
		fm, ok := reg.Sniff(in.Head, f)
		if !ok { fmt.Println("SKIP", f); in.Close(); continue }
		r, _ := fm.Open(in.R, f)
		var ev telemetry.Event
		n, bad := 0, 0
		var first *telemetry.Event
		for {
			err := r.Next(&ev)
			if err == io.EOF { break }
			if telemetry.IsRecordError(err) { if bad < 2 { fmt.Println("  ", err) }; bad++; continue }
			if err != nil { fmt.Println("ERR", err); break }
			if first == nil { first = ev.Clone() }
			n++
		}
		fmt.Println(f, n, bad)
		if first != nil && n > 0 { fmt.Printf("   %+v\n", *first) }
		in.Close()
	}
}
