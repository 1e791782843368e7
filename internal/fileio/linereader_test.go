package fileio_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/whodunit-project/whodunit/internal/fileio"
)

// step is what one LineReader.Next call gave.
type step struct {
	Line, Offset int64
	Text         string
	Err          string
}

func readAll(lr *fileio.LineReader) []step {
	var out []step
	for {
		line, err := lr.Next()
		s := step{Line: lr.Line, Offset: lr.Offset, Text: string(line)}
		if err != nil {
			s.Err = err.Error()
		}
		out = append(out, s)
		if err != nil && !errors.Is(err, fileio.ErrLineTooLong) {
			return out
		}
	}
}

// cut splits data into parts at the given positions.
func cut(data []byte, at []int) [][]byte {
	var parts [][]byte
	prev := 0
	for _, a := range at {
		a = max(prev, min(a, len(data)))
		parts = append(parts, data[prev:a])
		prev = a
	}
	return append(parts, data[prev:])
}

// checkSame reads data through a bufio.Reader and through Slices cut at
// the given positions, and wants the same lines, errors, line numbers and
// offsets.
func checkSame(t *testing.T, data []byte, at []int, max int) {
	t.Helper()
	want := readAll(fileio.NewLineReader(bufio.NewReaderSize(bytes.NewReader(data), 64<<10), max))
	got := readAll(fileio.NewLineReader(fileio.NewSlices(cut(data, at)...), max))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%q cut at %v, max %d (-want +got):\n%s", data, at, max, diff)
	}
}

func TestLineReaderInMemory(t *testing.T) {
	for _, tc := range []struct {
		data string
		at   []int
		max  int
	}{
		{"", nil, 10},
		{"a\nb\n", nil, 10},
		{"a\nb", nil, 10},
		{"a\r\nb\r\n\r\n\n", nil, 10},
		{"a\nb\n", []int{2}, 10},           // header part, data part
		{"abc\ndef\n", []int{1, 1, 6}, 10}, // lines across parts, an empty part
		{"0123456789\n01234567890\nx\n", nil, 10},
		{"0123456789\n01234567890\nx\n", []int{5, 16}, 10},
		{"0123456789012345\nok\n", []int{3, 6, 9, 12}, 4}, // too long across parts
		{"01234567890", nil, 10},                          // a last line of max+1 bytes without newline
		{"012345678901", []int{4}, 10},
		{"x\n\n\ny", []int{2, 3}, 1},
	} {
		checkSame(t, []byte(tc.data), tc.at, tc.max)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 300; i++ {
		var b strings.Builder
		for n := r.IntN(20); n > 0; n-- {
			b.WriteString(strings.Repeat("x", r.IntN(30)))
			if r.IntN(5) == 0 {
				b.WriteByte('\r')
			}
			b.WriteByte('\n')
		}
		if r.IntN(2) == 0 {
			b.WriteString("tail")
		}
		data := []byte(b.String())
		var at []int
		for n := r.IntN(4); n > 0; n-- {
			at = append(at, r.IntN(len(data)+1))
		}
		sortInts(at)
		checkSame(t, data, at, 1+r.IntN(40))
	}
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func TestSlicesRead(t *testing.T) {
	s := fileio.NewSlices([]byte("head\n"), nil, []byte("data\nmore"))
	if p := s.Peek(7); string(p) != "head\nda" {
		t.Errorf("Peek(7) = %q", p)
	}
	got, err := io.ReadAll(s)
	if err != nil || string(got) != "head\ndata\nmore" {
		t.Errorf("ReadAll = %q, %v", got, err)
	}
	if p := s.Peek(2); len(p) != 0 {
		t.Errorf("Peek at the end = %q", p)
	}
}

func FuzzLineReaderInMemory(f *testing.F) {
	f.Add([]byte("#fields\ta\tb\n1\t2\n3\t4\n"), uint16(7), uint16(12), uint8(8))
	f.Add([]byte("a\r\n\r\nbbbbbbbbbbbbbbbbbbbb\nc"), uint16(1), uint16(3), uint8(4))
	f.Fuzz(func(t *testing.T, data []byte, a, b uint16, max uint8) {
		at := []int{int(a), int(b)}
		sortInts(at)
		checkSame(t, data, at, 1+int(max))
	})
}
