package scan_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/scan"
)

// sharedData is ../shared/data seen from this package.
var sharedData = filepath.Join("..", "..", "..", "shared", "data")

func needShared(t *testing.T, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{sharedData}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data not available (%s): %v", p, err)
	}
	return p
}

// apt1 holds the real APT1 indicators (Mandiant report appendices, as Zeek
// intel files), read by this test itself so that it depends on no importer.
type apt1 struct {
	domains, md5s, certs []string
	objects              []*intel.Object
}

func loadAPT1(t *testing.T) *apt1 {
	dir := needShared(t, "intel", "apt1")
	a := &apt1{}
	read := func(file, zeekType string, vt intel.ValueType, into *[]string) {
		f, err := os.Open(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := sc.Text()
			if line == "" || line[0] == '#' {
				continue
			}
			cols := strings.Split(line, "\t")
			if len(cols) < 2 || cols[1] != zeekType {
				continue
			}
			v, err := intel.Normalize(vt, cols[0])
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			*into = append(*into, v)
			a.objects = append(a.objects, &intel.Object{ID: apt1ID(vt, v), Type: intel.TypeIndicator,
				Indicator: &intel.IndicatorSpec{PatternType: "zeek-intel", Observables: []intel.Observable{{Type: vt, Value: v}}}})
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	read("apt1-fqdn.dat", "Intel::DOMAIN", intel.Domain, &a.domains)
	read("apt1-md5.dat", "Intel::FILE_HASH", intel.MD5, &a.md5s)
	read("apt1-certs.dat", "Intel::CERT_HASH", intel.X509SHA1, &a.certs)
	if len(a.domains) < 2000 || len(a.md5s) < 1000 || len(a.certs) < 20 {
		t.Fatalf("APT1 lists look short: %d domains, %d md5, %d certs", len(a.domains), len(a.md5s), len(a.certs))
	}
	return a
}

func apt1ID(t intel.ValueType, v string) string {
	return intel.DeriveID(intel.TypeIndicator, string(t), v)
}

// want is one expected sighting.
type want struct {
	ID, File   string
	Line       int64
	Field, Val string
}

// injector rewrites columns of chosen lines of a real Zeek TSV log.
type injector struct {
	t      *testing.T
	a      *apt1
	wants  []want
	serial int // picks a different indicator each time
}

// domainHits is an oracle independent of the matcher: every APT1 domain
// that equals name or is a parent of it.
func (in *injector) domainHits(name string) []string {
	var ids []string
	for _, d := range in.a.domains {
		if name == d || strings.HasSuffix(name, "."+d) {
			ids = append(ids, apt1ID(intel.Domain, d))
		}
	}
	return ids
}

func (in *injector) nextDomain() string {
	in.serial++
	return in.a.domains[(in.serial*37)%len(in.a.domains)]
}

type edit func(line int64, cols []string, col map[string]int) (field string, value string, ids []string)

// inject copies src (plain or gzip) to dst (gzip when dst ends in .gz),
// applying ed to every every-th data line.
func (in *injector) inject(src, dst string, every int, ed edit) {
	t := in.t
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasPrefix(raw, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if raw, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	absDst, _ := filepath.Abs(dst)
	var out bytes.Buffer
	col := map[string]int{}
	data := 0
	lines := strings.SplitAfter(string(raw), "\n")
	for i, line := range lines {
		n := int64(i + 1)
		if strings.HasPrefix(line, "#fields") {
			col = map[string]int{}
			for j, f := range strings.Split(strings.TrimRight(line, "\r\n"), "\t")[1:] {
				col[f] = j
			}
		}
		if line == "" || line[0] == '#' {
			out.WriteString(line)
			continue
		}
		data++
		if data%every != 0 {
			out.WriteString(line)
			continue
		}
		body := strings.TrimRight(line, "\n")
		cols := strings.Split(body, "\t")
		field, value, ids := ed(n, cols, col)
		for _, id := range ids {
			in.wants = append(in.wants, want{id, absDst, n, field, value})
		}
		out.WriteString(strings.Join(cols, "\t"))
		out.WriteString(line[len(body):])
	}
	b := out.Bytes()
	if strings.HasSuffix(dst, ".gz") {
		b = gz(t, b)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func setCol(t *testing.T, cols []string, col map[string]int, name, v string) {
	i, ok := col[name]
	if !ok || i >= len(cols) {
		t.Fatalf("no column %q", name)
	}
	cols[i] = v
}

// TestAPT1InjectedIntoRealLogs plants the real APT1 indicators into copies
// of real WRCCDC and Stratosphere Zeek logs and checks that every planted
// hit is found exactly once, in the right field, and nothing else is.
func TestAPT1InjectedIntoRealLogs(t *testing.T) {
	a := loadAPT1(t)
	wr := needShared(t, "telemetry", "zeek", "wrccdc-2018")
	st := needShared(t, "telemetry", "zeek", "stratosphere")
	dir := t.TempDir()
	in := &injector{t: t, a: a}
	p := func(name string) string { return filepath.Join(dir, name) }

	in.inject(filepath.Join(wr, "dns.log.gz"), p("wrccdc-dns.log.gz"), 2500, func(n int64, cols []string, col map[string]int) (string, string, []string) {
		d := in.nextDomain()
		if in.serial%2 == 0 {
			name := "www." + d
			setCol(t, cols, col, "query", name)
			return "dns.query", name, in.domainHits(name)
		}
		setCol(t, cols, col, "answers", d)
		return "dns.answer", d, in.domainHits(d)
	})
	in.inject(filepath.Join(wr, "ssl.log.gz"), p("wrccdc-ssl.log"), 3000, func(n int64, cols []string, col map[string]int) (string, string, []string) {
		name := "mail." + in.nextDomain()
		setCol(t, cols, col, "server_name", name)
		return "tls.sni", name, in.domainHits(name)
	})
	in.inject(filepath.Join(wr, "x509.log.gz"), p("wrccdc-x509.log"), 29, func(n int64, cols []string, col map[string]int) (string, string, []string) {
		in.serial++
		switch in.serial % 3 {
		case 0:
			c := a.certs[in.serial%len(a.certs)]
			setCol(t, cols, col, "fingerprint", c)
			return "x509.cert_sha1", c, []string{apt1ID(intel.X509SHA1, c)}
		case 1:
			name := "vpn." + in.nextDomain()
			setCol(t, cols, col, "san.dns", name)
			return "x509.cert_san", name, in.domainHits(name)
		default:
			d := in.nextDomain()
			setCol(t, cols, col, "certificate.subject", "CN="+d+",O=Example\\x2c Inc,C=US")
			setCol(t, cols, col, "san.dns", "-")
			return "x509.cert_cn", d, in.domainHits(d)
		}
	})
	in.inject(filepath.Join(wr, "smtp.log.gz"), p("wrccdc-smtp.log"), 97, func(n int64, cols []string, col map[string]int) (string, string, []string) {
		d := in.nextDomain()
		setCol(t, cols, col, "mailfrom", "<ugly.gorilla@"+d+">")
		return "smtp.mailfrom", d, in.domainHits(d)
	})
	s9 := filepath.Join(st, "009-zeek-malicious", "data")
	in.inject(filepath.Join(s9, "files.log.labeled"), p("files.log.labeled"), 150, func(n int64, cols []string, col map[string]int) (string, string, []string) {
		in.serial++
		m := a.md5s[(in.serial*13)%len(a.md5s)]
		setCol(t, cols, col, "md5", m)
		return "file.md5", m, []string{apt1ID(intel.MD5, m)}
	})
	in.inject(filepath.Join(s9, "http.log.labeled"), p("http.log.labeled"), 120, func(n int64, cols []string, col map[string]int) (string, string, []string) {
		d := in.nextDomain()
		setCol(t, cols, col, "host", d)
		return "http.host", d, in.domainHits(d)
	})
	in.inject(filepath.Join(s9, "ssl.log.labeled"), p("ssl.log.labeled"), 70, func(n int64, cols []string, col map[string]int) (string, string, []string) {
		d := in.nextDomain()
		setCol(t, cols, col, "server_name", d)
		return "tls.sni", d, in.domainHits(d)
	})
	in.inject(filepath.Join(st, "005-zeek-scenario-malicious", "dns.log"), p("strato-dns.log"), 90, func(n int64, cols []string, col map[string]int) (string, string, []string) {
		d := in.nextDomain()
		setCol(t, cols, col, "query", strings.ToUpper(d))
		return "dns.query", strings.ToUpper(d), in.domainHits(d)
	})
	// untouched real background
	in.inject(filepath.Join(s9, "dns.log.labeled"), p("dns.log.labeled"), 1<<30, nil)
	in.inject(filepath.Join(st, "005-zeek-scenario-malicious", "conn.log"), p("conn.log"), 1<<30, nil)
	in.inject(filepath.Join(wr, "notice.log.gz"), p("notice.log.gz"), 1<<30, nil)

	t.Logf("%d injected hits", len(in.wants))
	if len(in.wants) < 60 {
		t.Fatalf("only %d injections", len(in.wants))
	}
	sort.Slice(in.wants, func(i, j int) bool { return fmt.Sprint(in.wants[i]) < fmt.Sprint(in.wants[j]) })

	snap, err := match.Compile(a.objects, match.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []struct {
		name           string
		chunk, workers int
	}{{"whole files", -1, 2}, {"16k chunks", 16 << 10, 2}} {
		t.Run(cfg.name, func(t *testing.T) {
			sum, _, sgs := runCollect(t, scan.Config{Paths: []string{dir}, Snapshot: snap, ChunkSize: cfg.chunk, Workers: cfg.workers})
			var got []want
			for _, sg := range sgs {
				got = append(got, want{sg.IndicatorID, sg.File, sg.Line, sg.Field, sg.Value})
			}
			sort.Slice(got, func(i, j int) bool { return fmt.Sprint(got[i]) < fmt.Sprint(got[j]) })
			if diff := cmp.Diff(in.wants, got); diff != "" {
				t.Errorf("sightings (-want +got):\n%s", diff)
			}
			if sum.Sightings != int64(len(in.wants)) || sum.Suppressed != 0 {
				t.Errorf("summary: %d sightings, %d suppressed; want %d, 0", sum.Sightings, sum.Suppressed, len(in.wants))
			}
			for _, f := range sum.Files {
				if f.Err != "" || f.Events == 0 {
					t.Errorf("%s: %d events, error %q", f.Path, f.Events, f.Err)
				}
			}
		})
	}
}
