package zeek

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// splitRef is the plain definition of splitBounds: the first n fields by
// bytes.Split, as [start, end) pairs.
func splitRef(line []byte, sep byte, n int) [][2]int {
	var out [][2]int
	start := 0
	for i, f := range bytes.Split(line, []byte{sep}) {
		if i == n {
			break
		}
		out = append(out, [2]int{start, start + len(f)})
		start += len(f) + 1
	}
	return out
}

func checkSplit(t *testing.T, line []byte, sep byte) {
	t.Helper()
	nf := bytes.Count(line, []byte{sep}) + 1
	for _, n := range []int{0, nf + 1, nf + 9} {
		// no bounds, or more than the line has: the count must still be right
		if _, got := splitFields(line, sep, nil, n); got != nf {
			t.Errorf("splitFields(%q, %d) counts %d fields, want %d", line, n, got, nf)
		}
	}
	for _, n := range []int{1, 2, nf / 3, nf / 2, nf - 9, nf - 1, nf} {
		if n < 1 || n > nf {
			continue
		}
		if _, got := splitFields(line, sep, nil, n); got != nf {
			t.Errorf("splitFields(%q, %d) counts %d fields, want %d", line, n, got, nf)
		}
		b := splitBounds(line, sep, nil, n)
		var got [][2]int
		for k := 0; k < n; k++ {
			got = append(got, [2]int{int(b[k]), int(b[k+1]) - 1})
		}
		if diff := cmp.Diff(splitRef(line, sep, n), got); diff != "" {
			t.Errorf("splitBounds(%q, %d) (-want +got):\n%s", line, n, diff)
		}
	}
}

func TestSplitBounds(t *testing.T) {
	for _, line := range []string{
		"", "a", "\t", "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t", "a\tb", "1234567\t", "12345678\t", "1234567\t9",
		"1521911720.865716\tC8BzqfkUoISFwKao9\t2001:718:2:1663::1ce\t50976\t10.0.0.1\t902\ttcp\t-\t73.363522\t2516",
		"a\tb\tc\td\te\tf\tg\th\ti", "\t\t\t\t\tx\t\t\t\t\t\t\tyz\t\t", "T\tF\t0\tSF\tT\tF\t0\tShADadFf\t1\t2\t3\t4\t(empty)", "\ta\tb\tc\td\te\t", "abcdefghijklmnopqrstuvwxyz\t\t\tx",
	} {
		checkSplit(t, []byte(line), '\t')
	}
	// lines past one and two 64-byte blocks, with separators at the block edges
	long := []string{strings.Repeat("\t", 200), strings.Repeat("abcdefg\t", 40), strings.Repeat("x", 63) + "\t" + strings.Repeat("y", 64) + "\tz",
		strings.Repeat("0123456789abcdef", 9) + "\t\t" + strings.Repeat("q\t", 50), strings.Repeat("a\tbb\tccc\t", 30)}
	for _, line := range long {
		checkSplit(t, []byte(line), '\t')
	}
	checkSplit(t, []byte("a|b||c|"), '|')
	checkSplit(t, []byte("a\x00b\x00\x00c"), 0)
}

func FuzzSplitBounds(f *testing.F) {
	f.Add([]byte("1521911720.865716\tC1\t10.0.0.1\t1\t\t\t\t\t\t\t\t\tx"), byte('\t'))
	f.Add([]byte("a,b,,c"), byte(','))
	f.Fuzz(func(t *testing.T, line []byte, sep byte) {
		checkSplit(t, line, sep)
	})
}
