package textval

import (
	"net/netip"
	"strconv"
	"testing"
	"time"
)

func TestTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"1521911720.865716", time.Unix(1521911720, 865716000).UTC(), true},
		{"19.981745", time.Unix(19, 981745000).UTC(), true},
		{"1664462456", time.Unix(1664462456, 0).UTC(), true},
		{"1.6644624567e9", time.Unix(1664462456, 700000000).UTC(), true},
		{"2018-03-24T17:15:20.865716Z", time.Date(2018, 3, 24, 17, 15, 20, 865716000, time.UTC), true},
		{"2017-04-07T22:24:37.251547+0100", time.Date(2017, 4, 7, 21, 24, 37, 251547000, time.UTC), true},
		{"2016-01-11T05:10:54.612110-08:00", time.Date(2016, 1, 11, 13, 10, 54, 612110000, time.UTC), true},
		{"2017-01-04T10:48:43", time.Date(2017, 1, 4, 10, 48, 43, 0, time.UTC), true},
		{"2024-03-01 10:00:00", time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC), true},
		{"2024-03-01", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{"2024-13-01T00:00:00Z", time.Time{}, false},
		{"2024-03-01T10:00:00+2", time.Time{}, false},
		{"yesterday", time.Time{}, false},
		{"", time.Time{}, false},
		{"NaN", time.Time{}, false},
		{"1e300", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := Time(tt.in)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("Time(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNumbers(t *testing.T) {
	if d, ok := Seconds("0.000870"); !ok || d != 870*time.Microsecond {
		t.Errorf("Seconds = %v %v", d, ok)
	}
	if d, ok := Seconds("3600.000000"); !ok || d != time.Hour {
		t.Errorf("Seconds = %v %v", d, ok)
	}
	for in, want := range map[string]int64{"0": 0, "1596": 1596, "-3": -3, "12.0": 12, "+7": 7} {
		if got, ok := Int(in); !ok || got != want {
			t.Errorf("Int(%q) = %v %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "-", "1.5", "12a", "99999999999999999999", "9999999999999999999", "."} {
		if got, ok := Int(in); ok {
			t.Errorf("Int(%q) = %v, want failure", in, got)
		}
	}
	if p, ok := Port("65535"); !ok || p != 65535 {
		t.Error("Port 65535")
	}
	if _, ok := Port("65536"); ok {
		t.Error("Port 65536 accepted")
	}
}

func TestAddr(t *testing.T) {
	for _, in := range []string{"10.47.1.100", "0.0.0.0", "255.255.255.255", "fd2d:ab8c:225::1", "2001:db8::5", "::ffff:1.2.3.4", "fe80::1%eth0"} {
		want := netip.MustParseAddr(in)
		if got, ok := Addr(in); !ok || got != want {
			t.Errorf("Addr(%q) = %v %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1..2.3", "a.b.c.d", "1.2.3.4 "} {
		if got, ok := Addr(in); ok {
			t.Errorf("Addr(%q) = %v, want failure", in, got)
		}
	}
}

func TestHex(t *testing.T) {
	var a Arena
	tests := []struct{ in, hex, serial string }{
		{"cc57fe54011e", "cc57fe54011e", "cc57fe54011e"},
		{"CC57FE54011E", "cc57fe54011e", "cc57fe54011e"},
		{"0C:00:99:B7", "0c0099b7", "c0099b7"},
		{"00", "00", "0"},
		{"-569F830C", "", "-569f830c"},
	}
	for _, tt := range tests {
		h, ok := Hex(&a, tt.in)
		if tt.hex == "" {
			if ok {
				t.Errorf("Hex(%q) = %q, want failure", tt.in, h)
			}
		} else if !ok || h != tt.hex {
			t.Errorf("Hex(%q) = %q %v", tt.in, h, ok)
		}
		if s, ok := Serial(&a, tt.in); !ok || s != tt.serial {
			t.Errorf("Serial(%q) = %q %v", tt.in, s, ok)
		}
	}
	if _, ok := Hex(&a, "xyz"); ok {
		t.Error("Hex accepted xyz")
	}
	if got := Lower(&a, "TCP"); got != "tcp" {
		t.Errorf("Lower = %q", got)
	}
}

// TestArenaStrings: strings handed out before the buffer grows stay intact.
func TestArenaStrings(t *testing.T) {
	var a Arena
	first := a.Copy([]byte("first"))
	for i := 0; i < 1000; i++ {
		a.Copy([]byte("some more bytes to force growth"))
	}
	if first != "first" {
		t.Fatalf("first = %q", first)
	}
}

// addrForms are addresses in every shape netip knows, and near misses.
var addrForms = []string{
	// IPv4
	"10.47.1.100", "0.0.0.0", "255.255.255.255", "1.2.3.4", "192.168.0.1", "9.9.9.9", "100.200.250.255",
	"256.1.1.1", "1.256.1.1", "1.1.1.256", "1.1.1.300", "999.1.1.1", "1000.1.1.1", "01.2.3.4", "1.02.3.4",
	"1.2.3.00", "00.0.0.0", "0.0.0.00", "1.2.3", "1.2.3.4.5", "1..2.3", "1.2.3.", ".1.2.3", "1.2.3.4.",
	"a.b.c.d", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4%eth0", "1.2.3.-4", "+1.2.3.4", "1.2.3.4\n", "1.2.3.4/24",
	"0x1.2.3.4", "1.2.3.4:80", "1234", "", ".", "...", "1", "12.34",
	// IPv6
	"2001:718:2:1663::1ce", "2001:718:2:1663:2d1c:6afd:7fc2:31f8", "fd2d:ab8c:225::1", "2001:db8::5",
	"::", "::1", "1::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1::8",
	"FE80::1", "fe80::1%eth0", "fe80::1%", "fe80::1%25eth0", "::ffff:1.2.3.4", "::ffff:1.2.3.256",
	"64:ff9b::192.0.2.33", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "2001:db8::1::2",
	"1:2:3:4:5:6:7:8:9", "12345::1", "g::1", ":1", "1:", ":::", "[::1]", "0:0:0:0:0:0:0:0",
	"2001:0db8:0000:0000:0000:0000:0000:0001", "00000::1", "255::1", "255.1::1", "1.2.3.4::",
	"::1.2.3", "::01.2.3.4", "fe80::1%eth0%1", "2001:DB8::A",
}

// TestAddrMatchesNetip: Addr accepts exactly what netip.ParseAddr accepts,
// with the same result.
func TestAddrMatchesNetip(t *testing.T) {
	for _, in := range addrForms {
		checkAddr(t, in)
	}
}

func checkAddr(t *testing.T, in string) {
	t.Helper()
	want, err := netip.ParseAddr(in)
	got, ok := Addr(in)
	if ok != (err == nil) || got != want {
		t.Errorf("Addr(%q) = %v, %v; netip.ParseAddr = %v, %v", in, got, ok, want, err)
	}
}

func FuzzAddr(f *testing.F) {
	for _, in := range addrForms {
		f.Add(in)
	}
	f.Fuzz(checkAddr)
}

func TestAddrNoAllocs(t *testing.T) {
	for _, in := range []string{"10.47.1.100", "2001:718:2:1663::1ce"} {
		if n := testing.AllocsPerRun(100, func() { Addr(in) }); n != 0 {
			t.Errorf("Addr(%q): %v allocations", in, n)
		}
	}
}

func TestFixed(t *testing.T) {
	tests := []struct {
		in        string
		sec, nsec int64
		ok        bool
	}{
		{"1521911720.865716", 1521911720, 865716000, true},
		{"0.000870", 0, 870000, true},
		{"12", 12, 0, true},
		{"12.", 12, 0, true},
		{"-1.5", -1, -500000000, true},
		{"1.123456789", 1, 123456789, true},
		{"1.1234567891234", 1, 123456789, true},
		{"1.1234567891x", 0, 0, false},
		{"1.2.3", 0, 0, false},
		{".5", 0, 0, false},
		{"-", 0, 0, false},
		{"", 0, 0, false},
		{"1e9", 0, 0, false},
		{"123456789012345678", 123456789012345678, 0, true},
		{"1234567890123456789", 0, 0, false},
	}
	for _, tt := range tests {
		sec, nsec, ok := fixed(tt.in)
		if ok != tt.ok || ok && (sec != tt.sec || nsec != tt.nsec) {
			t.Errorf("fixed(%q) = %d, %d, %v; want %d, %d, %v", tt.in, sec, nsec, ok, tt.sec, tt.nsec, tt.ok)
		}
	}
}

func TestIsLowerHex(t *testing.T) {
	for in, want := range map[string]bool{
		"": false, "0": true, "abcdef0123456789": true, "abcdeg": false, "ABCDEF": false, "0123456789abcdeF": false,
		"0123456789abcde": true, "012345678 abcde": false, "00:11": false,
	} {
		if got := IsLowerHex(in); got != want {
			t.Errorf("IsLowerHex(%q) = %v", in, got)
		}
	}
}

// fixedRef is the plain digit-by-digit definition of fixed.
func fixedRef(s string) (sec int64, nsec int64, ok bool) {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	i := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if i >= 18 {
			return 0, 0, false
		}
		sec = sec*10 + int64(s[i]-'0')
	}
	if i == 0 {
		return 0, 0, false
	}
	if i < len(s) {
		if s[i] != '.' {
			return 0, 0, false
		}
		scale := int64(100000000)
		for i++; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, 0, false
			}
			nsec += int64(s[i]-'0') * scale
			scale /= 10
		}
	}
	if neg {
		sec, nsec = -sec, -nsec
	}
	return sec, nsec, true
}

func FuzzFixed(f *testing.F) {
	for _, s := range []string{"1521911720.865716", "0.000870", "12.", "-1.5", "1.1234567891234", "123456789012345678",
		"1234567890123456789", "1.2.3", "9", "12345678.12345678", "1.12345678x", "00000000000000000001.5", "1:2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sec, nsec, ok := fixed(s)
		rs, rn, rok := fixedRef(s)
		if ok != rok || ok && (sec != rs || nsec != rn) {
			t.Errorf("fixed(%q) = %d, %d, %v; want %d, %d, %v", s, sec, nsec, ok, rs, rn, rok)
		}
	})
}

// FuzzEpochTime: the fixed-place Zeek form gives what the general parser
// gives.
func FuzzEpochTime(f *testing.F) {
	for _, s := range []string{"1521911720.865716", "0000000000.000000", "9999999999.999999", "152191172a.865716", "1521911720.86571/", "-521911720.865716"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) != 17 || s[10] != '.' {
			return
		}
		sec, usec, ok := zeekEpoch(s)
		fs, fn, fok := fixed(s)
		if ok && (!fok || sec != fs || usec*1000 != fn) {
			t.Errorf("zeekEpoch(%q) = %d, %d, %v; fixed = %d, %d, %v", s, sec, usec, ok, fs, fn, fok)
		}
		if !ok && fok && s[0] != '-' {
			t.Errorf("zeekEpoch(%q) failed, fixed = %d, %d", s, fs, fn)
		}
		// where fixed fails, EpochTime may still read a float form
		if got, gok := EpochTime(s); fok && (!gok || !got.Equal(time.Unix(fs, fn).UTC())) {
			t.Errorf("EpochTime(%q) = %v, %v; want %v", s, got, gok, time.Unix(fs, fn).UTC())
		}
	})
}

// FuzzPort: Port accepts what strconv reads as a 16-bit decimal, up to the
// 20 characters that bound every count.
func FuzzPort(f *testing.F) {
	for _, s := range []string{"0", "80", "65535", "65536", "000443", "99999", "-1", "+1", "1_0", "", "123456"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 20 {
			return
		}
		got, ok := Port(s)
		want, err := strconv.ParseUint(s, 10, 16)
		if ok != (err == nil) || ok && uint64(got) != want {
			t.Errorf("Port(%q) = %d, %v; strconv: %d, %v", s, got, ok, want, err)
		}
	})
}
