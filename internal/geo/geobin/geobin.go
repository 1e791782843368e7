// Package geobin is the compact binary format of whodunit's embedded
// IP-geolocation database: sorted IP range starts with a value index each,
// delta and varint encoded, plus the tables the indexes point into (country
// codes, autonomous systems). It encodes, decodes and searches; it knows
// nothing about where the data came from.
//
// A range table is a list of starts in increasing order; range i covers the
// addresses from Starts[i] up to Starts[i+1]-1 (the last one up to the end of
// the address space). Value 0 means "no data" so that gaps cost one entry.
package geobin

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Magic opens every file; Version follows it as a uvarint.
const (
	Magic   = "WDGEO\x00"
	Version = 1
)

// Limits on single fields, so corrupt input cannot ask for huge strings.
const (
	maxStringLen  = 4096
	maxPackages   = 64
	maxCountryTab = 1024
)

// U128 is an IPv6 address as a 128-bit unsigned number.
type U128 struct{ Hi, Lo uint64 }

// Less reports whether a < b.
func (a U128) Less(b U128) bool { return a.Hi < b.Hi || (a.Hi == b.Hi && a.Lo < b.Lo) }

// sub returns a-b; the caller guarantees a >= b.
func (a U128) sub(b U128) U128 {
	lo := a.Lo - b.Lo
	hi := a.Hi - b.Hi
	if a.Lo < b.Lo {
		hi--
	}
	return U128{hi, lo}
}

// add returns a+b and whether it overflowed 128 bits.
func (a U128) add(b U128) (U128, bool) {
	lo := a.Lo + b.Lo
	carry := uint64(0)
	if lo < a.Lo {
		carry = 1
	}
	hi := a.Hi + b.Hi
	over := hi < a.Hi
	hi2 := hi + carry
	if hi2 < hi {
		over = true
	}
	return U128{hi2, lo}, over
}

// Ranges4 is an IPv4 range table.
type Ranges4 struct {
	Starts []uint32
	Values []uint32
}

// Ranges6 is an IPv6 range table.
type Ranges6 struct {
	Starts []U128
	Values []uint32
}

// Find returns the value of the range holding x (0 when none does).
// It does not allocate.
func (r *Ranges4) Find(x uint32) uint32 {
	// Largest i with Starts[i] <= x.
	lo, hi := 0, len(r.Starts)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if r.Starts[m] <= x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return 0
	}
	return r.Values[lo-1]
}

// Find returns the value of the range holding x (0 when none does).
// It does not allocate.
func (r *Ranges6) Find(x U128) uint32 {
	lo, hi := 0, len(r.Starts)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !x.Less(r.Starts[m]) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return 0
	}
	return r.Values[lo-1]
}

// AS is one autonomous system.
type AS struct {
	Number uint32
	Org    string
}

// Package names one upstream data package the file was built from.
type Package struct {
	Name, Version, License string
}

// Data is the whole database. Country value i (i > 0) is Countries[i-1];
// AS value i is ASes[i-1].
type Data struct {
	Source    string    // short label, e.g. "ip-location-db 2.3.2026061719"
	Packages  []Package // provenance, for notices
	Countries []string  // two-letter codes
	ASes      []AS      // sorted by Number, unique
	V4Country Ranges4
	V4AS      Ranges4
	V6Country Ranges6
	V6AS      Ranges6
}

