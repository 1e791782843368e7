package taxii_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/taxii"
)

// benchStore is a store of N indicators (WHODUNIT_BENCH_TAXII_N, 20,000
// by default), imported as a list of domains the way `intel import` does.
func benchStore(b *testing.B) *fixture {
	n := 20000
	if v := os.Getenv("WHODUNIT_BENCH_TAXII_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	f := newFixture(b, openStore(b), taxii.Config{})
	var sb strings.Builder
	for i := range n {
		fmt.Fprintf(&sb, "c2-%d.bench.example\n", i)
	}
	p := filepath.Join(b.TempDir(), "domains.txt")
	if err := os.WriteFile(p, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	f.importFile(p, "bench-domains")
	b.Logf("store of %d indicators", n)
	return f
}

// BenchmarkObjectsPage1000 serves pages of 1,000 indicators through the
// handler, end to end (authentication, TLP filter, envelope), walking the
// whole collection by next and starting over.
func BenchmarkObjectsPage1000(b *testing.B) {
	f := benchStore(b).with(b)
	next := ""
	objects := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		target := intelC + "objects/?limit=1000"
		if next != "" {
			target += "&next=" + next
		}
		r := f.get("amber", target)
		if r.code != http.StatusOK {
			b.Fatalf("%d %s", r.code, r.body)
		}
		e := decodeEnvelope(b, r.body)
		objects += len(e.Objects)
		next = ""
		if e.More {
			next = e.Next
		}
	}
	b.ReportMetric(float64(objects)/float64(b.N), "objects/op")
}

// storedObjects is how many objects of the types a list import makes the
// store holds (its indicators and the identity of the list's source): what
// a client paging intel must receive.
func (f *fixture) storedObjects() int {
	total := 0
	for _, typ := range []string{"indicator", "identity", "relationship", "intrusion-set"} {
		n, err := f.db.Count(context.Background(), typ)
		if err != nil {
			f.t.Fatal(err)
		}
		total += n
	}
	return total
}
