package geo

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/oschwald/maxminddb-golang/v2"
	"github.com/oschwald/maxminddb-golang/v2/mmdbdata"
)

// MMDB is a Locator over one or more MaxMind-format databases, such as a
// GeoLite2 or DB-IP City (or Country) database paired with an ASN one. For
// each address every file is asked in the order given and the first
// non-empty value of each field wins.
type MMDB struct {
	files []mmdbFile

	mu      sync.Mutex
	lookErr error // first lookup error, for Err
}

type mmdbFile struct {
	path   string
	kind   string // metadata database_type, e.g. "GeoLite2-City"
	v4only bool
	r      *maxminddb.Reader
}

// OpenMMDB opens MaxMind-format database files. It understands the GeoIP2 /
// GeoLite2 / DB-IP schema (country, registered_country,
// autonomous_system_number, autonomous_system_organization) and the flat
// one of ip-location-db and IPinfo (country_code, asn, as_name).
func OpenMMDB(paths ...string) (*MMDB, error) {
	if len(paths) == 0 {
		return nil, errors.New("geo: no MaxMind database given")
	}
	m := &MMDB{}
	for _, p := range paths {
		r, err := maxminddb.Open(p)
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("geo: %s: %w", p, err)
		}
		kind := r.Metadata.DatabaseType
		if kind == "" {
			kind = "mmdb"
		}
		m.files = append(m.files, mmdbFile{path: p, kind: kind, v4only: r.Metadata.IPVersion == 4, r: r})
	}
	return m, nil
}

// Close releases the files.
func (m *MMDB) Close() error {
	var errs []error
	for _, f := range m.files {
		if err := f.r.Close(); err != nil {
			errs = append(errs, fmt.Errorf("geo: %s: %w", f.path, err))
		}
	}
	return errors.Join(errs...)
}

// Types lists the database_type of each file, in order.
func (m *MMDB) Types() []string {
	out := make([]string, len(m.files))
	for i, f := range m.files {
		out[i] = f.kind
	}
	return out
}

// Err returns the first error met while looking addresses up (a corrupt
// record, for instance); such lookups answer "not known".
func (m *MMDB) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lookErr
}

func (m *MMDB) fail(err error) {
	m.mu.Lock()
	if m.lookErr == nil {
		m.lookErr = err
	}
	m.mu.Unlock()
}

// Lookup asks each file in turn.
func (m *MMDB) Lookup(a netip.Addr) (Info, bool) {
	if !a.IsValid() {
		return Info{}, false
	}
	a = normalise(a)
	if note, ok := Reserved(a); ok {
		return Info{Reserved: note, Source: ReservedSource}, true
	}
	var info Info
	var sources []string
	for i := range m.files {
		f := &m.files[i]
		if f.v4only && !a.Is4() {
			continue
		}
		res := f.r.Lookup(a)
		if err := res.Err(); err != nil {
			m.fail(fmt.Errorf("geo: %s: %s: %w", f.path, a, err))
			continue
		}
		if !res.Found() {
			continue
		}
		var rec mmdbRecord
		if err := res.Decode(&rec); err != nil {
			m.fail(fmt.Errorf("geo: %s: %s: %w", f.path, a, err))
			continue
		}
		used := false
		if info.Country == "" && rec.country != "" {
			info.Country, used = rec.country, true
		}
		if info.CountryName == "" && rec.countryName != "" && (rec.country == "" || rec.country == info.Country) {
			info.CountryName, used = rec.countryName, true
		}
		if info.ASN == 0 && rec.asn != 0 {
			info.ASN, used = rec.asn, true
			if info.ASOrg == "" {
				info.ASOrg = rec.asOrg
			}
		}
		if used {
			sources = append(sources, f.kind)
		}
	}
	if info.Country == "" && info.ASN == 0 {
		return Info{}, false
	}
	if info.Country != "" {
		if n := CountryName(info.Country); n != "" {
			info.CountryName = n // one spelling whichever database answered
		}
	}
	info.Source = strings.Join(sources, "+")
	return info, true
}