// Encode writes d in the binary format (uncompressed; callers gzip it).
// It checks the invariants Decode will check, so a file that encodes decodes.
func Encode(w io.Writer, d *Data) error {
	if err := validate(d); err != nil {
		return err
	}
	var b []byte
	b = append(b, Magic...)
	b = binary.AppendUvarint(b, Version)
	b = appendString(b, d.Source)
	b = binary.AppendUvarint(b, uint64(len(d.Packages)))
	for _, p := range d.Packages {
		b = appendString(b, p.Name)
		b = appendString(b, p.Version)
		b = appendString(b, p.License)
	}
	b = binary.AppendUvarint(b, uint64(len(d.Countries)))
	for _, c := range d.Countries {
		b = append(b, c...)
	}
	b = binary.AppendUvarint(b, uint64(len(d.ASes)))
	prev := uint32(0)
	for _, a := range d.ASes {
		b = binary.AppendUvarint(b, uint64(a.Number-prev))
		prev = a.Number
		b = appendString(b, a.Org)
	}
	b = append4(b, &d.V4Country)
	b = append4(b, &d.V4AS)
	b = append6(b, &d.V6Country)
	b = append6(b, &d.V6AS)
	_, err := w.Write(b)
	return err
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Columns (all starts, then all values) compress better than rows.
func append4(b []byte, r *Ranges4) []byte {
	b = binary.AppendUvarint(b, uint64(len(r.Starts)))
	prev := uint32(0)
	for _, s := range r.Starts {
		b = binary.AppendUvarint(b, uint64(s-prev))
		prev = s
	}
	for _, v := range r.Values {
		b = binary.AppendUvarint(b, uint64(v))
	}
	return b
}

func append6(b []byte, r *Ranges6) []byte {
	b = binary.AppendUvarint(b, uint64(len(r.Starts)))
	prev := U128{}
	for _, s := range r.Starts {
		d := s.sub(prev)
		b = binary.AppendUvarint(b, d.Hi)
		b = binary.AppendUvarint(b, d.Lo)
		prev = s
	}
	for _, v := range r.Values {
		b = binary.AppendUvarint(b, uint64(v))
	}
	return b
}

func validate(d *Data) error {
	if len(d.Packages) > maxPackages {
		return fmt.Errorf("geobin: %d packages, at most %d", len(d.Packages), maxPackages)
	}
	for _, s := range append([]string{d.Source}, packageStrings(d.Packages)...) {
		if err := checkString(s); err != nil {
			return fmt.Errorf("geobin: %w", err)
		}
	}
	if len(d.Countries) > maxCountryTab {
		return fmt.Errorf("geobin: %d countries, at most %d", len(d.Countries), maxCountryTab)
	}
	for _, c := range d.Countries {
		if !validCode(c) {
			return fmt.Errorf("geobin: bad country code %q", c)
		}
	}
	for i, a := range d.ASes {
		if i > 0 && a.Number <= d.ASes[i-1].Number {
			return fmt.Errorf("geobin: AS%d out of order", a.Number)
		}
		if err := checkString(a.Org); err != nil {
			return fmt.Errorf("geobin: AS%d: %w", a.Number, err)
		}
	}
	for _, t := range []struct {
		name string
		r    *Ranges4
		max  int
	}{{"v4 country", &d.V4Country, len(d.Countries)}, {"v4 as", &d.V4AS, len(d.ASes)}} {
		if len(t.r.Starts) != len(t.r.Values) {
			return fmt.Errorf("geobin: %s: %d starts, %d values", t.name, len(t.r.Starts), len(t.r.Values))
		}
		for i, s := range t.r.Starts {
			if i > 0 && s <= t.r.Starts[i-1] {
				return fmt.Errorf("geobin: %s: start %d not increasing", t.name, i)
			}
			if int(t.r.Values[i]) > t.max {
				return fmt.Errorf("geobin: %s: value %d out of range", t.name, t.r.Values[i])
			}
		}
	}
	for _, t := range []struct {
		name string
		r    *Ranges6
		max  int
	}{{"v6 country", &d.V6Country, len(d.Countries)}, {"v6 as", &d.V6AS, len(d.ASes)}} {
		if len(t.r.Starts) != len(t.r.Values) {
			return fmt.Errorf("geobin: %s: %d starts, %d values", t.name, len(t.r.Starts), len(t.r.Values))
		}
		for i, s := range t.r.Starts {
			if i > 0 && !t.r.Starts[i-1].Less(s) {
				return fmt.Errorf("geobin: %s: start %d not increasing", t.name, i)
			}
			if int(t.r.Values[i]) > t.max {
				return fmt.Errorf("geobin: %s: value %d out of range", t.name, t.r.Values[i])
			}
		}
	}
	return nil
}

func packageStrings(ps []Package) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name, p.Version, p.License)
	}
	return out
}

