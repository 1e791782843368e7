// Package textval turns the text of one log field into a value without
// allocating: epoch and ISO 8601 timestamps, intervals, counts, ports, and
// hex fingerprints normalised to lower case. It also holds Arena, the
// per-record scratch buffer that decoded strings live in.
package textval

import (
	"math"
	"net/netip"
	"strconv"
	"time"
	"unsafe"
)

// Arena holds the decoded strings of one record. Strings returned by it stay
// valid until Reset; the readers reset it at the start of every record,
// which is why Event strings are only valid until the next call to Next.
type Arena struct {
	buf []byte
}

// Reset forgets all strings handed out so far and reuses the memory.
func (a *Arena) Reset() { a.buf = a.buf[:0] }

// Mark returns the current end, to be passed to Since after appending.
func (a *Arena) Mark() int { return len(a.buf) }

// Buf returns the buffer for appending; store the result with Set.
func (a *Arena) Buf() []byte { return a.buf }

// Set stores the buffer after appending to what Buf returned.
func (a *Arena) Set(b []byte) { a.buf = b }

// Since returns the bytes appended after mark as a string.
//
// When the buffer has grown past its capacity, earlier strings still point
// into the old array, which the garbage collector keeps alive: they stay
// correct.
func (a *Arena) Since(mark int) string {
	if len(a.buf) == mark {
		return ""
	}
	b := a.buf[mark:]
	return unsafe.String(&b[0], len(b))
}

// Copy copies b into the arena and returns it as a string.
func (a *Arena) Copy(b []byte) string {
	m := len(a.buf)
	a.buf = append(a.buf, b...)
	return a.Since(m)
}

// View returns b as a string without copying. The caller must know b is not
// modified while the string is in use.
func View(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// Uint parses a decimal count.
func Uint(s string) (uint64, bool) {
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		nn := n*10 + uint64(c)
		if nn < n || n > (1<<64-1)/10 {
			return 0, false
		}
		n = nn
	}
	return n, true
}

// Int parses a decimal integer with an optional sign. A value with a
// fraction (JSON writers sometimes print counts as 12.0) is accepted when
// the fraction is zero.
func Int(s string) (int64, bool) {
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 19 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			if s[i] != '.' || i == 0 {
				return 0, false
			}
			for j := i + 1; j < len(s); j++ {
				if s[j] != '0' {
					return 0, false
				}
			}
			break
		}
		n = n*10 + int64(c)
	}
	if n < 0 {
		return 0, false
	}
	if neg {
		return -n, true
	}
	return n, true
}

// Port parses a port number (0–65535).
func Port(s string) (uint16, bool) {
	u, ok := Uint(s)
	if !ok || u > 65535 {
		return 0, false
	}
	return uint16(u), true
}

// fixed parses "123.456789" into whole units and nanoseconds. Digits past
// the ninth fractional digit are ignored (but must be digits).
func fixed(s string) (sec int64, nsec int64, ok bool) {
	neg := false
	if len(s) > 0 && s[0] == '-' {
		neg = true
		s = s[1:]
	}
	i := 0
	for ; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			break
		}
		if i >= 18 {
			return 0, 0, false
		}
		sec = sec*10 + int64(c)
	}
	if i == 0 {
		return 0, 0, false
	}
	if i < len(s) {
		if s[i] != '.' {
			return 0, 0, false
		}
		// the fraction accumulates as an integer and is scaled once: no
		// per-digit division, no float
		f := s[i+1:]
		n := min(len(f), 9)
		for j := 0; j < len(f); j++ {
			c := f[j] - '0'
			if c > 9 {
				return 0, 0, false
			}
			if j < 9 {
				nsec = nsec*10 + int64(c)
			}
		}
		nsec *= pow10[9-n]
	}
	if neg {
		sec, nsec = -sec, -nsec
	}
	return sec, nsec, true
}

var pow10 = [10]int64{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000}

// EpochTime parses seconds since the Unix epoch with an optional fraction
// ("1521911720.865716"); exponent forms fall back to strconv.
func EpochTime(s string) (time.Time, bool) {
	if len(s) == 17 && s[10] == '.' {
		// Zeek's own form, "1521911720.865716": sixteen digits in fixed
		// places, converted without a loop
		if sec, usec, ok := zeekEpoch(s); ok {
			return time.Unix(sec, usec*1000).UTC(), true
		}
	}
	sec, nsec, ok := fixed(s)
	if !ok {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f != f || f > 1e15 || f < -1e15 {
			return time.Time{}, false
		}
		// a float64 holds epoch seconds to about a microsecond
		sec = int64(f)
		nsec = int64(math.Round((f-float64(sec))*1e6)) * 1000
	}
	return time.Unix(sec, nsec).UTC(), true
}

