// Command whodunit-benchgen makes the inputs of `make bench` and, until the
// whodunit CLI has a scan command, drives the scan library over them.
//
//	whodunit-benchgen gen  -out DIR [-size 1GB] [-seed 1] [-indicators 10000,1000000]
//	whodunit-benchgen scan -indicators FILE.dat [-workers N] [-summary FILE] PATH...
//
// gen writes DIR/corpus/*.log (Zeek TSV), DIR/corpus/manifest.json (the
// planted hits a scan must find), and for each set size N
// DIR/indicators-N.dat (Zeek intel, for `whodunit intel import`) and
// DIR/indicators-N.txt (one value per line, for rg -F -f). Output that
// already exists for the same size and seed is kept.
//
// scan compiles the Zeek intel file into a matcher snapshot (streaming,
// so the intel objects are never all in memory) and scans PATH..., then
// prints one JSON object with the compile time and the scan summary.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/scan"
	"github.com/whodunit-project/whodunit/internal/scan/benchgen"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/zeek"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "scan":
		err = scanCmd(os.Args[2:])
	case "report":
		err = report(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "whodunit-benchgen:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: whodunit-benchgen gen -out DIR [-size 1GB] [-seed 1] [-indicators 10000,1000000]\n"+
		"       whodunit-benchgen scan -indicators FILE.dat [-workers N] [-summary FILE] PATH...\n"+
		"       whodunit-benchgen report -dir DIR")
	os.Exit(2)
}

