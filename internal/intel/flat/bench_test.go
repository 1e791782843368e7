package flat_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/flat"
)

// countingSink counts objects without keeping them, so the benchmark
// measures the reader, not a store.
type countingSink struct{ n int }

func (c *countingSink) Put(context.Context, *intel.Object) error { c.n++; return nil }
func (c *countingSink) PutWarninglist(context.Context, *intel.Warninglist) error {
	return nil
}

// mixedList writes n distinct indicators of every common kind, some
// defanged and commented, one per line.
func mixedList(n int) []byte {
	var b bytes.Buffer
	b.Grow(n * 40)
	b.WriteString("# generated indicator list\n")
	for i := 0; i < n; i++ {
		switch i % 10 {
		case 0:
			fmt.Fprintf(&b, "10.%d.%d.%d\n", i>>16&0xff, i>>8&0xff, i&0xff)
		case 1:
			fmt.Fprintf(&b, "host%d.example-%d.com\n", i, i%97)
		case 2:
			fmt.Fprintf(&b, "%032x\n", i*7919)
		case 3:
			fmt.Fprintf(&b, "%040x\n", i*104729)
		case 4:
			fmt.Fprintf(&b, "%064x\n", i*1299709)
		case 5:
			fmt.Fprintf(&b, "hxxp://evil%d[.]example/path/%d?q=%d\n", i, i, i)
		case 6:
			fmt.Fprintf(&b, "2001:db8::%x:%x\n", i>>16, i&0xffff)
		case 7:
			fmt.Fprintf(&b, "user%d@mail%d.example\n", i, i%13)
		case 8:
			fmt.Fprintf(&b, "%d.%d.%d.0/24\n", 100+i>>16, i>>8&0xff, i&0xff)
		case 9:
			fmt.Fprintf(&b, "c2-%d.Example.NET.   # beacon target\n", i)
		}
	}
	return b.Bytes()
}

func BenchmarkList1M(b *testing.B) {
	const n = 1_000_000
	data := mixedList(n)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		var sink countingSink
		st, err := flat.List{}.Import(context.Background(), bytes.NewReader(data), "bench.txt", intel.DefaultOptions(), &sink)
		if err != nil {
			b.Fatal(err)
		}
		if got := st.Objects[intel.TypeIndicator]; got != n {
			b.Fatalf("read %d indicators, want %d (%v)", got, n, st.Errors)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "indicators/s")
}

func BenchmarkCSV100k(b *testing.B) {
	const n = 100_000
	var buf bytes.Buffer
	buf.WriteString("first_seen_utc,ioc_value,ioc_type,malware,confidence_level,tags,reporter\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&buf, "2024-09-05 10:50:27,\"c2-%d.bad.example\",domain,Cobalt Strike,75,\"c2,cs\",hunter_%d\n", i, i%50)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var sink countingSink
		st, err := flat.CSV{}.Import(context.Background(), bytes.NewReader(data), "bench.csv", intel.DefaultOptions(), &sink)
		if err != nil || st.Objects[intel.TypeIndicator] != n {
			b.Fatalf("%v %v", err, st)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "indicators/s")
}

func BenchmarkZeekAPT1(b *testing.B) {
	dir := aptDir(b)
	data, err := os.ReadFile(filepath.Join(dir, "apt1-fqdn.dat"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var sink countingSink
		if _, err := (flat.ZeekIntel{}).Import(context.Background(), bytes.NewReader(data), "apt1-fqdn.dat", intel.DefaultOptions(), &sink); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(2046*float64(b.N)/b.Elapsed().Seconds(), "indicators/s")
}
