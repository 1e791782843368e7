package storebench_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/flat"
	"github.com/whodunit-project/whodunit/internal/intel/stix"
	"github.com/whodunit-project/whodunit/internal/scan/benchgen"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/postgres"
	"github.com/whodunit-project/whodunit/internal/store/postgres/pgtest"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

// Sizes, each from its variable: the defaults keep `go test -bench .`
// short; the README's table is measured with the full sizes
// (WHODUNIT_BENCH_LIST=1000000 WHODUNIT_BENCH_SIGHTINGS=100000).
var (
	listSize      = envSize("WHODUNIT_BENCH_LIST", 100_000)
	sightingsSize = envSize("WHODUNIT_BENCH_SIGHTINGS", 10_000)
)

// pageSize is what one TAXII-style page holds.
const pageSize = 1000

func envSize(name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		panic(fmt.Sprintf("%s=%q: want a positive number", name, v))
	}
	return n
}

// kind is one store under measurement: how to open an empty one.
type kind struct {
	name string
	open func(b *testing.B) store.Store
}

var kinds = []kind{
	{"sqlite", func(b *testing.B) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		return s
	}},
	{"postgres", func(b *testing.B) store.Store {
		s, err := postgres.Open(context.Background(), pgtest.NewDatabase(b))
		if err != nil {
			b.Fatal(err)
		}
		return s
	}},
}

// eachStore runs fn as one sub-benchmark per store.
func eachStore(b *testing.B, fn func(b *testing.B, k kind)) {
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) { fn(b, k) })
	}
}

// attackPath is the ATT&CK Enterprise bundle of the shared data.
func attackPath(b *testing.B) string {
	path := filepath.Join("..", "..", "..", "..", "shared", "data", "intel", "attack", "enterprise-attack.json.gz")
	if _, err := os.Stat(path); err != nil {
		b.Skipf("shared data not present (%v)", err)
	}
	return path
}

// attackObjects is how many objects the bundle holds.
const attackObjects = 24771

// importAttack imports the ATT&CK bundle into s and checks every object
// was read and stored.
func importAttack(b *testing.B, s store.Store, path string) {
	ctx := context.Background()
	in, err := fileio.Open(path, fileio.DefaultLimits)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	var st intel.Stats
	res, err := s.Import(ctx, intel.Source{Name: "attack", Format: "stix", SHA256: "attack"}, func(sink intel.Sink) error {
		var err error
		st, err = stix.Importer{}.Import(ctx, in.R, path, intel.DefaultOptions(), sink)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	if st.Total() != attackObjects || res.New != attackObjects {
		b.Fatalf("%d objects read, %d stored, want %d", st.Total(), res.New, attackObjects)
	}
}

var (
	listOnce sync.Once
	listData []byte
)

// list is the plain indicator list of listSize lines, the value file of
// make bench-scan's sets (domains, addresses, hashes, URLs, e-mail).
func list(b *testing.B) []byte {
	listOnce.Do(func() {
		var buf bytes.Buffer
		if err := benchgen.WriteValues(&buf, benchgen.Indicators(listSize, 1)); err != nil {
			panic(err)
		}
		listData = buf.Bytes()
	})
	return listData
}

// importList imports the list into s as `whodunit intel import` does,
// reader included, and returns how many indicators it stored.
func importList(b *testing.B, s store.Store, data []byte) int {
	ctx := context.Background()
	var st intel.Stats
	res, err := s.Import(ctx, intel.Source{Name: "list", Format: "list", SHA256: "list"}, func(sink intel.Sink) error {
		var err error
		st, err = flat.List{}.Import(ctx, bytes.NewReader(data), "indicators.txt", intel.DefaultOptions(), sink)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	n := st.Objects[intel.TypeIndicator]
	if n < listSize*98/100 || res.New != st.Total() {
		b.Fatalf("%d of %d lines read as indicators, %d of %d objects stored", n, listSize, res.New, st.Total())
	}
	return n
}