// zeekEpoch parses the 17 bytes "dddddddddd.dddddd". Each byte maps
// through a table to its digit, or to 0x80 for anything else; one test of
// the OR of all of them replaces sixteen branches.
func zeekEpoch(s string) (sec, usec int64, ok bool) {
	_ = s[16]
	d0, d1, d2, d3, d4 := digitOf[s[0]], digitOf[s[1]], digitOf[s[2]], digitOf[s[3]], digitOf[s[4]]
	d5, d6, d7, d8, d9 := digitOf[s[5]], digitOf[s[6]], digitOf[s[7]], digitOf[s[8]], digitOf[s[9]]
	f0, f1, f2, f3, f4, f5 := digitOf[s[11]], digitOf[s[12]], digitOf[s[13]], digitOf[s[14]], digitOf[s[15]], digitOf[s[16]]
	if (d0|d1|d2|d3|d4|d5|d6|d7|d8|d9|f0|f1|f2|f3|f4|f5)&0x80 != 0 {
		return 0, 0, false
	}
	hi := int64(d0)*10000 + int64(d1)*1000 + int64(d2)*100 + int64(d3)*10 + int64(d4)
	lo := int64(d5)*10000 + int64(d6)*1000 + int64(d7)*100 + int64(d8)*10 + int64(d9)
	usec = int64(f0)*100000 + int64(f1)*10000 + int64(f2)*1000 + int64(f3)*100 + int64(f4)*10 + int64(f5)
	return hi*100000 + lo, usec, true
}

// digitOf maps '0'–'9' to 0–9 and every other byte to 0x80.
var digitOf = func() (t [256]uint8) {
	for i := range t {
		t[i] = 0x80
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = uint8(c - '0')
	}
	return t
}()

// Seconds parses an interval in seconds ("0.136721") as a duration.
func Seconds(s string) (time.Duration, bool) {
	sec, nsec, ok := fixed(s)
	if !ok {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f != f || f > 9e9 || f < -9e9 {
			return 0, false
		}
		return time.Duration(f * 1e9), true
	}
	if sec > 9e9 || sec < -9e9 {
		return 0, false
	}
	return time.Duration(sec)*time.Second + time.Duration(nsec), true
}

// Float parses a floating-point number.
func Float(s string) (float64, bool) {
	if sec, nsec, ok := fixed(s); ok {
		return float64(sec) + float64(nsec)/1e9, true
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// Time parses either an epoch number or an ISO 8601 timestamp.
func Time(s string) (time.Time, bool) {
	if len(s) >= 10 && s[4] == '-' {
		return ISOTime(s)
	}
	return EpochTime(s)
}

// ISOTime parses the ISO 8601 / RFC 3339 forms that sensors write:
// "2018-03-24T17:15:20.865716Z", "2017-04-07T22:24:37.251547+0100",
// "+01:00" offsets, a space instead of T, and no zone (taken as UTC).
func ISOTime(s string) (time.Time, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ' && s[10] != 't') || s[13] != ':' || s[16] != ':' {
		// a date alone is accepted as midnight UTC
		if len(s) == 10 && s[4] == '-' && s[7] == '-' {
			y, ok1 := digits(s[0:4])
			mo, ok2 := digits(s[5:7])
			d, ok3 := digits(s[8:10])
			if ok1 && ok2 && ok3 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 {
				return time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC), true
			}
		}
		return time.Time{}, false
	}
	y, ok1 := digits(s[0:4])
	mo, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	h, ok4 := digits(s[11:13])
	mi, ok5 := digits(s[14:16])
	se, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || se > 60 {
		return time.Time{}, false
	}
	rest := s[19:]
	nsec := 0
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		rest = rest[1:]
		scale := 100000000
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			nsec += int(rest[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == 0 {
			return time.Time{}, false
		}
		rest = rest[i:]
	}
	off := 0
	switch {
	case rest == "" || rest == "Z" || rest == "z":
	case rest[0] == '+' || rest[0] == '-':
		z := rest[1:]
		var oh, om int
		var ok bool
		switch len(z) {
		case 2:
			oh, ok = digits(z)
		case 4:
			var ok2 bool
			oh, ok = digits(z[:2])
			om, ok2 = digits(z[2:])
			ok = ok && ok2
		case 5:
			var ok2 bool
			oh, ok = digits(z[:2])
			om, ok2 = digits(z[3:])
			ok = ok && ok2 && z[2] == ':'
		}
		if !ok || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		off = (oh*60 + om) * 60
		if rest[0] == '-' {
			off = -off
		}
	default:
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, se, nsec, time.UTC)
	if off != 0 {
		t = t.Add(-time.Duration(off) * time.Second)
	}
	return t, true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + int(c)
	}
	return n, len(s) > 0
}

