package capfile_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/telemetry/pcap/capfile"
)

// rec is one packet for the synthetic files below.
type rec struct {
	sec, frac uint32
	data      []byte
	orig      uint32 // 0: len(data)
}

// pcapFile builds a classic pcap file.
func pcapFile(order binary.ByteOrder, magic uint32, snaplen uint32, link uint32, recs ...rec) []byte {
	var b bytes.Buffer
	h := make([]byte, 24)
	order.PutUint32(h, magic)
	order.PutUint16(h[4:], 2)
	order.PutUint16(h[6:], 4)
	order.PutUint32(h[16:], snaplen)
	order.PutUint32(h[20:], link)
	b.Write(h)
	for _, r := range recs {
		rh := make([]byte, 16)
		orig := r.orig
		if orig == 0 {
			orig = uint32(len(r.data))
		}
		order.PutUint32(rh, r.sec)
		order.PutUint32(rh[4:], r.frac)
		order.PutUint32(rh[8:], uint32(len(r.data)))
		order.PutUint32(rh[12:], orig)
		b.Write(rh)
		b.Write(r.data)
	}
	return b.Bytes()
}

func block(order binary.ByteOrder, typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	out := make([]byte, 8, n)
	order.PutUint32(out, typ)
	order.PutUint32(out[4:], n)
	out = append(out, body...)
	return order.(binary.AppendByteOrder).AppendUint32(out, n)
}

func shb(order binary.ByteOrder) []byte {
	body := make([]byte, 16)
	order.PutUint32(body, 0x1A2B3C4D)
	order.PutUint16(body[4:], 1)
	binary.LittleEndian.PutUint64(body[8:], ^uint64(0))
	return block(order, 0x0A0D0D0A, body)
}

func idb(order binary.ByteOrder, link uint16, tsresol byte) []byte {
	body := make([]byte, 8)
	order.PutUint16(body, link)
	order.PutUint32(body[4:], 65535)
	if tsresol != 0 {
		opt := make([]byte, 8)
		order.PutUint16(opt, 9)
		order.PutUint16(opt[2:], 1)
		opt[4] = tsresol
		body = append(body, opt...)
		body = append(body, 0, 0, 0, 0) // opt_endofopt
	}
	return block(order, 1, body)
}

func epb(order binary.ByteOrder, ifid uint32, ts uint64, data []byte) []byte {
	body := make([]byte, 20)
	order.PutUint32(body, ifid)
	order.PutUint32(body[4:], uint32(ts>>32))
	order.PutUint32(body[8:], uint32(ts))
	order.PutUint32(body[12:], uint32(len(data)))
	order.PutUint32(body[16:], uint32(len(data)))
	return block(order, 6, append(body, data...))
}

func spb(order binary.ByteOrder, data []byte) []byte {
	body := make([]byte, 4)
	order.PutUint32(body, uint32(len(data)))
	return block(order, 3, append(body, data...))
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// got is what a test compares: packets and errors in order.
type got struct {
	Num    int64
	Offset int64
	Time   time.Time
	Link   int
	Data   string
	Trunc  bool
	Err    string
}

func readAll(t *testing.T, file []byte) ([]got, error) {
	t.Helper()
	r, err := capfile.NewReader(bytes.NewReader(file))
	if err != nil {
		return nil, err
	}
	var out []got
	for i := 0; i < 1_000_000; i++ {
		var p capfile.Packet
		err := r.Next(&p)
		if err == io.EOF {
			return out, nil
		}
		var pe *capfile.PacketError
		if errors.As(err, &pe) {
			out = append(out, got{Num: pe.Num, Offset: pe.Offset, Err: pe.Err.Error()})
			continue
		}
		if err != nil {
			return out, err
		}
		out = append(out, got{Num: p.Num, Offset: p.Offset, Time: p.Time, Link: p.LinkType, Data: string(p.Data), Trunc: p.Truncated})
	}
	t.Fatal("reader did not end")
	return nil, nil
}

func TestPcapVariants(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	t0 := time.Unix(1700000000, 0).UTC()
	tests := []struct {
		name string
		file []byte
		want []got
	}{
		{"little-endian micro", pcapFile(le, 0xa1b2c3d4, 65535, 1, rec{1700000000, 250000, []byte("abcd"), 0}, rec{1700000001, 0, []byte("ef"), 60}),
			[]got{{Num: 1, Offset: 24, Time: t0.Add(250 * time.Millisecond), Link: 1, Data: "abcd"},
				{Num: 2, Offset: 44, Time: t0.Add(time.Second), Link: 1, Data: "ef", Trunc: true}}},
		{"big-endian micro", pcapFile(be, 0xa1b2c3d4, 65535, 101, rec{1700000000, 1, []byte("x"), 0}),
			[]got{{Num: 1, Offset: 24, Time: t0.Add(time.Microsecond), Link: 101, Data: "x"}}},
		{"little-endian nano", pcapFile(le, 0xa1b23c4d, 65535, 113, rec{1700000000, 7, []byte("y"), 0}),
			[]got{{Num: 1, Offset: 24, Time: t0.Add(7), Link: 113, Data: "y"}}},
		{"big-endian nano", pcapFile(be, 0xa1b23c4d, 65535, 276, rec{1700000000, 999999999, []byte("z"), 0}),
			[]got{{Num: 1, Offset: 24, Time: t0.Add(999999999), Link: 276, Data: "z"}}},
		{"snaplen 0 is reported and reading goes on", pcapFile(le, 0xa1b2c3d4, 0, 1, rec{1700000000, 0, []byte("p"), 0}),
			[]got{{Offset: 16, Err: "snapshot length is 0 in the file header; packets are read up to 262144 bytes"},
				{Num: 1, Offset: 24, Time: t0, Link: 1, Data: "p"}}},
		{"packet cut by the end of the file", pcapFile(le, 0xa1b2c3d4, 65535, 1, rec{1700000000, 0, []byte("ok"), 0}, rec{1700000000, 0, []byte("cut here"), 0})[:24+18+16+3],
			[]got{{Num: 1, Offset: 24, Time: t0, Link: 1, Data: "ok"},
				{Num: 2, Offset: 42, Err: "file ends inside a packet record: packet has 3 of 8 captured bytes"}}},
		{"record header cut by the end of the file", pcapFile(le, 0xa1b2c3d4, 65535, 1, rec{1700000000, 0, []byte("ok"), 0})[:24+18+5],
			[]got{{Num: 1, Offset: 24, Time: t0, Link: 1, Data: "ok"},
				{Num: 2, Offset: 42, Err: "file ends inside a packet record: record header has 5 of 16 bytes"}}},
		{"empty capture", pcapFile(le, 0xa1b2c3d4, 65535, 1), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := readAll(t, tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, g); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
		})
	}
}