func checkString(s string) error {
	if len(s) > maxStringLen {
		return fmt.Errorf("string of %d bytes, at most %d", len(s), maxStringLen)
	}
	if !utf8.ValidString(s) {
		return errors.New("string is not valid UTF-8")
	}
	return nil
}

func validCode(c string) bool {
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}

// FormatError reports corrupt input with the byte offset where decoding failed.
type FormatError struct {
	Offset int
	Msg    string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("geobin: offset %d: %s", e.Offset, e.Msg)
}

// decoder walks the input; the first error sticks and later reads return zero.
type decoder struct {
	b       []byte
	off     int
	err     error
	section string // range table being read, for messages
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		msg := fmt.Sprintf(format, args...)
		if d.section != "" {
			msg = d.section + ": " + msg
		}
		d.err = &FormatError{Offset: d.off, Msg: msg}
	}
}

func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		if n == 0 {
			d.fail("%s: unexpected end of data", what)
		} else {
			d.fail("%s: varint overflows 64 bits", what)
		}
		return 0
	}
	d.off += n
	return v
}

// count reads an element count and checks that the rest of the input could
// hold that many elements of at least minBytes each, so that a corrupt count
// cannot make Decode allocate more than the input justifies.
func (d *decoder) count(what string, minBytes int) int {
	start := d.off
	n := d.uvarint(what)
	if d.err != nil {
		return 0
	}
	if rest := uint64(len(d.b) - d.off); n > rest/uint64(minBytes) {
		d.off = start
		d.fail("%s: count %d larger than the remaining %d bytes allow", what, n, rest)
		return 0
	}
	return int(n)
}

func (d *decoder) bytes(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b)-d.off {
		d.fail("%s: unexpected end of data", what)
		return nil
	}
	s := d.b[d.off : d.off+n]
	d.off += n
	return s
}

func (d *decoder) string(what string) string {
	return string(d.stringBytes(what))
}

// stringBytes reads a length-prefixed UTF-8 string without copying it.
func (d *decoder) stringBytes(what string) []byte {
	start := d.off
	n := d.uvarint(what)
	if d.err != nil {
		return nil
	}
	if n > maxStringLen {
		d.off = start
		d.fail("%s: string of %d bytes, at most %d", what, n, maxStringLen)
		return nil
	}
	b := d.bytes(int(n), what)
	if d.err != nil {
		return nil
	}
	if !utf8.Valid(b) {
		d.off = start
		d.fail("%s: not valid UTF-8", what)
		return nil
	}
	return b
}