// lowerHex marks the bytes 0-9 and a-f.
var lowerHex = func() (t [256]bool) {
	for _, c := range "0123456789abcdef" {
		t[c] = true
	}
	return t
}()

// IsLowerHex reports whether s is non-empty lower-case hex.
func IsLowerHex(s string) bool {
	if s == "" {
		return false
	}
	// a table lookup per byte instead of four comparisons
	for len(s) >= 4 {
		if !(lowerHex[s[0]] && lowerHex[s[1]] && lowerHex[s[2]] && lowerHex[s[3]]) {
			return false
		}
		s = s[4:]
	}
	for i := 0; i < len(s); i++ {
		if !lowerHex[s[i]] {
			return false
		}
	}
	return true
}

// Hex returns s as lower-case hex with ':' and ' ' separators removed,
// copying into the arena only when s is not already in that form. ok is
// false when s holds anything but hex digits and separators.
func Hex(a *Arena, s string) (string, bool) {
	if IsLowerHex(s) {
		return s, true
	}
	m := a.Mark()
	b := a.Buf()
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
			b = append(b, c)
		case c >= 'A' && c <= 'F':
			b = append(b, c+('a'-'A'))
		case c == ':' || c == ' ':
		default:
			a.Set(b[:m])
			return "", false
		}
	}
	a.Set(b)
	return a.Since(m), true
}

// Serial returns a certificate serial number as lower-case hex without
// separators or leading zeros ("0" for zero).
//
// A negative serial (invalid DER that some certificates carry anyway, which
// Zeek prints with a minus sign) keeps its sign: "-569f…".
func Serial(a *Arena, s string) (string, bool) {
	if len(s) > 1 && s[0] == '-' {
		h, ok := Serial(a, s[1:])
		if !ok || h == "0" {
			return h, ok
		}
		m := a.Mark()
		b := append(a.Buf(), '-')
		a.Set(append(b, h...))
		return a.Since(m), true
	}
	h, ok := Hex(a, s)
	if !ok || h == "" {
		return "", false
	}
	i := 0
	for i < len(h)-1 && h[i] == '0' {
		i++
	}
	return h[i:], true
}

// Lower returns s in ASCII lower case, copying only when needed.
func Lower(a *Arena, s string) string {
	i := 0
	for i < len(s) && !(s[i] >= 'A' && s[i] <= 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	m := a.Mark()
	b := append(a.Buf(), s...)
	for j := m + i; j < len(b); j++ {
		if c := b[j]; c >= 'A' && c <= 'Z' {
			b[j] = c + ('a' - 'A')
		}
	}
	a.Set(b)
	return a.Since(m)
}

// Addr parses an IP address. Dotted IPv4, by far the most common form in
// logs, is parsed here directly; anything else (IPv6, zones, malformed
// input) goes to netip, so Addr accepts exactly what netip.ParseAddr does.
//
// Each octet is read as up to three unrolled digit steps rather than a
// loop over bytes with a digit counter: fewer branches per address.
func Addr(s string) (netip.Addr, bool) {
	// the address accumulates in a register: storing octets into an
	// array and reading it back as a word stalls the store buffer
	var v uint32
	i := 0
	for k := 0; k < 4; k++ {
		if k > 0 {
			if i >= len(s) || s[i] != '.' {
				return slowAddr(s)
			}
			i++
		}
		if i >= len(s) {
			return slowAddr(s)
		}
		d := s[i] - '0'
		if d > 9 {
			return slowAddr(s)
		}
		oct := uint32(d)
		i++
		if i < len(s) && s[i]-'0' <= 9 {
			if oct == 0 { // leading zero
				return slowAddr(s)
			}
			oct = oct*10 + uint32(s[i]-'0')
			i++
			if i < len(s) && s[i]-'0' <= 9 {
				oct = oct*10 + uint32(s[i]-'0')
				i++
				if oct > 255 {
					return slowAddr(s) // "2001:db8::1" starts like a number
				}
			}
		}
		v = v<<8 | oct
	}
	if i != len(s) {
		return slowAddr(s)
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

func slowAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	return a, err == nil
}