func TestPcapResyncAfterCorruptHeader(t *testing.T) {
	le := binary.LittleEndian
	f := pcapFile(le, 0xa1b2c3d4, 65535, 1,
		rec{1700000000, 0, []byte("first"), 0},
		rec{1700000001, 0, []byte("second"), 0},
		rec{1700000002, 0, []byte("third"), 0})
	// Corrupt the captured length of the second record.
	second := 24 + 16 + 5
	le.PutUint32(f[second+8:], 0x7fffffff)
	g, err := readAll(t, f)
	if err != nil {
		t.Fatal(err)
	}
	want := []got{
		{Num: 1, Offset: 24, Time: time.Unix(1700000000, 0).UTC(), Link: 1, Data: "first"},
		{Num: 2, Offset: int64(second), Err: "corrupt record header (captured length 2147483647, original length 6); skipped 22 bytes to the next plausible record"},
		{Num: 3, Offset: int64(second + 22), Time: time.Unix(1700000002, 0).UTC(), Link: 1, Data: "third"},
	}
	if d := cmp.Diff(want, g); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
}

func TestPcapng(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	t0 := time.Unix(1700000000, 0).UTC()
	for _, order := range []binary.ByteOrder{le, be} {
		t.Run(order.String(), func(t *testing.T) {
			sh := shb(order)
			i0 := idb(order, 1, 0)   // microseconds
			i1 := idb(order, 101, 9) // nanoseconds
			p1 := epb(order, 0, 1700000000*1_000_000+5, []byte("micro"))
			p2 := epb(order, 1, 1700000000*1_000_000_000+5, []byte("nano!"))
			p3 := spb(order, []byte("simple"))
			f := concat(sh, i0, i1, p1, p2, p3)
			g, err := readAll(t, f)
			if err != nil {
				t.Fatal(err)
			}
			o1 := int64(len(sh) + len(i0) + len(i1))
			o2 := o1 + int64(len(p1))
			want := []got{
				{Num: 1, Offset: o1, Time: t0.Add(5 * time.Microsecond), Link: 1, Data: "micro"},
				{Num: 2, Offset: o2, Time: t0.Add(5), Link: 101, Data: "nano!"},
				{Num: 3, Offset: o2 + int64(len(p2)), Time: t0.Add(5), Link: 1, Data: "simple"},
			}
			if d := cmp.Diff(want, g); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
		})
	}
}

