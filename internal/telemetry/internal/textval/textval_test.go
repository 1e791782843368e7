package textval

import (
	"net/netip"
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
