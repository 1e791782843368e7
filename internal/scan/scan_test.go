package scan_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/scan"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/formats"
	"github.com/whodunit-project/whodunit/internal/telemetry/zeek"
)

func registry() *telemetry.Registry { return telemetry.NewRegistry(zeek.TSV{}, zeek.JSON{}) }

const dnsHeader = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n#open\t2024-01-01-00-00-00\n" +
	"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tanswers\n" +
	"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tvector[string]\n"

const connHeader = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#open\t2024-01-01-01-00-00\n" +
	"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\n" +
	"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\n"

// mixedLog is a file of two concatenated Zeek logs with different columns
// (dns, then conn) and some bad lines. Every good record names its own
// line number (in the query, or in the source port), so a test can check
// the line numbers the scan reports. bad lists the lines that are bad.
func mixedLog(records int) (data []byte, bad []int64) {
	var b bytes.Buffer
	line := int64(0)
	w := func(s string) {
		b.WriteString(s)
		line += int64(strings.Count(s, "\n"))
	}
	w(dnsHeader)
	for i := 0; i < records; i++ {
		n := line + 1
		if i%97 == 13 {
			w("1700000000.000000\tCbad\tnot-an-ip\t1\t10.0.0.53\t53\tudp\tbad.example\t-\n")
			bad = append(bad, n)
			continue
		}
		if i%89 == 7 {
			w("1700000000.000000\ttoo\tfew\tfields\n")
			bad = append(bad, n)
			continue
		}
		w(fmt.Sprintf("%d.%06d\tC%d\t10.0.%d.%d\t%d\t10.0.0.53\t53\tudp\tq%d.host%d.example\tq%d.cdn.example,192.0.2.%d\n",
			1700000000+i, i, i, i%200, 1+i%250, 1024+i%5000, n, i%7, n, 1+i%250))
	}
	w("#close\t2024-01-01-00-59-59\n")
	w(connHeader)
	for i := 0; i < records; i++ {
		n := line + 1
		if i%101 == 50 {
			w("1700003600.000000\tCbad\t10.0.0.1\tnot-a-port\t198.51.100.1\t443\ttcp\tSF\n")
			bad = append(bad, n)
			continue
		}
		// the line number rides in the source port
		w(fmt.Sprintf("%d.000000\tD%d\t10.1.%d.%d\t%d\t198.51.100.%d\t443\ttcp\tSF\n", 1700003600+i, i, i%200, 1+i%250, n, 1+i%250))
	}
	w("#close\t2024-01-01-01-59-59\n")
	return b.Bytes(), bad
}

func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// seen is the part of an event the tests compare.
type seen struct {
	File         string
	Line, Offset int64
	Kind         telemetry.Kind
	Query        string
	SrcPort      uint16
	DstIP        string
}

func runCollect(t testing.TB, cfg scan.Config) (scan.Summary, []seen, []match.Sighting) {
	t.Helper()
	var mu sync.Mutex
	var evs []seen
	var sgs []match.Sighting
	cfg.OnEvent = func(ev *telemetry.Event) {
		s := seen{File: strings.Clone(ev.File), Line: ev.Line, Offset: ev.Offset, Kind: ev.Kind, Query: strings.Clone(ev.Query), SrcPort: ev.SrcPort, DstIP: ev.DstIP.String()}
		mu.Lock()
		evs = append(evs, s)
		mu.Unlock()
	}
	cfg.OnSighting = func(sg match.Sighting) { sgs = append(sgs, sg) }
	if cfg.Registry == nil {
		cfg.Registry = registry()
	}
	sum, err := scan.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(evs, func(i, j int) bool {
		if evs[i].File != evs[j].File {
			return evs[i].File < evs[j].File
		}
		return evs[i].Line < evs[j].Line
	})
	sort.Slice(sgs, func(i, j int) bool { return sgs[i].Key() < sgs[j].Key() })
	return sum, evs, sgs
}

