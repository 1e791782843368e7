package geo

import (
	"bytes"
	"compress/gzip"
	_ "embed"
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
	raw, err := io.ReadAll(io.LimitReader(zr, maxDecoded+1))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
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
	db := &DB{data: data, countryNames: make([]string, len(data.Countries))}
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
		x := geobin.FromAddr(a).Lo
		c = db.data.V4Country.Find(uint32(x))
		as = db.data.V4AS.Find(uint32(x))
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
