package storetest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/flat"
	"github.com/whodunit-project/whodunit/internal/scan/benchgen"
	"github.com/whodunit-project/whodunit/internal/store"
)

// benchImports is how many imports the benchmark store is made of, so
// that pages cross added times.
const benchImports = 4

// BenchObjectsPage fills s with WHODUNIT_BENCH_OBJECTS indicators (20,000
// unless set) from benchgen's value list, imported as plain lists in
// benchImports parts, then measures pages of 1,000: one op is one page,
// walking the store from cursor to cursor and starting over at the end.
// settle, when not nil, runs after the imports (PostgreSQL: ANALYZE, as
// autovacuum does within a minute of a large import).
func BenchObjectsPage(b *testing.B, s store.ServerStore, settle func()) {
	n := 20_000
	if v := os.Getenv("WHODUNIT_BENCH_OBJECTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("WHODUNIT_BENCH_OBJECTS=%q: not a positive number", v)
		}
	}
	fillIndicators(b, s, n)
	if settle != nil {
		settle()
	}
	for _, bc := range []struct {
		name string
		q    store.PageQuery
	}{
		{"all", store.PageQuery{}},
		{"type=indicator", store.PageQuery{Types: []string{intel.TypeIndicator}}},
		{"source", store.PageQuery{Sources: []string{"list-1", "list-3"}}},
		{"added_after", store.PageQuery{AddedAfter: firstAdded(b, s)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var after store.Cursor
			items := 0
			for b.Loop() {
				page, err := s.ObjectsPage(ctx, bc.q, after, 1000)
				if err != nil {
					b.Fatal(err)
				}
				if len(page.Items) == 0 {
					b.Fatal("an empty page")
				}
				items += len(page.Items)
				after = page.Next
				if !page.More {
					after = ""
				}
			}
			b.ReportMetric(float64(items)/float64(b.N), "objects/page")
		})
	}
}

// fillIndicators imports n generated indicator values in benchImports lists.
func fillIndicators(b *testing.B, s store.Store, n int) {
	var buf bytes.Buffer
	if err := benchgen.WriteValues(&buf, benchgen.Indicators(n, 1)); err != nil {
		b.Fatal(err)
	}
	var parts [benchImports]bytes.Buffer
	sc := bufio.NewScanner(&buf)
	for i := 0; sc.Scan(); i++ {
		parts[i*benchImports/n%benchImports].Write(append(sc.Bytes(), '\n'))
	}
	total := 0
	for i := range parts {
		name := fmt.Sprintf("list-%d", i)
		_, err := s.Import(ctx, intel.Source{Name: name, Format: "list", SHA256: name}, func(sink intel.Sink) error {
			st, err := flat.List{}.Import(ctx, bytes.NewReader(parts[i].Bytes()), name+".txt", intel.DefaultOptions(), sink)
			total += st.Objects[intel.TypeIndicator]
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%d indicators in %d imports", total, benchImports)
}

// firstAdded is the added time of the first import: added_after it is the
// last three quarters of the store.
func firstAdded(b *testing.B, s store.ServerStore) time.Time {
	page, err := s.ObjectsPage(ctx, store.PageQuery{}, "", 1)
	if err != nil || len(page.Items) == 0 {
		b.Fatalf("first page: %v", err)
	}
	return page.Items[0].Added
}
