package scan_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/whodunit-project/whodunit/internal/scan"
)

// FuzzChunking checks that cutting an arbitrary Zeek TSV stream into chunks
// never changes what is read: the same events at the same lines and
// offsets, the same bad records, and no panic, also for lines longer than
// a chunk.
func FuzzChunking(f *testing.F) {
	data, _ := mixedLog(40)
	f.Add(data)
	f.Add([]byte(dnsHeader + "x\n# comment\n#fields\tts\tquery\n1700000000.0\ta.example\n#separator ,\n#fields,ts,query\n1.0,b.example\n"))
	f.Add([]byte("#close\tx\n" + connHeader + "\n\n\r\n#types\ttime\n"))
	f.Add([]byte("#fields\tts\tuid\tquery\n1\tC\tq.example\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		dir := t.TempDir()
		p := writeFile(t, dir, "fuzz.log", body)
		whole, evWhole, _ := runCollect(t, scan.Config{Paths: []string{p}, Format: "zeek", ChunkSize: -1, Workers: 1})
		cut, evCut, _ := runCollect(t, scan.Config{Paths: []string{p}, Format: "zeek", ChunkSize: 1024, Workers: 3})
		if diff := cmp.Diff(evWhole, evCut); diff != "" {
			t.Fatalf("events differ (-whole +chunked):\n%s", diff)
		}
		a, b := whole.Files[0], cut.Files[0]
		if a.BadRecords != b.BadRecords || a.Events != b.Events || (a.Err == "") != (b.Err == "") {
			t.Fatalf("summaries differ:\nwhole   %+v\nchunked %+v", a, b)
		}
		if diff := cmp.Diff(a.Errors, b.Errors); diff != "" {
			t.Fatalf("errors differ (-whole +chunked):\n%s", diff)
		}
	})
}
