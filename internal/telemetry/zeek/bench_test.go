package zeek_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/readertest"
	"github.com/whodunit-project/whodunit/internal/telemetry/zeek"
)

const tsvPreamble = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t%s\n#open\t2024-04-12-19-29-12\n#fields\t%s\n#types\t%s\n"

// genLog builds a Zeek TSV log of about size bytes with the given columns,
// each line made by row(i).
func genLog(path, fields, types string, size int, row func(r *rand.Rand, i int) string) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, tsvPreamble, path, fields, types)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; buf.Len() < size; i++ {
		buf.WriteString(row(r, i))
		buf.WriteByte('\n')
	}
	buf.WriteString("#close\t2024-04-12-19-34-07\n")
	return buf.Bytes()
}

func randIP(r *rand.Rand) string {
	return fmt.Sprintf("%d.%d.%d.%d", 10+r.IntN(200), r.IntN(256), r.IntN(256), 1+r.IntN(254))
}

var (
	benchOnce           sync.Once
	benchConn, benchDNS []byte
	benchSSL            []byte
)

func benchData() {
	benchOnce.Do(func() { benchConn, benchDNS, benchSSL = genAll(16 << 20) })
}

// genAll generates a conn, a dns and an ssl log of about size bytes each.
func genAll(size int) (conn, dns, ssl []byte) {
	{
		conn = genLog("conn",
			"ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents",
			"time\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]",
			size, func(r *rand.Rand, i int) string {
				return fmt.Sprintf("%d.%06d\tC%017d\t%s\t%d\t%s\t%d\ttcp\tssl\t%d.%06d\t%d\t%d\tSF\tT\tF\t0\tShADadFf\t%d\t%d\t%d\t%d\t(empty)",
					1521911720+i/100, r.IntN(1000000), r.Int64N(1e17), randIP(r), 1024+r.IntN(60000), randIP(r), 443,
					r.IntN(100), r.IntN(1000000), r.IntN(100000), r.IntN(1000000), r.IntN(100), r.IntN(10000), r.IntN(100), r.IntN(100000))
			})
		dns = genLog("dns",
			"ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected",
			"time\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\tcount\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\tbool",
			size, func(r *rand.Rand, i int) string {
				return fmt.Sprintf("%d.%06d\tC%017d\t%s\t%d\t%s\t53\tudp\t%d\t0.000870\thost%d.example%d.com\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\tcdn%d.example.net,%s\t2230.000000,41830.000000\tF",
					1521911720+i/100, r.IntN(1000000), r.Int64N(1e17), randIP(r), 1024+r.IntN(60000), randIP(r), r.IntN(65536), r.IntN(1000), r.IntN(100), r.IntN(100), randIP(r))
			})
		ssl = genLog("ssl",
			"ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tcipher\tcurve\tserver_name\tresumed\tlast_alert\tnext_protocol\testablished\tssl_history\tcert_chain_fps\tclient_cert_chain_fps\tsni_matches_cert\tvalidation_status",
			"time\tstring\taddr\tport\taddr\tport\tstring\tstring\tstring\tstring\tbool\tstring\tstring\tbool\tstring\tvector[string]\tvector[string]\tbool\tstring",
			size, func(r *rand.Rand, i int) string {
				return fmt.Sprintf("%d.%06d\tC%017d\t%s\t%d\t%s\t443\tTLSv12\tTLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\tsecp256r1\twww%d.example%d.org\tF\t-\th2\tT\tCsiI\t%064x,%064x\t(empty)\tT\tok",
					1521911720+i/100, r.IntN(1000000), r.Int64N(1e17), randIP(r), 1024+r.IntN(60000), randIP(r), r.IntN(100), r.IntN(1000), r.Uint64(), r.Uint64())
			})
	}
	return conn, dns, ssl
}

func benchTSV(b *testing.B, data []byte) { benchTSVWith(b, zeek.TSV{}, data) }

func benchTSVWith(b *testing.B, f zeek.TSV, data []byte) { benchFormat(b, f, data) }