// Decode parses a whole file produced by Encode. Corrupt or truncated input
// gives a *FormatError; Decode never panics and allocates at most a small
// multiple of len(b).
func Decode(b []byte) (*Data, error) {
	d := &decoder{b: b}
	if len(b) < len(Magic) || string(b[:len(Magic)]) != Magic {
		return nil, &FormatError{Offset: 0, Msg: "not a whodunit geo database (bad magic)"}
	}
	d.off = len(Magic)
	if v := d.uvarint("version"); d.err == nil && v != Version {
		d.off = len(Magic)
		d.fail("format version %d, this build reads %d", v, Version)
	}
	out := &Data{}
	out.Source = d.string("source")
	at := d.off
	np := d.count("packages", 3)
	if np > maxPackages {
		d.off = at
		d.fail("packages: %d, at most %d", np, maxPackages)
	}
	for i := 0; i < np && d.err == nil; i++ {
		out.Packages = append(out.Packages, Package{
			Name:    d.string("package name"),
			Version: d.string("package version"),
			License: d.string("package licence"),
		})
	}
	at = d.off
	nc := d.count("countries", 2)
	if nc > maxCountryTab {
		d.off = at
		d.fail("countries: %d, at most %d", nc, maxCountryTab)
	}
	if d.err == nil {
		out.Countries = make([]string, 0, nc)
	}
	for i := 0; i < nc && d.err == nil; i++ {
		at := d.off
		c := string(d.bytes(2, "country code"))
		if d.err == nil && !validCode(c) {
			d.off = at
			d.fail("country code %q is not two letters A-Z", c)
		}
		out.Countries = append(out.Countries, c)
	}
	na := d.count("autonomous systems", 2)
	if d.err == nil {
		out.ASes = make([]AS, 0, na)
	}
	// The organisation names share one string: one allocation, not 90,000.
	var orgs []byte
	var ends []int
	prev := uint64(0)
	for i := 0; i < na && d.err == nil; i++ {
		at := d.off
		delta := d.uvarint("AS number")
		num := prev + delta
		if d.err == nil && (num > 0xffffffff || (i > 0 && delta == 0)) {
			d.off = at
			d.fail("AS number not increasing or over 32 bits")
		}
		prev = num
		orgs = append(orgs, d.stringBytes("AS organisation")...)
		ends = append(ends, len(orgs))
		out.ASes = append(out.ASes, AS{Number: uint32(num)})
	}
	if d.err == nil {
		all, start := string(orgs), 0
		for i := range out.ASes {
			out.ASes[i].Org = all[start:ends[i]]
			start = ends[i]
		}
	}
	d.ranges4("v4 country", &out.V4Country, len(out.Countries))
	d.ranges4("v4 as", &out.V4AS, len(out.ASes))
	d.ranges6("v6 country", &out.V6Country, len(out.Countries))
	d.ranges6("v6 as", &out.V6AS, len(out.ASes))
	d.section = ""
	if d.err == nil && d.off != len(d.b) {
		d.fail("%d bytes of trailing data", len(d.b)-d.off)
	}
	if d.err != nil {
		return nil, d.err
	}
	return out, nil
}

func (d *decoder) ranges4(name string, r *Ranges4, max int) {
	d.section = name
	n := d.count("ranges", 2) // one byte of delta and one of value at least
	if d.err != nil {
		return
	}
	r.Starts = make([]uint32, n)
	r.Values = make([]uint32, n)
	cur := uint64(0)
	for i := 0; i < n && d.err == nil; i++ {
		at := d.off
		delta := d.uvarint("range start")
		cur += delta
		if d.err == nil && (cur > 0xffffffff || (i > 0 && delta == 0)) {
			d.off = at
			d.fail("start %d not increasing or past the IPv4 space", i)
		}
		r.Starts[i] = uint32(cur)
	}
	d.values(r.Values, max)
}

func (d *decoder) ranges6(name string, r *Ranges6, max int) {
	d.section = name
	n := d.count("ranges", 3) // two bytes of delta and one of value at least
	if d.err != nil {
		return
	}
	r.Starts = make([]U128, n)
	r.Values = make([]uint32, n)
	cur := U128{}
	for i := 0; i < n && d.err == nil; i++ {
		at := d.off
		delta := U128{Hi: d.uvarint("range start"), Lo: d.uvarint("range start")}
		next, over := cur.add(delta)
		if d.err == nil && (over || (i > 0 && delta == U128{})) {
			d.off = at
			d.fail("start %d not increasing or past the IPv6 space", i)
		}
		cur = next
		r.Starts[i] = cur
	}
	d.values(r.Values, max)
}

func (d *decoder) values(vals []uint32, max int) {
	for i := range vals {
		if d.err != nil {
			return
		}
		at := d.off
		v := d.uvarint("range value")
		if d.err == nil && v > uint64(max) {
			d.off = at
			d.fail("value %d of range %d points past a table of %d", v, i, max)
		}
		vals[i] = uint32(v)
	}
}
