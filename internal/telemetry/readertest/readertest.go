// Package readertest is the shared test harness of the telemetry readers
// (zeek, eve, jsonl, pcap): it reads an input through a reader to its end,
// collects the events and the bad records, checks the positions they carry,
// and finds the shared data beside the repository. Only tests import it.
package readertest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// MaxRecords bounds a read: a reader that yields more has lost its way.
const MaxRecords = 10_000_000

// Result is everything a reader yielded.
type Result struct {
	Events []*telemetry.Event       // what Keep kept of each event, in order
	N      int                      // events read, kept or not
	Bad    []*telemetry.RecordError // bad records, in order
	Err    error                    // the error that ended the input; nil at io.EOF
}

// Kind returns the kept events of kind k.
func (r Result) Kind(k telemetry.Kind) []*telemetry.Event {
	var out []*telemetry.Event
	for _, ev := range r.Events {
		if ev.Kind == k {
			out = append(out, ev)
		}
	}
	return out
}

// BadLines returns the line (or packet) number of each bad record.
func (r Result) BadLines() []int64 {
	var out []int64
	for _, b := range r.Bad {
		out = append(out, b.Line)
	}
	return out
}

// FirstBad returns the first bad record, or nil.
func (r Result) FirstBad() error {
	if len(r.Bad) == 0 {
		return nil
	}
	return r.Bad[0]
}

// Keep decides what is kept of an event the reader yields; the event is
// valid only during the call. A nil result keeps nothing (N still counts it).
type Keep func(*telemetry.Event) *telemetry.Event

// Clone keeps a copy of every event.
func Clone(ev *telemetry.Event) *telemetry.Event { return ev.Clone() }

// Drain reads rd to its end, keeping a clone of every event.
func Drain(t testing.TB, rd telemetry.Reader) Result {
	t.Helper()
	return DrainEach(t, rd, Clone)
}

// DrainEach reads rd to its end; keep (nil keeps nothing) decides what is
// kept of each event. It fails t when rd does not end within MaxRecords.
func DrainEach(t testing.TB, rd telemetry.Reader, keep Keep) Result {
	t.Helper()
	res, ended := drain(rd, keep, MaxRecords)
	if !ended {
		t.Fatalf("reader did not end after %d records", MaxRecords)
	}
	return res
}

// drain reads at most limit records; ended is false when rd had more.
func drain(rd telemetry.Reader, keep Keep, limit int) (res Result, ended bool) {
	var ev telemetry.Event
	for i := 0; i <= limit; i++ {
		err := rd.Next(&ev)
		if err == io.EOF {
			return res, true
		}
		var re *telemetry.RecordError
		if errors.As(err, &re) {
			res.Bad = append(res.Bad, re)
			continue
		}
		if err != nil {
			res.Err = err
			return res, true
		}
		res.N++
		if keep != nil {
			if k := keep(&ev); k != nil {
				res.Events = append(res.Events, k)
			}
		}
	}
	return res, false
}

// Read opens r with f under name and reads it to its end, keeping clones.
// An error from Open is the result's Err.
func Read(t testing.TB, f telemetry.Format, r io.Reader, name string) Result {
	t.Helper()
	return ReadEach(t, f, r, name, Clone)
}

// ReadEach is Read with keep deciding what is kept of each event.
func ReadEach(t testing.TB, f telemetry.Format, r io.Reader, name string, keep Keep) Result {
	t.Helper()
	rd, err := f.Open(r, name)
	if err != nil {
		return Result{Err: err}
	}
	return DrainEach(t, rd, keep)
}

// ReadString reads s through f under name, keeping clones.
func ReadString(t testing.TB, f telemetry.Format, s, name string) Result {
	t.Helper()
	return Read(t, f, strings.NewReader(s), name)
}

// ReadBytes reads b through f under name, keeping clones.
func ReadBytes(t testing.TB, f telemetry.Format, b []byte, name string) Result {
	t.Helper()
	return Read(t, f, bytes.NewReader(b), name)
}

