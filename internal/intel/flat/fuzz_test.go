package flat_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/flat"
)

// fuzzImport runs one importer on arbitrary bytes: it must not panic, every
// error must name the file, and whatever it emits must be well formed.
func fuzzImport(f *testing.F, im intel.Importer, globs []string, extra ...string) {
	for _, g := range globs {
		paths, _ := filepath.Glob(filepath.Join("testdata", g))
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		im.Sniff(data, "fuzz.in")
		var c intel.Collector
		opt := intel.DefaultOptions()
		st, err := im.Import(t.Context(), bytes.NewReader(data), "fuzz.in", opt, &c)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.in") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		checkIndicators(t, &c)
		if st.Objects[intel.TypeIndicator] != len(byType(&c, intel.TypeIndicator)) {
			t.Fatalf("stats %v disagree with %d indicators sent", st, len(byType(&c, intel.TypeIndicator)))
		}
		for _, e := range st.Errors {
			if e.File != "fuzz.in" || e.Line < 1 {
				t.Fatalf("record error without position: %+v", e)
			}
		}
	})
}

func FuzzZeekIntel(f *testing.F) {
	fuzzImport(f, flat.ZeekIntel{}, []string{"*.intel"},
		"#fields\tindicator\tindicator_type\tmeta.source\n1.2.3.4\tIntel::ADDR\tx\n",
		"#separator \\x2c\n#fields,indicator,indicator_type\nevil.example,Intel::DOMAIN\n",
		"#fields\tindicator\tindicator_type\n\\x41\\x0\tIntel::FILE_NAME\n")
}

func FuzzCSV(f *testing.F) {
	fuzzImport(f, flat.CSV{}, []string{"*.csv"},
		"a,\"b\nc\",d\n", "\"\"\"\n", "value\n\"evil.example\"x,\n")
}

func FuzzList(f *testing.F) {
	fuzzImport(f, flat.List{}, []string{"list.txt"},
		"hxxps://x[.]y/z\n", "0.0.0.0 a.b c.d\n", "[.][.]\n", "xn--.example\n", "1.2.3.4/33\n")
}
