package flat_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/flat"
)

func TestListFixture(t *testing.T) {
	c, st := mustRun(t, flat.List{}, "testdata/list.txt", intel.DefaultOptions())
	checkIndicators(t, c)
	type row struct {
		Type  intel.ValueType
		Value string
		Desc  string
	}
	var got []row
	for _, o := range byType(c, intel.TypeIndicator) {
		got = append(got, row{o.Indicator.Observables[0].Type, o.Indicator.Observables[0].Value, o.Description})
	}
	want := []row{
		{intel.IPv4, "198.51.100.10", ""},
		{intel.IPv4, "198.51.100.11", "trailing comment"},
		{intel.URL, "http://evil.example/path", ""},
		{intel.Domain, "evil.example", ""},
		{intel.Domain, "bad.example", ""},
		{intel.Domain, "xn--bcher-kva.example", ""},
		{intel.IPv6, "2001:db8::abcd", ""},
		{intel.CIDR, "198.51.100.0/25", ""},
		{intel.Email, "user@phish.example", ""},
		{intel.Domain, "ads.bad.example", ""},
		{intel.Domain, "tracker.bad.example", ""},
		{intel.MD5, "5d41402abc4b2a76b9719d911017c592", ""},
		{intel.IPv4, "198.51.100.12", "Emotet C2"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("indicators (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]int64{16, 17}, errLines(st)); d != "" {
		t.Errorf("skipped lines (-want +got):\n%s\n%v", d, st.Errors)
	}
	if raw := string(byValue(t, c)["evil.example"].Raw); raw != `{"value":"evil(dot)example"}` {
		t.Errorf("raw keeps the value as given: %s", raw)
	}
}

func TestListForcedType(t *testing.T) {
	in := "e7d705a3286e19ea42f587b344ee6865\n6734f37431670b3ab4292b8f60f29984 # chrome\nevil.example\n"
	opt := intel.DefaultOptions()
	opt.Type = intel.JA3
	var c intel.Collector
	st, err := flat.List{}.Import(t.Context(), strings.NewReader(in), "ja3.txt", opt, &c)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range byType(&c, intel.TypeIndicator) {
		if o.Indicator.Observables[0].Type != intel.JA3 {
			t.Errorf("%s: type %s", o.Name, o.Indicator.Observables[0].Type)
		}
	}
	if len(byValue(t, &c)) != 2 || st.Skipped != 1 || st.Errors[0].Line != 3 || !strings.Contains(st.Errors[0].Error(), "ja3.txt:3: ja3") {
		t.Errorf("got %d indicators, errors %v", len(byValue(t, &c)), st.Errors)
	}
}

func TestListComments(t *testing.T) {
	var c intel.Collector
	st, err := flat.List{}.Import(t.Context(), strings.NewReader("# only comments\n\n// and blank lines\n"), "empty.txt", intel.DefaultOptions(), &c)
	if err != nil || len(c.Objects) != 0 || st.Skipped != 0 {
		t.Errorf("comment-only list: %v %v %v", err, c.Objects, st)
	}
}

// hugeLine yields a short line, one line of n bytes, and another short
// line, without ever holding the long line in memory.
type hugeLine struct {
	pre, post []byte
	n, done   int64
	stage     int
}

var aaaa = [4096]byte(bytes.Repeat([]byte("a"), 4096))

func (h *hugeLine) Read(p []byte) (int, error) {
	switch h.stage {
	case 0:
		h.stage = 1
		return copy(p, h.pre), nil
	case 1:
		k := int64(len(p))
		if rest := h.n - h.done; rest < k {
			k = rest
		}
		for i := int64(0); i < k; {
			i += int64(copy(p[i:k], aaaa[:]))
		}
		if h.done += k; h.done == h.n {
			h.stage = 2
		}
		return int(k), nil
	case 2:
		h.stage = 3
		return copy(p, h.post), nil
	}
	return 0, io.EOF
}

func TestListHugeLine(t *testing.T) {
	n := int64(2 << 30) // one 2 GiB line
	if testing.Short() {
		n = 64 << 20
	}
	r := &hugeLine{pre: []byte("198.51.100.1\n"), post: []byte("\n198.51.100.2\n"), n: n}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var c intel.Collector
	st, err := flat.List{}.Import(t.Context(), r, "huge.txt", intel.DefaultOptions(), &c)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(byValue(t, &c)) != 2 || st.Skipped != 1 {
		t.Fatalf("indicators %v, errors %v", byValue(t, &c), st.Errors)
	}
	e := st.Errors[0]
	if e.Line != 2 || e.Offset != 13 || !strings.Contains(e.Error(), "huge.txt:2: line longer than") {
		t.Errorf("record error %v (line %d, offset %d)", e, e.Line, e.Offset)
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 32<<20 {
		t.Errorf("allocated %d MiB reading one long line: memory is not bounded", grown>>20)
	}
}

func TestListBinaryJunk(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	junk := make([]byte, 8192)
	for i := range junk {
		junk[i] = byte(rng.IntN(256))
	}
	for _, im := range flat.Importers() {
		var c intel.Collector
		_, err := im.Import(t.Context(), bytes.NewReader(junk), "junk.bin", intel.DefaultOptions(), &c)
		if err == nil || !strings.HasPrefix(err.Error(), "junk.bin") {
			t.Errorf("%s: error %v, want one naming the file", im.Name(), err)
		}
		if im.Sniff(junk[:fileio.HeadSize], "junk.bin") {
			t.Errorf("%s sniffs binary junk", im.Name())
		}
	}
	// text junk (no NUL byte) is rejected for having no indicator
	var c intel.Collector
	_, err := flat.List{}.Import(t.Context(), strings.NewReader(strings.Repeat("lorem ipsum dolor\n", 500)), "words.txt", intel.DefaultOptions(), &c)
	if err == nil || !strings.Contains(err.Error(), "words.txt: no indicator read, 500 bad records") {
		t.Errorf("text junk: %v", err)
	}
	// mostly junk: a few accidental matches do not make a list
	in := strings.Repeat("lorem ipsum dolor\n", 400) + "evil.example\n"
	_, err = flat.List{}.Import(t.Context(), strings.NewReader(in), "words.txt", intel.DefaultOptions(), &c)
	if err == nil || !strings.Contains(err.Error(), "400 bad records against 1 indicators") {
		t.Errorf("mostly junk: %v", err)
	}
}

func TestListTruncated(t *testing.T) {
	// a list cut in the middle of its last value: that value is a bad record
	var c intel.Collector
	st, err := flat.List{}.Import(t.Context(), strings.NewReader("198.51.100.1\n5d41402abc4b2a76b97"), "cut.txt", intel.DefaultOptions(), &c)
	if err != nil || len(byValue(t, &c)) != 1 || d(errLines(st), []int64{2}) != "" {
		t.Errorf("cut list: %v %v", err, st.Errors)
	}

	// a gzip stream cut short fails the file with its position
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(zw, "host%d.bad.example\n", i)
	}
	zw.Close()
	cut := z.Bytes()[:z.Len()/2]
	in, err := fileio.Wrap(bytes.NewReader(cut), "cut.txt.gz", fileio.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	c = intel.Collector{}
	_, err = flat.List{}.Import(t.Context(), in.R, "cut.txt.gz", intel.DefaultOptions(), &c)
	if err == nil || !strings.HasPrefix(err.Error(), "cut.txt.gz:") || !strings.Contains(err.Error(), "byte offset") {
		t.Errorf("truncated gzip: %v", err)
	}
}

func d(got, want []int64) string { return cmp.Diff(want, got) }
