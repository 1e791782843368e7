package geobin_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/whodunit-project/whodunit/internal/geo/geobin"
)

func v4(s string) geobin.U128 { return geobin.FromAddr(netip.MustParseAddr(s)) }
func v6(s string) geobin.U128 { return geobin.FromAddr(netip.MustParseAddr(s)) }

func TestFromAddr(t *testing.T) {
	tests := []struct {
		in   string
		want geobin.U128
	}{
		{"0.0.0.0", geobin.U128{}},
		{"1.2.3.4", geobin.U128{Lo: 0x01020304}},
		{"255.255.255.255", geobin.MaxV4},
		{"::", geobin.U128{}},
		{"2001:db8::1", geobin.U128{Hi: 0x20010db800000000, Lo: 1}},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", geobin.MaxV6},
	}
	for _, tt := range tests {
		if got := geobin.FromAddr(netip.MustParseAddr(tt.in)); got != tt.want {
			t.Errorf("FromAddr(%s) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestFlatten4(t *testing.T) {
	span := func(a, b string, v uint32) geobin.Span { return geobin.Span{First: v4(a), Last: v4(b), Value: v} }
	u := func(s string) uint32 { return uint32(v4(s).Lo) }
	tests := []struct {
		name  string
		spans []geobin.Span
		want  geobin.Ranges4
	}{
		{"empty", nil, geobin.Ranges4{}},
		{
			"disjoint with gaps",
			[]geobin.Span{span("1.0.0.0", "1.0.0.255", 1), span("1.0.2.0", "1.0.2.255", 2)},
			geobin.Ranges4{
				Starts: []uint32{u("1.0.0.0"), u("1.0.1.0"), u("1.0.2.0"), u("1.0.3.0")},
				Values: []uint32{1, 0, 2, 0},
			},
		},
		{
			"adjacent equal values merge",
			[]geobin.Span{span("1.0.0.0", "1.0.0.255", 1), span("1.0.1.0", "1.0.1.255", 1)},
			geobin.Ranges4{Starts: []uint32{u("1.0.0.0"), u("1.0.2.0")}, Values: []uint32{1, 0}},
		},
		{
			"nested: more specific wins, outer resumes",
			[]geobin.Span{span("2.58.196.0", "2.58.197.255", 1), span("2.58.197.15", "2.58.197.15", 2)},
			geobin.Ranges4{
				Starts: []uint32{u("2.58.196.0"), u("2.58.197.15"), u("2.58.197.16"), u("2.58.198.0")},
				Values: []uint32{1, 2, 1, 0},
			},
		},
		{
			"nested at the same start, listed wide first",
			[]geobin.Span{span("5.61.192.0", "5.61.199.255", 1), span("5.61.192.0", "5.61.193.255", 2)},
			geobin.Ranges4{
				Starts: []uint32{u("5.61.192.0"), u("5.61.194.0"), u("5.61.200.0")},
				Values: []uint32{2, 1, 0},
			},
		},
		{
			"nested at the same start, listed narrow first",
			[]geobin.Span{span("5.61.192.0", "5.61.193.255", 2), span("5.61.192.0", "5.61.199.255", 1)},
			geobin.Ranges4{
				Starts: []uint32{u("5.61.192.0"), u("5.61.194.0"), u("5.61.200.0")},
				Values: []uint32{2, 1, 0},
			},
		},
		{
			"partial overlap: the later start wins the overlap",
			[]geobin.Span{span("214.95.0.0", "215.0.255.255", 1), span("215.0.0.0", "215.1.3.255", 2)},
			geobin.Ranges4{
				Starts: []uint32{u("214.95.0.0"), u("215.0.0.0"), u("215.1.4.0")},
				Values: []uint32{1, 2, 0},
			},
		},
		{
			"two levels of nesting",
			[]geobin.Span{span("10.0.0.0", "10.255.255.255", 1), span("10.1.0.0", "10.1.255.255", 2), span("10.1.1.0", "10.1.1.255", 3)},
			geobin.Ranges4{
				Starts: []uint32{u("10.0.0.0"), u("10.1.0.0"), u("10.1.1.0"), u("10.1.2.0"), u("10.2.0.0"), u("11.0.0.0")},
				Values: []uint32{1, 2, 3, 2, 1, 0},
			},
		},
		{
			"whole space ends without a closing gap",
			[]geobin.Span{span("0.0.0.0", "255.255.255.255", 7), span("255.255.255.255", "255.255.255.255", 8)},
			geobin.Ranges4{Starts: []uint32{0, u("255.255.255.255")}, Values: []uint32{7, 8}},
		},
		{
			"inverted span ignored",
			[]geobin.Span{span("1.0.0.9", "1.0.0.1", 1)},
			geobin.Ranges4{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := geobin.Flatten4(tt.spans)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Flatten4 (-want +got)\n%s", diff)
			}
		})
	}
}

func TestFlatten6EndOfSpace(t *testing.T) {
	got := geobin.Flatten6([]geobin.Span{
		{First: v6("ff00::"), Last: geobin.MaxV6, Value: 1},
		{First: v6("2001:db8::"), Last: v6("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"), Value: 2},
	})
	want := geobin.Ranges6{
		Starts: []geobin.U128{v6("2001:db8::"), v6("2001:db9::"), v6("ff00::")},
		Values: []uint32{2, 0, 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Flatten6 (-want +got)\n%s", diff)
	}
}

func TestOverlay(t *testing.T) {
	a := []geobin.U128{{Lo: 10}, {Lo: 20}, {Lo: 30}}
	av := []uint32{1, 2, 0}
	b := []geobin.U128{{Lo: 5}, {Lo: 15}, {Lo: 25}}
	bv := []uint32{9, 8, 0}
	// Take b where a says 2, else a; gaps in a are filled from b.
	f := func(x, y uint32) uint32 {
		if x == 2 || x == 0 {
			return y
		}
		return x
	}
	starts, values := geobin.Overlay(a, av, b, bv, f)
	wantS := []geobin.U128{{Lo: 5}, {Lo: 10}, {Lo: 20}, {Lo: 25}}
	wantV := []uint32{9, 1, 8, 0}
	if diff := cmp.Diff(wantS, starts); diff != "" {
		t.Errorf("starts (-want +got)\n%s", diff)
	}
	if diff := cmp.Diff(wantV, values); diff != "" {
		t.Errorf("values (-want +got)\n%s", diff)
	}
}

func TestFind(t *testing.T) {
	r4 := geobin.Ranges4{Starts: []uint32{10, 20, 30}, Values: []uint32{1, 2, 0}}
	for x, want := range map[uint32]uint32{0: 0, 9: 0, 10: 1, 19: 1, 20: 2, 29: 2, 30: 0, 0xffffffff: 0} {
		if got := r4.Find(x); got != want {
			t.Errorf("Ranges4.Find(%d) = %d, want %d", x, got, want)
		}
	}
	r6 := geobin.Ranges6{Starts: []geobin.U128{{Hi: 1}, {Hi: 1, Lo: 5}, {Hi: 2}}, Values: []uint32{1, 2, 3}}
	for _, tt := range []struct {
		x    geobin.U128
		want uint32
	}{
		{geobin.U128{Lo: ^uint64(0)}, 0}, {geobin.U128{Hi: 1}, 1}, {geobin.U128{Hi: 1, Lo: 4}, 1},
		{geobin.U128{Hi: 1, Lo: 5}, 2}, {geobin.U128{Hi: 1, Lo: ^uint64(0)}, 2}, {geobin.MaxV6, 3},
	} {
		if got := r6.Find(tt.x); got != tt.want {
			t.Errorf("Ranges6.Find(%+v) = %d, want %d", tt.x, got, tt.want)
		}
	}
	var empty geobin.Ranges4
	if got := empty.Find(5); got != 0 {
		t.Errorf("empty Find = %d", got)
	}
}

// sample is a small but complete database.
func sample() *geobin.Data {
	return &geobin.Data{
		Source:    "test 1",
		Packages:  []geobin.Package{{Name: "@x/y", Version: "1.0", License: "CC0-1.0"}},
		Countries: []string{"AU", "CN", "US"},
		ASes:      []geobin.AS{{Number: 13335, Org: "Cloudflare, Inc."}, {Number: 15169, Org: "Google LLC"}, {Number: 4200000000, Org: "Ünïcode ☃"}},
		V4Country: geobin.Ranges4{Starts: []uint32{0x01000000, 0x01000100, 0x08080800, 0x08080900}, Values: []uint32{1, 0, 3, 0}},
		V4AS:      geobin.Ranges4{Starts: []uint32{0x01010100, 0x01010200, 0x08080800}, Values: []uint32{1, 0, 2}},
		V6Country: geobin.Ranges6{Starts: []geobin.U128{v6("2001:4860::"), v6("2001:4861::"), v6("2400::")}, Values: []uint32{3, 0, 2}},
		V6AS:      geobin.Ranges6{Starts: []geobin.U128{{Lo: 1}, v6("2001:4860::"), geobin.MaxV6}, Values: []uint32{3, 2, 1}},
	}
}

func encode(t testing.TB, d *geobin.Data) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := geobin.Encode(&b, d); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRoundTrip(t *testing.T) {
	want := sample()
	got, err := geobin.Decode(encode(t, want))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got)\n%s", diff)
	}
}

func TestEncodeRejects(t *testing.T) {
	tests := []struct {
		name   string
		change func(d *geobin.Data)
		want   string
	}{
		{"bad code", func(d *geobin.Data) { d.Countries[0] = "au" }, "bad country code"},
		{"AS order", func(d *geobin.Data) { d.ASes[1].Number = 1 }, "out of order"},
		{"bad UTF-8", func(d *geobin.Data) { d.ASes[0].Org = "\xff" }, "UTF-8"},
		{"v4 order", func(d *geobin.Data) { d.V4Country.Starts[1] = 0 }, "not increasing"},
		{"v6 order", func(d *geobin.Data) { d.V6AS.Starts[2] = geobin.U128{} }, "not increasing"},
		{"value range", func(d *geobin.Data) { d.V4AS.Values[0] = 4 }, "out of range"},
		{"lengths", func(d *geobin.Data) { d.V6Country.Values = d.V6Country.Values[:1] }, "values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := sample()
			tt.change(d)
			err := geobin.Encode(&bytes.Buffer{}, d)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Encode error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	good := encode(t, sample())
	header := func(version uint64) []byte {
		return binary.AppendUvarint([]byte(geobin.Magic), version)
	}
	tests := []struct {
		name   string
		in     []byte
		offset int
		want   string
	}{
		{"empty", nil, 0, "bad magic"},
		{"other file", []byte("PK\x03\x04 not ours at all"), 0, "bad magic"},
		{"future version", append(header(2), good[len(geobin.Magic)+1:]...), len(geobin.Magic), "format version 2"},
		{"truncated after header", header(1), len(geobin.Magic) + 1, "unexpected end"},
		{"truncated in the middle", good[:len(good)/2], -1, "unexpected end|larger than the remaining"},
		{"truncated by one", good[:len(good)-1], -1, "unexpected end"},
		{"trailing data", append(bytes.Clone(good), 0), len(good), "trailing"},
		{"huge string", append(header(1), 0xff, 0xff, 0x03), len(geobin.Magic) + 1, "string of"},
		{"huge count", append(append(header(1), 0), 0xff, 0xff, 0xff, 0xff, 0x0f), len(geobin.Magic) + 2, "count"},
		{"varint overflow", append(header(1), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), len(geobin.Magic) + 1, "overflows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := geobin.Decode(tt.in)
			var fe *geobin.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("Decode error = %v, want a *FormatError", err)
			}
			if !slices.ContainsFunc(strings.Split(tt.want, "|"), func(w string) bool { return strings.Contains(fe.Msg, w) }) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if tt.offset >= 0 && fe.Offset != tt.offset {
				t.Errorf("error at offset %d, want %d (%v)", fe.Offset, tt.offset, err)
			}
		})
	}
}

// TestDecodeRejectsEveryCorruption flips each byte of a valid file: the
// result must be an error or a database that passes Encode's checks, never
// a panic.
func TestDecodeRejectsEveryCorruption(t *testing.T) {
	good := encode(t, sample())
	for i := range good {
		for _, x := range []byte{0x00, 0x01, 0x7f, 0x80, 0xff} {
			b := bytes.Clone(good)
			b[i] ^= x | 1
			d, err := geobin.Decode(b)
			if err == nil {
				if err := geobin.Encode(&bytes.Buffer{}, d); err != nil {
					t.Fatalf("byte %d ^ %#x: decoded data fails Encode: %v", i, x|1, err)
				}
			}
		}
	}
}

func FuzzDecode(f *testing.F) {
	good := encode(f, sample())
	f.Add(good)
	f.Add(good[:len(good)/3])
	f.Add(encode(f, &geobin.Data{}))
	f.Add([]byte(geobin.Magic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := geobin.Decode(b)
		if err != nil {
			var fe *geobin.FormatError
			if !errors.As(err, &fe) || fe.Offset < 0 || fe.Offset > len(b) {
				t.Fatalf("error %v is not a FormatError inside the input", err)
			}
			return
		}
		// Whatever decodes re-encodes and decodes to the same thing.
		var out bytes.Buffer
		if err := geobin.Encode(&out, d); err != nil {
			t.Fatalf("decoded data fails Encode: %v", err)
		}
		again, err := geobin.Decode(out.Bytes())
		if err != nil {
			t.Fatalf("re-encoded data fails Decode: %v", err)
		}
		if diff := cmp.Diff(d, again); diff != "" {
			t.Fatalf("round trip (-first +second)\n%s", diff)
		}
	})
}