// benchFormat reads data through f, whole, in every iteration.
func benchFormat(b *testing.B, f telemetry.Format, data []byte) {
	b.Helper()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var ev telemetry.Event
	cpu0 := cpuTime()
	for b.Loop() {
		r, err := f.Open(bytes.NewReader(data), "bench.log")
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			err := r.Next(&ev)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n == 0 {
			b.Fatal("no events")
		}
	}
	// CPU time, unlike wall time, does not count the moments another
	// process had the core: the figure to read on a shared machine.
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(len(data))*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkZeekTSVConn(b *testing.B) { benchData(); benchTSV(b, benchConn) }
func BenchmarkZeekTSVDNS(b *testing.B)  { benchData(); benchTSV(b, benchDNS) }
func BenchmarkZeekTSVSSL(b *testing.B)  { benchData(); benchTSV(b, benchSSL) }

// BenchmarkZeekTSVNext measures one event at a time, to show that the
// steady state allocates nothing per event.
func BenchmarkZeekTSVNext(b *testing.B) {
	benchData()
	r, err := zeek.TSV{}.Open(&readertest.Loop{Data: benchConn}, "bench.log")
	if err != nil {
		b.Fatal(err)
	}
	var ev telemetry.Event
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Next(&ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkByteLoop is a yardstick for the machine: the speed of a plain
// loop that looks at every byte once. The readers cannot beat it; their
// figures read best as a fraction of it.
func BenchmarkByteLoop(b *testing.B) {
	benchData()
	b.SetBytes(int64(len(benchConn)))
	n := 0
	for b.Loop() {
		for _, c := range benchConn {
			if c == '\t' {
				n++
			}
		}
	}
	if n == 0 {
		b.Fatal("no tabs")
	}
}

// BenchmarkZeekTSVReal reads real logs (the WRCCDC dns and ssl logs, the
// Stratosphere labelled conn log), decompressed in memory, with every
// field decoded, with Needs.MatchOnly, and with MatchOnly and the value
// groups a domain-and-address snapshot does not read skipped (what
// Snapshot.Unread gives for it).
func BenchmarkZeekTSVReal(b *testing.B) {
	dir := sharedZeek(b)
	for _, name := range []string{"wrccdc-2018/dns.log.gz", "wrccdc-2018/ssl.log.gz", "stratosphere/008-zeek-mixed/data/conn.log.labeled"} {
		data, log := readDecompressed(b, filepath.Join(dir, name))
		b.Run(log+"/full", func(b *testing.B) { benchTSVWith(b, zeek.TSV{}, data) })
		b.Run(log+"/match-only", func(b *testing.B) {
			benchTSVWith(b, zeek.TSV{Needs: telemetry.Needs{MatchOnly: true}}, data)
		})
		b.Run(log+"/match-only-skip", func(b *testing.B) {
			skip := telemetry.GroupHashes | telemetry.GroupJA3 | telemetry.GroupSerials | telemetry.GroupUserAgent | telemetry.GroupFileName
			benchTSVWith(b, zeek.TSV{Needs: telemetry.Needs{MatchOnly: true, Skip: skip}}, data)
		})
	}
}

// BenchmarkZeekJSONReal reads the real WRCCDC dns and ssl logs in Zeek's
// JSON form, decompressed in memory, with every field decoded and with
// Needs.MatchOnly.
func BenchmarkZeekJSONReal(b *testing.B) {
	dir := sharedZeek(b)
	for _, name := range []string{"wrccdc-2018/json/dns.json.gz", "wrccdc-2018/json/ssl.json.gz"} {
		data, log := readDecompressed(b, filepath.Join(dir, name))
		b.Run(log+"/full", func(b *testing.B) { benchFormat(b, zeek.JSON{}, data) })
		b.Run(log+"/match-only", func(b *testing.B) { benchFormat(b, zeek.JSON{Needs: telemetry.Needs{MatchOnly: true}}, data) })
	}
}

// readDecompressed is the content of the log at path, decompressed, and
// its name up to the first dot.
func readDecompressed(b *testing.B, path string) ([]byte, string) {
	b.Helper()
	in, err := fileio.Open(path, fileio.DefaultLimits)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	data, err := io.ReadAll(in.R)
	if err != nil {
		b.Fatal(err)
	}
	return data, strings.SplitN(filepath.Base(path), ".", 2)[0]
}