func TestPcapngBadInput(t *testing.T) {
	le := binary.LittleEndian
	sh, i0 := shb(le), idb(le, 1, 0)
	good := epb(le, 0, 0, []byte("good"))
	unknownIf := epb(le, 7, 0, []byte("nope"))
	t.Run("packet on an undescribed interface", func(t *testing.T) {
		g, err := readAll(t, concat(sh, i0, unknownIf, good))
		if err != nil {
			t.Fatal(err)
		}
		if len(g) != 2 || !strings.Contains(g[0].Err, "interface 7") || g[1].Data != "good" || g[1].Num != 2 {
			t.Errorf("got %+v", g)
		}
	})
	t.Run("block cut by the end of the file", func(t *testing.T) {
		f := concat(sh, i0, good, good)
		g, err := readAll(t, f[:len(f)-6])
		if err != nil {
			t.Fatal(err)
		}
		if len(g) != 2 || g[0].Data != "good" || !strings.Contains(g[1].Err, "file ends inside") || g[1].Num != 2 {
			t.Errorf("got %+v", g)
		}
	})
	t.Run("corrupt block length is fatal with its offset", func(t *testing.T) {
		bad := append([]byte(nil), good...)
		le.PutUint32(bad[4:], 13)
		f := concat(sh, i0, good, bad)
		g, err := readAll(t, f)
		if err == nil || !strings.Contains(err.Error(), "offset 84: corrupt pcapng block length 13") {
			t.Errorf("err = %v, packets %+v", err, g)
		}
	})
	t.Run("trailing length mismatch is reported after the packet", func(t *testing.T) {
		bad := append([]byte(nil), good...)
		le.PutUint32(bad[len(bad)-4:], 99)
		g, err := readAll(t, concat(sh, i0, bad))
		if err != nil {
			t.Fatal(err)
		}
		if len(g) != 2 || g[0].Data != "good" || !strings.Contains(g[1].Err, "trailing copy 99") {
			t.Errorf("got %+v", g)
		}
	})
}

func TestNotACapture(t *testing.T) {
	for _, in := range []string{"", "ab", "hello world, this is text", "\x0a\x0d\x0d\x0a\x1c\x00\x00\x00junkjunk"} {
		if _, err := capfile.NewReader(strings.NewReader(in)); !errors.Is(err, capfile.ErrNotCapture) {
			t.Errorf("%q: err = %v, want ErrNotCapture", in, err)
		}
	}
}

func TestSniff(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	tests := []struct {
		head []byte
		want bool
	}{
		{pcapFile(le, 0xa1b2c3d4, 0, 1), true},
		{pcapFile(be, 0xa1b2c3d4, 0, 1), true},
		{pcapFile(le, 0xa1b23c4d, 0, 1), true},
		{pcapFile(be, 0xa1b23c4d, 0, 1), true},
		{shb(le), true},
		{shb(be), true},
		{[]byte("\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x00\x00\x00\x00"), false},
		{[]byte("#separator \\x09"), false},
		{[]byte{0xd4, 0xc3}, false},
	}
	for _, tt := range tests {
		if got := capfile.Sniff(tt.head); got != tt.want {
			t.Errorf("Sniff(% x) = %v, want %v", tt.head[:min(8, len(tt.head))], got, tt.want)
		}
	}
}

// TestRealFiles reads every capture of the shared data set to its end.
func TestRealFiles(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "..", "..", "shared", "data", "telemetry", "pcap")
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	if len(files) == 0 {
		t.Skip("shared data not present")
	}
	for _, fn := range files {
		if strings.HasSuffix(fn, ".gz") {
			continue // compressed: read through fileio by the pcap package tests
		}
		b, err := os.ReadFile(fn)
		if err != nil {
			t.Fatal(err)
		}
		g, err := readAll(t, b)
		if err != nil {
			t.Errorf("%s: %v", fn, err)
			continue
		}
		for _, p := range g {
			if p.Err != "" {
				t.Errorf("%s: %s", fn, p.Err)
			}
		}
		if len(g) == 0 {
			t.Errorf("%s: no packets", fn)
		}
	}
}

func FuzzReader(f *testing.F) {
	le := binary.LittleEndian
	f.Add(pcapFile(le, 0xa1b2c3d4, 65535, 1, rec{1, 2, []byte("abc"), 0}, rec{3, 4, []byte("defg"), 9}))
	f.Add(pcapFile(binary.BigEndian, 0xa1b23c4d, 0, 1, rec{1, 2, []byte("abc"), 0}))
	f.Add(concat(shb(le), idb(le, 1, 9), epb(le, 0, 99, []byte("pkt")), spb(le, []byte("s"))))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := capfile.NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		for i := 0; i < 10000; i++ {
			var p capfile.Packet
			err := r.Next(&p)
			var pe *capfile.PacketError
			switch {
			case err == nil:
				if len(p.Data) > capfile.MaxPacket || p.Offset < 0 || p.Offset >= int64(len(data)) {
					t.Fatalf("bad packet: len %d offset %d", len(p.Data), p.Offset)
				}
			case errors.As(err, &pe):
			default:
				return
			}
		}
		t.Fatal("reader did not end")
	})
}
