package readertest

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// script is a reader that replays a list of outcomes: an event for a nil
// error, the error otherwise; then io.EOF (or more events when endless).
type script struct {
	errs    []error
	i       int
	endless bool
}

func (s *script) Next(ev *telemetry.Event) error {
	*ev = telemetry.Event{}
	if s.i >= len(s.errs) {
		if s.endless {
			ev.Line = int64(s.i + 1)
			s.i++
			return nil
		}
		return io.EOF
	}
	s.i++
	ev.File, ev.Line, ev.Kind = "f.log", int64(s.i), telemetry.KindDNS
	return s.errs[s.i-1]
}

func bad(line int64) error {
	return &telemetry.RecordError{File: "f.log", Line: line, Offset: line * 10, Err: errors.New("broken")}
}

func TestDrain(t *testing.T) {
	fatal := errors.New("disk gone")
	res := Drain(t, &script{errs: []error{nil, bad(2), nil, fatal, nil}})
	if res.N != 2 || len(res.Events) != 2 || res.Events[1].Line != 3 || res.Err != fatal {
		t.Errorf("got %d events (%d kept), err %v", res.N, len(res.Events), res.Err)
	}
	if got := res.BadLines(); len(got) != 1 || got[0] != 2 || res.FirstBad() != res.Bad[0] {
		t.Errorf("bad lines %v", got)
	}
	if len(res.Kind(telemetry.KindDNS)) != 2 || len(res.Kind(telemetry.KindTLS)) != 0 {
		t.Error("Kind does not filter by kind")
	}
	counted := DrainEach(t, &script{errs: []error{nil, nil, nil}}, nil)
	if counted.N != 3 || len(counted.Events) != 0 || counted.Err != nil {
		t.Errorf("keep nil: %d events, %d kept, err %v", counted.N, len(counted.Events), counted.Err)
	}
}

// recorder is a testing.TB that records what a check reports.
type recorder struct {
	testing.TB
	msgs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func TestCheckBadReports(t *testing.T) {
	res := Result{Bad: []*telemetry.RecordError{bad(2).(*telemetry.RecordError), bad(5).(*telemetry.RecordError)}}
	for _, tt := range []struct {
		file  string
		lines []int64
		fails bool
	}{
		{"f.log", []int64{2, 5}, false},
		{"f.log", []int64{2}, true},
		{"f.log", []int64{2, 6}, true},
		{"other.log", []int64{2, 5}, true},
	} {
		r := &recorder{TB: t}
		CheckBad(r, res, tt.file, tt.lines...)
		if (len(r.msgs) > 0) != tt.fails {
			t.Errorf("CheckBad(%s, %v): reports %q, want failure %v", tt.file, tt.lines, r.msgs, tt.fails)
		}
	}
	r := &recorder{TB: t}
	CheckProvenance(r, res, "f.log", 30)
	if len(r.msgs) != 1 || !strings.Contains(r.msgs[0], "f.log:2") {
		t.Errorf("CheckProvenance with offset 20 < 30: %q", r.msgs)
	}
}

func TestFuzzBoundsRecords(t *testing.T) {
	f := scriptFormat{endless: true}
	r := &fatalRecorder{TB: t}
	func() {
		defer func() { _ = recover() }()
		Fuzz(r, f, []byte("abc"), "f.log", 4, nil)
	}()
	if !strings.Contains(r.msg, "more than 4 records") {
		t.Errorf("an endless reader was not caught: %q", r.msg)
	}
}

type scriptFormat struct{ endless bool }

func (scriptFormat) Name() string                     { return "script" }
func (scriptFormat) Sniff(head []byte, _ string) bool { return len(head) > 0 }
func (f scriptFormat) Open(io.Reader, string) (telemetry.Reader, error) {
	return &script{endless: f.endless}, nil
}

// fatalRecorder records a Fatalf and stops the check by panicking.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}
func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	panic(r.msg)
}

func TestLoop(t *testing.T) {
	l := &Loop{Data: []byte("ab")}
	var got []byte
	buf := make([]byte, 1)
	for i := 0; i < 5; i++ {
		n, err := l.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "ababa" {
		t.Errorf("Loop read %q", got)
	}
	if n, err := (&Loop{}).Read(buf); n != 0 || err != io.EOF {
		t.Errorf("empty Loop: %d, %v", n, err)
	}
}

func TestSharedDir(t *testing.T) {
	if !strings.HasSuffix(SharedDir(), "shared/data") {
		t.Errorf("SharedDir() = %s", SharedDir())
	}
}