// parseSize reads "1GB", "512MB", "1.5G", "1000000".
func parseSize(s string) (int64, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, m := range []struct {
		suffix string
		mult   int64
	}{{"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"G", 1e9}, {"M", 1e6}, {"K", 1e3}, {"B", 1}} {
		if strings.HasSuffix(u, m.suffix) {
			u, mult = strings.TrimSuffix(u, m.suffix), m.mult
			break
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(u), 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return int64(f * float64(mult)), nil
}

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	out := fs.String("out", "", "output directory")
	realData := fs.String("real", "", "build the corpus from the real Zeek logs under this data directory (../shared/data) instead of synthetic ones")
	sizeS := fs.String("size", "1GB", "corpus size")
	seed := fs.Uint64("seed", 1, "random seed")
	sets := fs.String("indicators", "10000,1000000", "indicator set sizes")
	perLog := fs.Int("files-per-log", 2, "files per log type")
	fs.Parse(args)
	if *out == "" {
		return errors.New("gen: -out is required")
	}
	size, err := parseSize(*sizeS)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	corpus := filepath.Join(*out, "corpus")
	manifest := filepath.Join(corpus, "manifest.json")
	stamp := fmt.Sprintf("size=%d seed=%d files-per-log=%d real=%s v2", size, *seed, *perLog, *realData)
	stampFile := filepath.Join(corpus, ".stamp")
	if b, err := os.ReadFile(stampFile); err == nil && string(b) == stamp {
		fmt.Fprintf(os.Stderr, "corpus %s is up to date\n", corpus)
	} else {
		os.RemoveAll(corpus)
		start := time.Now()
		cfg := benchgen.Config{Dir: corpus, Size: size, Seed: *seed, FilesPerLog: *perLog}
		var m *benchgen.Manifest
		if *realData != "" {
			m, err = benchgen.GenerateRealCorpus(cfg, *realData)
		} else {
			m, err = benchgen.GenerateCorpus(cfg)
		}
		if err != nil {
			return err
		}
		if err := os.WriteFile(stampFile, []byte(stamp), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "corpus: %d files, %d bytes, %d records, %d planted hits in %.1fs\n",
			len(m.Files), m.Bytes, m.Records, m.Planted, time.Since(start).Seconds())
	}
	_ = manifest
	for _, s := range strings.Split(*sets, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("bad indicator set size %q", s)
		}
		dat := filepath.Join(*out, fmt.Sprintf("indicators-%d.dat", n))
		txt := filepath.Join(*out, fmt.Sprintf("indicators-%d.txt", n))
		istamp := filepath.Join(*out, fmt.Sprintf(".indicators-%d.stamp", n))
		want := fmt.Sprintf("n=%d seed=%d v2", n, *seed)
		if b, err := os.ReadFile(istamp); err == nil && string(b) == want {
			continue
		}
		inds := benchgen.Indicators(n, *seed)
		if err := writeWith(dat, func(f *os.File) error { return benchgen.WriteZeekIntel(f, inds) }); err != nil {
			return err
		}
		if err := writeWith(txt, func(f *os.File) error { return benchgen.WriteValues(f, inds) }); err != nil {
			return err
		}
		if err := os.WriteFile(istamp, []byte(want), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "indicators: %s (%d)\n", dat, n)
	}
	return nil
}

func writeWith(path string, fn func(*os.File) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// result is what scan prints: the record `whodunit scan --summary-json` writes.
type result = scan.RunReport

func scanCmd(args []string) error {
	fs := flag.NewFlagSet("scan", flag.ExitOnError)
	indFile := fs.String("indicators", "", "Zeek intel file")
	workers := fs.Int("workers", 0, "workers (0 = GOMAXPROCS)")
	summary := fs.String("summary", "", "write the JSON result here instead of standard output")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the scan phase here")
	chunk := fs.Int("chunk", 0, "chunk size in bytes (0 = the scan's default)")
	traceFile := fs.String("trace", "", "write an execution trace of the scan phase here")
	fs.Parse(args)
	if *indFile == "" || fs.NArg() == 0 {
		return errors.New("scan: -indicators and at least one PATH are required")
	}
	if *workers > 0 {
		runtime.GOMAXPROCS(*workers)
	}
	start, cpu0 := time.Now(), cpuSeconds()
	b := match.NewBuilder(match.Options{})
	n, err := addZeekIntel(b, *indFile)
	if err != nil {
		return err
	}
	snap, err := b.Build()
	if err != nil {
		return err
	}
	res := result{Indicators: n, CompileSeconds: time.Since(start).Seconds(), CompileCPU: cpuSeconds() - cpu0,
		Snapshot: snap.Version(), Workers: *workers}
	runtime.GC() // the build's garbage is not the scan's memory
	reg := telemetry.NewRegistry(zeek.TSV{}, zeek.JSON{})
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(pf)
		defer pf.Close()
	}
	if *traceFile != "" {
		tf, err := os.Create(*traceFile)
		if err != nil {
			return err
		}
		if err := trace.Start(tf); err != nil {
			return err
		}
		defer tf.Close()
	}
	start, cpu0 = time.Now(), cpuSeconds()
	sum, err := scan.Run(context.Background(), scan.Config{Paths: fs.Args(), Registry: reg, Snapshot: snap, Workers: *workers, ChunkSize: *chunk})
	if err != nil {
		return err
	}
	pprof.StopCPUProfile()
	trace.Stop()
	res.ScanSeconds = time.Since(start).Seconds()
	res.ScanCPU = cpuSeconds() - cpu0
	res.Summary = sum
	res.PeakRSSBytes = peakRSS()
	var out *os.File = os.Stdout
	if *summary != "" {
		if out, err = os.Create(*summary); err != nil {
			return err
		}
		defer out.Close()
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

// addZeekIntel streams a Zeek intel file as written by WriteZeekIntel into
// b, with the ids the flat importer derives.
func addZeekIntel(b *match.Builder, path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	obj := &intel.Object{Type: intel.TypeIndicator, Indicator: &intel.IndicatorSpec{PatternType: "zeek-intel", Observables: make([]intel.Observable, 1)}}
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) < 4 {
			return n, fmt.Errorf("%s: bad line %q", path, line)
		}
		t := intel.ValueType(cols[3]) // meta.desc holds our value type
		v := cols[0]
		if t == intel.URL {
			v = "http://" + v
		}
		obj.ID = intel.DeriveID(intel.TypeIndicator, string(t), v)
		obj.Indicator.Observables[0] = intel.Observable{Type: t, Value: v}
		b.Add(obj)
		n++
	}
	return n, sc.Err()
}

func cpuSeconds() float64 { return scan.ProcessCPU() }

func peakRSS() int64 { return scan.PeakRSS() }