// ReadFile opens path as the scan engine does (fileio.Open: gzip with its
// limits, the sniffing head), picks the first of formats whose Sniff
// accepts it and reads it under name (path when empty). It returns the
// format's name, or "" and an empty result when no format accepts it.
func ReadFile(t testing.TB, path, name string, keep Keep, formats ...telemetry.Format) (Result, string) {
	t.Helper()
	in, err := fileio.Open(path, fileio.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	f, ok := telemetry.NewRegistry(formats...).Sniff(in.Head, path)
	if !ok {
		return Result{}, ""
	}
	if name == "" {
		name = path
	}
	return ReadEach(t, f, in.R, name, keep), f.Name()
}

// Fuzz reads data through f as a fuzz target does: the reader must end
// within maxRecords records, must answer io.EOF again after io.EOF, and
// must give every bad record the input's name and an offset inside it.
// check (when not nil) sees every event. An error from Open, or the error
// that ends the input, is the result's Err; nothing is kept.
func Fuzz(t testing.TB, f telemetry.Format, data []byte, name string, maxRecords int, check func(*telemetry.Event)) Result {
	t.Helper()
	rd, err := f.Open(bytes.NewReader(data), name)
	if err != nil {
		return Result{Err: err}
	}
	keep := func(ev *telemetry.Event) *telemetry.Event {
		if check != nil {
			check(ev)
		}
		return nil
	}
	res, ended := drain(rd, keep, maxRecords)
	if !ended {
		t.Fatalf("more than %d records in %d bytes", maxRecords, len(data))
	}
	if res.Err == nil {
		var ev telemetry.Event
		if err := rd.Next(&ev); err != io.EOF {
			t.Fatalf("Next after io.EOF = %v, want io.EOF", err)
		}
	}
	// Offsets count decompressed bytes, which a gzip input may exceed.
	gzipped := len(data) > 1 && data[0] == 0x1f && data[1] == 0x8b
	for _, b := range res.Bad {
		if b.File != name || b.Offset < 0 || !gzipped && b.Offset > int64(len(data)) {
			t.Fatalf("bad record without its position: %+v", b)
		}
	}
	return res
}

// CheckBad fails t unless the bad records are exactly at lines (line or
// packet numbers, in order) and each names file and its line the way the
// CLI prints it ("file:line: ...").
func CheckBad(t testing.TB, res Result, file string, lines ...int64) {
	t.Helper()
	if got := res.BadLines(); !slices.Equal(got, lines) {
		t.Errorf("bad records at lines %v, want %v: %v", got, lines, res.Bad)
	}
	for _, b := range res.Bad {
		if prefix := fmt.Sprintf("%s:%d: ", file, b.Line); b.File != file || !strings.HasPrefix(b.Error(), prefix) {
			t.Errorf("bad record %q does not begin with %q", b, prefix)
		}
	}
}

// CheckProvenance fails t unless every kept event and every bad record
// names file, a line (or packet) number and an offset of at least
// minOffset (a container's header comes before any record).
func CheckProvenance(t testing.TB, res Result, file string, minOffset int64) {
	t.Helper()
	for _, b := range res.Bad {
		if b.File != file || b.Line <= 0 || b.Offset < minOffset {
			t.Errorf("bad record without provenance: %+v", b)
		}
	}
	for _, ev := range res.Events {
		if ev.File != file || ev.Line <= 0 || ev.Offset < minOffset {
			t.Errorf("%s event without provenance: %+v", ev.Kind, ev)
		}
	}
}

// AllocsPerEvent reads warmup events from rd (to grow its buffers), then
// returns the average allocations of one more Next over runs calls. rd
// must not end (read a Loop).
func AllocsPerEvent(t testing.TB, rd telemetry.Reader, warmup, runs int) float64 {
	t.Helper()
	var ev telemetry.Event
	for i := 0; i < warmup; i++ {
		if err := rd.Next(&ev); err != nil {
			t.Fatal(err)
		}
	}
	return testing.AllocsPerRun(runs, func() {
		if err := rd.Next(&ev); err != nil {
			t.Fatal(err)
		}
	})
}

// Loop is an endless input: it replays Data from the start.
type Loop struct {
	Data []byte
	off  int
}

func (l *Loop) Read(p []byte) (int, error) {
	if len(l.Data) == 0 {
		return 0, io.EOF
	}
	if l.off >= len(l.Data) {
		l.off = 0
	}
	n := copy(p, l.Data[l.off:])
	l.off += n
	return n, nil
}

// SharedDir is the shared data directory beside the repository
// (../shared/data from the module root), whether or not it is there.
func SharedDir() string {
	dir, err := os.Getwd()
	if err != nil {
		return filepath.Join("..", "shared", "data")
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(d), "shared", "data")
		}
		if filepath.Dir(d) == d {
			return filepath.Join("..", "shared", "data")
		}
	}
}

// SharedData returns the shared data path rel (slash-separated parts
// joined), and skips t when it is absent: users who clone the project do
// not have the shared data.
func SharedData(t testing.TB, rel ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{SharedDir()}, rel...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data not present: %v", err)
	}
	return p
}
