package geo

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sync"

	"github.com/whodunit-project/whodunit/internal/geo/geobin"
)

// The embedded database; rebuilt by `make geo-refresh` (see README.md).
//
//go:embed data/geo.bin.gz
var embedded []byte

// maxDecoded bounds decompression of a database file: the real one is about
// ten times smaller than this.
const maxDecoded = 256 << 20

// DB is a database in whodunit's own format (package geobin): the embedded
// default or one loaded with Parse. Lookups do not allocate.
type DB struct {
	data         *geobin.Data
	countryNames []string // by country table index
	v4Country    index4
	v4AS         index4
}

// index4 narrows an IPv4 binary search to the ranges starting inside the
// address's /16: two cache misses instead of twenty on a cold table.
type index4 struct {
	r  *geobin.Ranges4
	lo []uint32 // lo[p]: number of starts below p<<16; 65537 entries
}

func newIndex4(r *geobin.Ranges4) index4 {
	ix := index4{r: r, lo: make([]uint32, 1<<16+1)}
	j := 0
	for p := 0; p < 1<<16; p++ {
		for j < len(r.Starts) && r.Starts[j] < uint32(p)<<16 {
			j++
		}
		ix.lo[p] = uint32(j)
	}
	ix.lo[1<<16] = uint32(len(r.Starts))
	return ix
}

// find is geobin.Ranges4.Find with the search limited by the index.
func (ix *index4) find(x uint32) uint32 {
	p := x >> 16
	lo, hi := ix.lo[p], ix.lo[p+1]
	starts := ix.r.Starts
	// Starts before lo are below x, starts from hi on are above it.
	for lo < hi {
		m := (lo + hi) >> 1
		if starts[m] <= x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return 0
	}
	return ix.r.Values[lo-1]
}

var (
	defaultOnce sync.Once
	defaultDB   *DB
	defaultErr  error
)

// Default returns the embedded database, decoding it on first use.
func Default() (*DB, error) {
	defaultOnce.Do(func() {
		defaultDB, defaultErr = Parse(embedded)
		if defaultErr != nil {
			defaultErr = fmt.Errorf("geo: embedded database: %w", defaultErr)
		}
	})
	return defaultDB, defaultErr
}

// Parse decodes a gzip-compressed geobin file.
func Parse(gz []byte) (*DB, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	// The gzip trailer states the decoded size (mod 4 GiB): a capacity hint
	// that saves repeated growing. A corrupt trailer must not make us
	// allocate much, so the hint is trusted only up to a ratio real data
	// never reaches (ours is about 3).
	var buf bytes.Buffer
	if n := len(gz); n >= 4 {
		if hint := binary.LittleEndian.Uint32(gz[n-4:]); hint <= maxDecoded && int64(hint) <= 16*int64(n) {
			buf.Grow(int(hint) + bytes.MinRead)
		}
	}
	if _, err := buf.ReadFrom(io.LimitReader(zr, maxDecoded+1)); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	raw := buf.Bytes()
	if len(raw) > maxDecoded {
		return nil, fmt.Errorf("gzip: decompresses to more than %d bytes", maxDecoded)
	}
	if err := zr.Close(); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	data, err := geobin.Decode(raw)
	if err != nil {
		return nil, err
	}
	if len(data.V4Country.Starts)+len(data.V6Country.Starts)+len(data.V4AS.Starts)+len(data.V6AS.Starts) == 0 {
		return nil, errors.New("database holds no ranges")
	}
	db := &DB{
		data:         data,
		countryNames: make([]string, len(data.Countries)),
		v4Country:    newIndex4(&data.V4Country),
		v4AS:         newIndex4(&data.V4AS),
	}
	for i, c := range data.Countries {
		db.countryNames[i] = CountryName(c)
	}
	return db, nil
}

// Lookup returns the country and autonomous system of a, or the note for a
// special-purpose range. It does not allocate.
func (db *DB) Lookup(a netip.Addr) (Info, bool) {
	if !a.IsValid() {
		return Info{}, false
	}
	a = normalise(a)
	if note, ok := Reserved(a); ok {
		return Info{Reserved: note, Source: ReservedSource}, true
	}
	var c, as uint32
	if a.Is4() {
		x := uint32(geobin.FromAddr(a).Lo)
		c = db.v4Country.find(x)
		as = db.v4AS.find(x)
	} else {
		x := geobin.FromAddr(a)
		c = db.data.V6Country.Find(x)
		as = db.data.V6AS.Find(x)
	}
	if c == 0 && as == 0 {
		return Info{}, false
	}
	info := Info{Source: db.data.Source}
	if c > 0 {
		info.Country = db.data.Countries[c-1]
		info.CountryName = db.countryNames[c-1]
	}
	if as > 0 {
		info.ASN = db.data.ASes[as-1].Number
		info.ASOrg = db.data.ASes[as-1].Org
	}
	return info, true
}

// Source is the short label of the data the database was built from.
func (db *DB) Source() string { return db.data.Source }

// Packages lists the upstream data packages, versions and licences.
func (db *DB) Packages() []geobin.Package { return db.data.Packages }

// Stats counts what the database holds.
type Stats struct {
	V4CountryRanges, V6CountryRanges int
	V4ASRanges, V6ASRanges           int
	Countries, ASes                  int
}

// Stats counts ranges and table entries.
func (db *DB) Stats() Stats {
	d := db.data
	return Stats{
		V4CountryRanges: len(d.V4Country.Starts), V6CountryRanges: len(d.V6Country.Starts),
		V4ASRanges: len(d.V4AS.Starts), V6ASRanges: len(d.V6AS.Starts),
		Countries: len(d.Countries), ASes: len(d.ASes),
	}
}