// TestChunksMatchTheWholeFile cuts a file with two header blocks and bad
// lines into chunks of many sizes and checks that every event and every
// bad record comes out exactly as when the file is read whole, with the
// right line numbers and offsets.
func TestChunksMatchTheWholeFile(t *testing.T) {
	data, bad := mixedLog(3000)
	dir := t.TempDir()
	plain := writeFile(t, dir, "mixed.log", data)
	zipped := writeFile(t, dir, "mixed.log.gz", gz(t, data))
	lineStart := []int64{0}
	for i, c := range data {
		if c == '\n' {
			lineStart = append(lineStart, int64(i+1))
		}
	}

	whole, wholeEvents, _ := runCollect(t, scan.Config{Paths: []string{plain}, ChunkSize: -1, Workers: 1})
	if got, want := whole.Files[0].BadRecords, int64(len(bad)); got != want {
		t.Fatalf("whole file: %d bad records, want %d", got, want)
	}
	if len(wholeEvents) != 6000-len(bad) {
		t.Fatalf("whole file: %d events, want %d", len(wholeEvents), 6000-len(bad))
	}
	// the reader's own numbering is the reference; check it against the
	// line numbers written into the records
	for _, ev := range wholeEvents {
		var n int64
		if ev.Kind == telemetry.KindDNS {
			fmt.Sscanf(ev.Query, "q%d.", &n)
		} else {
			n = int64(ev.SrcPort)
		}
		if n != ev.Line || ev.Offset != lineStart[ev.Line-1] {
			t.Fatalf("event %+v: record says line %d, offset should be %d", ev, n, lineStart[ev.Line-1])
		}
	}

	for _, tc := range []struct {
		name    string
		path    string
		chunk   int
		workers int
	}{
		{"1k chunks, 1 worker", plain, 1024, 1},
		{"1k chunks, 3 workers", plain, 1024, 3},
		{"4k chunks, 2 workers", plain, 4096, 2},
		{"5000-byte chunks, 4 workers", plain, 5000, 4},
		{"64k chunks, 2 workers", plain, 64 << 10, 2},
		{"gzip, 2k chunks, 2 workers", zipped, 2048, 2},
		{"gzip, whole", zipped, -1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sum, evs, _ := runCollect(t, scan.Config{Paths: []string{tc.path}, ChunkSize: tc.chunk, Workers: tc.workers})
			want := wholeEvents
			if tc.path == zipped {
				want = nil
				for _, e := range wholeEvents {
					e.File = zipped
					want = append(want, e)
				}
			}
			if diff := cmp.Diff(want, evs); diff != "" {
				t.Errorf("events differ from the whole-file read (-want +got):\n%s", diff)
			}
			f := sum.Files[0]
			if f.BadRecords != int64(len(bad)) || f.Events != int64(len(want)) || f.Err != "" {
				t.Errorf("summary %+v: want %d bad, %d events", f, len(bad), len(want))
			}
			if f.DataBytes != int64(len(data)) {
				t.Errorf("DataBytes = %d, want %d", f.DataBytes, len(data))
			}
			wantErrs := whole.Files[0].Errors
			if tc.path == zipped {
				wantErrs = nil
				for _, e := range whole.Files[0].Errors {
					wantErrs = append(wantErrs, strings.ReplaceAll(e, plain, zipped))
				}
			}
			if diff := cmp.Diff(wantErrs, f.Errors); diff != "" {
				t.Errorf("first errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBadInputIsReportedAndTheRestScanned(t *testing.T) {
	data, bad := mixedLog(300)
	dir := t.TempDir()
	good := writeFile(t, dir, "good.log", data)
	garbage := writeFile(t, dir, "garbage.bin", []byte("\x00\x01\x02 this is not telemetry\n"))
	truncated := gz(t, data)
	truncated = truncated[:len(truncated)/2]
	trunc := writeFile(t, dir, "truncated.log.gz", truncated)
	empty := writeFile(t, dir, "empty.log", nil)
	sub := filepath.Join(dir, "walked")
	os.Mkdir(sub, 0o755)
	writeFile(t, sub, "README.md", []byte("# notes\nnot a log\n"))
	inDir := writeFile(t, sub, "dns.log", []byte(dnsHeader+"1700000000.000000\tC1\t10.0.0.1\t1\t10.0.0.53\t53\tudp\tx.example\t-\n"))
	longLine := writeFile(t, dir, "long.log", []byte(dnsHeader+strings.Repeat("x", 10000)+"\n"+
		"1700000000.000000\tC1\t10.0.0.1\t1\t10.0.0.53\t53\tudp\tafter.example\t-\n"))

	sum, _, _ := runCollect(t, scan.Config{Paths: []string{good, garbage, trunc, empty, sub, longLine}, ChunkSize: 4096, MaxLineBytes: 8192, Workers: 2})
	by := map[string]scan.FileSummary{}
	for _, f := range sum.Files {
		by[filepath.Base(f.Path)] = f
	}
	if f := by["good.log"]; f.BadRecords != int64(len(bad)) || f.Events != int64(600-len(bad)) || f.Err != "" {
		t.Errorf("good.log: %+v", f)
	}
	if f := by["garbage.bin"]; !strings.Contains(f.Err, "format not recognised") || !strings.Contains(f.Err, garbage) {
		t.Errorf("garbage.bin: %+v", f)
	}
	if f := by["truncated.log.gz"]; f.Err == "" || f.Events == 0 {
		t.Errorf("truncated gzip should fail after some events: %+v", f)
	}
	if f := by["empty.log"]; f.Err != "" || f.Events != 0 {
		t.Errorf("empty.log: %+v", f)
	}
	if f := by["README.md"]; f.Skipped == "" || f.Err != "" {
		t.Errorf("README.md in a walked directory should be skipped: %+v", f)
	}
	if f := by[filepath.Base(inDir)]; f.Events != 1 {
		t.Errorf("walked dns.log: %+v", f)
	}
	f := by["long.log"]
	if f.Events != 1 || f.BadRecords != 1 || len(f.Errors) != 1 || f.Errors[0] != longLine+":9: line longer than 8192 bytes" {
		t.Errorf("long.log: %+v", f)
	}
	if sum.FailedFiles != 2 || sum.SkippedFiles != 1 {
		t.Errorf("failed %d, skipped %d; want 2, 1", sum.FailedFiles, sum.SkippedFiles)
	}
	var text bytes.Buffer
	sum.WriteText(&text)
	for _, want := range []string{"good.log: " + fmt.Sprint(len(bad)) + " bad records", "error: " + garbage, "1 skipped"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("summary text lacks %q:\n%s", want, text.String())
		}
	}
}

func TestSightingKeysAreStableAcrossRuns(t *testing.T) {
	data, _ := mixedLog(2000)
	dir := t.TempDir()
	p := writeFile(t, dir, "mixed.log", data)
	snap, err := match.Compile([]*intel.Object{
		{ID: "indicator--host3", Type: intel.TypeIndicator, Indicator: &intel.IndicatorSpec{Observables: []intel.Observable{{Type: intel.Domain, Value: "host3.example"}}}},
		{ID: "indicator--net", Type: intel.TypeIndicator, Indicator: &intel.IndicatorSpec{Observables: []intel.Observable{{Type: intel.CIDR, Value: "198.51.100.0/28"}}}},
	}, match.Options{})
	if err != nil {
		t.Fatal(err)
	}
	keys := func(chunk, workers int) []string {
		sum, _, sgs := runCollect(t, scan.Config{Paths: []string{p}, Snapshot: snap, ChunkSize: chunk, Workers: workers})
		if sum.Sightings != int64(len(sgs)) {
			t.Errorf("summary counts %d sightings, %d delivered", sum.Sightings, len(sgs))
		}
		var ks []string
		for _, sg := range sgs {
			ks = append(ks, sg.Key())
		}
		return ks
	}
	a := keys(-1, 1)
	if len(a) == 0 {
		t.Fatal("no sightings")
	}
	for i := 1; i < len(a); i++ {
		if a[i] == a[i-1] {
			t.Fatalf("duplicate key %s in one run", a[i])
		}
	}
	if diff := cmp.Diff(a, keys(1500, 3)); diff != "" {
		t.Errorf("keys differ between runs (-whole +chunked):\n%s", diff)
	}
}

// panicky is a format whose reader panics on its third record.
type panicky struct{}

func (panicky) Name() string                     { return "panicky" }
func (panicky) Sniff(head []byte, _ string) bool { return bytes.HasPrefix(head, []byte("PANIC")) }
func (panicky) Open(r io.Reader, name string) (telemetry.Reader, error) {
	return &panicReader{name: name}, nil
}

type panicReader struct {
	name string
	n    int
}

func (r *panicReader) Next(ev *telemetry.Event) error {
	r.n++
	if r.n == 3 {
		var m map[string]int
		m["boom"]++ //lint:ignore SA5000 the reader must panic, to test that the scan survives it
	}
	ev.Reset()
	ev.File, ev.Line = r.name, int64(r.n)
	return nil
}

func TestReaderPanicFailsOnlyItsFile(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "a.panic", []byte("PANIC\n"))
	data, _ := mixedLog(50)
	good := writeFile(t, dir, "b.log", data)
	reg := telemetry.NewRegistry(zeek.TSV{}, panicky{})
	sum, _, _ := runCollect(t, scan.Config{Paths: []string{bad, good}, Registry: reg, Workers: 2})
	if !strings.Contains(sum.Files[0].Err, "reader failed") || sum.Files[0].Events != 2 {
		t.Errorf("panicking file: %+v", sum.Files[0])
	}
	if sum.Files[1].Err != "" || sum.Files[1].Events == 0 {
		t.Errorf("other file: %+v", sum.Files[1])
	}
}

func TestCancel(t *testing.T) {
	data, _ := mixedLog(500)
	p := writeFile(t, t.TempDir(), "x.log", data)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := scan.Run(ctx, scan.Config{Paths: []string{p}, Registry: registry()})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestConfigErrors(t *testing.T) {
	if _, err := scan.Run(context.Background(), scan.Config{Paths: []string{"x"}}); err == nil {
		t.Error("no registry: want an error")
	}
	if _, err := scan.Run(context.Background(), scan.Config{Paths: []string{"/does/not/exist"}, Registry: registry()}); err == nil {
		t.Error("missing path: want an error")
	}
	if _, err := scan.Run(context.Background(), scan.Config{Paths: []string{"x"}, Registry: registry(), Format: "nope"}); err == nil {
		t.Error("unknown format: want an error")
	}
}

func TestForcedFormat(t *testing.T) {
	// a Zeek log without the #separator line is still read when forced
	body := strings.TrimPrefix(dnsHeader, "#separator \\x09\n")
	p := writeFile(t, t.TempDir(), "noheader.txt", []byte("# a comment\n"+body+"1700000000.000000\tC1\t10.0.0.1\t1\t10.0.0.53\t53\tudp\tx.example\t-\n"))
	sum, evs, _ := runCollect(t, scan.Config{Paths: []string{p}, Format: "zeek"})
	if sum.Events != 1 || evs[0].Query != "x.example" {
		t.Errorf("forced format: %+v %+v", sum, evs)
	}
}

func TestProgressOnlyOnATerminal(t *testing.T) {
	data, _ := mixedLog(200)
	p := writeFile(t, t.TempDir(), "x.log", data)
	var out bytes.Buffer
	if _, err := scan.Run(context.Background(), scan.Config{Paths: []string{p}, Registry: registry(), Progress: &out}); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("progress written without a terminal: %q", out.String())
	}
}

// TestRealLogsChunkedEqualWhole reads real Zeek TSV, Zeek JSON (gzip) and
// pcap files with the default registry, whole and in small chunks, and
// checks that both give the same events.
func TestRealLogsChunkedEqualWhole(t *testing.T) {
	wr := needShared(t, "telemetry", "zeek", "wrccdc-2018")
	st := needShared(t, "telemetry", "zeek", "stratosphere")
	pc := needShared(t, "telemetry", "pcap")
	paths := []string{
		filepath.Join(wr, "json", "dns.json.gz"),
		filepath.Join(wr, "x509.log.gz"),
		filepath.Join(st, "009-zeek-malicious", "data", "http.log.labeled"),
		filepath.Join(st, "001-zeek-scenario-malicious", "labeled-conn.log"),
		filepath.Join(pc, "http_bro.org.pcap"),
	}
	reg := formats.Default(formats.Options{})
	whole, a, _ := runCollect(t, scan.Config{Paths: paths, Registry: reg, ChunkSize: -1, Workers: 2})
	cut, b, _ := runCollect(t, scan.Config{Paths: paths, Registry: reg, ChunkSize: 8192, Workers: 2})
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("events differ (-whole +chunked):\n%s", diff)
	}
	for i, f := range whole.Files {
		if f.Events == 0 || f.Err != "" {
			t.Errorf("%s: %d events, error %q", f.Path, f.Events, f.Err)
		}
		if g := cut.Files[i]; g.Events != f.Events || g.BadRecords != f.BadRecords || g.Format != f.Format {
			t.Errorf("%s: whole %+v, chunked %+v", f.Path, f, g)
		}
	}
	if whole.Files[0].Format != "zeek-json" || whole.Files[4].Format != "pcap" {
		t.Errorf("formats: %s, %s", whole.Files[0].Format, whole.Files[4].Format)
	}
}

// TestLinesLongerThanAChunk checks that a line longer than a chunk but
// within the line limit is read as when the file is read whole: the chunk
// grows to hold it instead of the splitter calling it too long.
func TestLinesLongerThanAChunk(t *testing.T) {
	long := strings.Repeat("a", 2500) + ".example"
	body := dnsHeader +
		"1700000000.000000\tC1\t10.0.0.1\t1\t10.0.0.53\t53\tudp\tbefore.example\t-\n" +
		"1700000001.000000\tC2\t10.0.0.1\t2\t10.0.0.53\t53\tudp\t" + long + "\t-\n" +
		strings.Repeat("x", 5000) + "\n" +
		"1700000002.000000\tC3\t10.0.0.1\t3\t10.0.0.53\t53\tudp\tafter.example\t-\n" +
		strings.Repeat("y", 3000) // the last line, without a newline
	p := writeFile(t, t.TempDir(), "long.log", []byte(body))
	whole, wholeEvents, _ := runCollect(t, scan.Config{Paths: []string{p}, ChunkSize: -1, Workers: 1})
	if len(wholeEvents) != 3 || wholeEvents[1].Query != long || whole.Files[0].BadRecords != 2 {
		t.Fatalf("whole file: %d events, %d bad records; want 3 with the long query, 2", len(wholeEvents), whole.Files[0].BadRecords)
	}
	for _, workers := range []int{1, 3} {
		cut, cutEvents, _ := runCollect(t, scan.Config{Paths: []string{p}, ChunkSize: 1024, Workers: workers})
		if diff := cmp.Diff(wholeEvents, cutEvents); diff != "" {
			t.Errorf("%d workers: events differ (-whole +chunked):\n%s", workers, diff)
		}
		if diff := cmp.Diff(whole.Files[0], cut.Files[0]); diff != "" {
			t.Errorf("%d workers: file summary differs (-whole +chunked):\n%s", workers, diff)
		}
	}
	// over the limit, the splitter reports the line and reads on after it
	cut, cutEvents, _ := runCollect(t, scan.Config{Paths: []string{p}, ChunkSize: 1024, MaxLineBytes: 4096, Workers: 2})
	f := cut.Files[0]
	if len(cutEvents) != 3 || f.BadRecords != 2 || len(f.Errors) != 2 || f.Errors[0] != p+":11: line longer than 4096 bytes" {
		t.Errorf("limit 4096: %d events, summary %+v", len(cutEvents), f)
	}
}