// mmdbRecord decodes only the fields Info needs, from either schema, and
// skips the rest without allocating for it.
type mmdbRecord struct {
	country, countryName string
	registered           string
	asn                  uint32
	asOrg                string
}

// maxField bounds strings read from a database record.
const maxField = 1024

func (r *mmdbRecord) UnmarshalMaxMindDBCursor(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	entries, err := c.Map()
	if err != nil {
		return mmdbdata.Cursor{}, mmdbdata.NormalizeUnmarshalError[mmdbRecord](err)
	}
	var next mmdbdata.Cursor
	for {
		key, v, ok := entries.Next(next)
		if !ok {
			break
		}
		switch string(key) {
		case "country":
			next, err = r.readCountry(v, &r.country, &r.countryName)
		case "registered_country":
			var ignored string
			next, err = r.readCountry(v, &r.registered, &ignored)
		case "country_code":
			next, err = readString(v, &r.country)
		case "autonomous_system_number", "asn":
			next, err = readASN(v, &r.asn)
		case "autonomous_system_organization", "as_name", "as_org":
			next, err = readString(v, &r.asOrg)
		default:
			next, err = v.Skip()
		}
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
	}
	next, err = entries.End()
	if r.country == "" {
		// A City record of an anycast or satellite network may only know where
		// the block is registered.
		r.country = r.registered
	}
	r.country = strings.ToUpper(strings.TrimSpace(r.country))
	if len(r.country) != 2 {
		r.country = ""
	}
	return next, err
}

// readCountry accepts the GeoIP2 map ({iso_code, names: {en}}) or a plain
// string, which IPinfo uses for the country's name.
func (r *mmdbRecord) readCountry(c mmdbdata.Cursor, code, name *string) (mmdbdata.Cursor, error) {
	k, err := c.Kind()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	if k == mmdbdata.KindString {
		return readString(c, name)
	}
	if k != mmdbdata.KindMap {
		return c.Skip()
	}
	entries, err := c.Map()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	var next mmdbdata.Cursor
	for {
		key, v, ok := entries.Next(next)
		if !ok {
			break
		}
		switch string(key) {
		case "iso_code":
			next, err = readString(v, code)
		case "names":
			next, err = readEnglish(v, name)
		default:
			next, err = v.Skip()
		}
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
	}
	return entries.End()
}

func readEnglish(c mmdbdata.Cursor, name *string) (mmdbdata.Cursor, error) {
	if k, err := c.Kind(); err != nil || k != mmdbdata.KindMap {
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
		return c.Skip()
	}
	entries, err := c.Map()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	var next mmdbdata.Cursor
	for {
		key, v, ok := entries.Next(next)
		if !ok {
			break
		}
		if string(key) == "en" {
			next, err = readString(v, name)
		} else {
			next, err = v.Skip()
		}
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
	}
	return entries.End()
}

// readString reads a string value, skipping values of another kind.
func readString(c mmdbdata.Cursor, dst *string) (mmdbdata.Cursor, error) {
	k, err := c.Kind()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	if k != mmdbdata.KindString {
		return c.Skip()
	}
	s, next, err := c.ReadStringMaxSize(maxField)
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	*dst = s
	return next, nil
}

// readASN accepts a number or a string such as "AS15169".
func readASN(c mmdbdata.Cursor, dst *uint32) (mmdbdata.Cursor, error) {
	k, err := c.Kind()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	switch k {
	case mmdbdata.KindUint16, mmdbdata.KindUint32, mmdbdata.KindUint64:
		v, next, err := c.ReadUint()
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
		if v <= 0xffffffff {
			*dst = uint32(v)
		}
		return next, nil
	case mmdbdata.KindString:
		var s string
		next, err := readString(c, &s)
		if err != nil {
			return next, err
		}
		s = strings.TrimSpace(s)
		if len(s) > 2 && strings.EqualFold(s[:2], "AS") {
			s = s[2:]
		}
		if n, perr := strconv.ParseUint(s, 10, 32); perr == nil {
			*dst = uint32(n)
		}
		return next, nil
	}
	return c.Skip()
}
