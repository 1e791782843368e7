package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/whodunit-project/whodunit/internal/scan/benchgen"
)

// measured is one timed process: /usr/bin/time's "%e %U %S %M".
type measured struct {
	name              string
	wall, user, sys   float64
	rssKB             int64
	timeout           bool
	res               *result // whodunit runs
	rgLines           int64   // ripgrep runs: matching lines counted
	set, workers      int
	isRG              bool
	tool              string // the peer: rg, grep, cat, wc ("" for whodunit)
	ok                bool
	missing, spurious int64
}

func (m *measured) cpu() float64 { return m.user + m.sys }

func readTime(path string) (wall, user, sys float64, rss int64, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	// GNU time writes "Command exited with non-zero status N" first
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(f) != 4 {
		err = fmt.Errorf("%s: unexpected %q", path, lines[len(lines)-1])
		return
	}
	wall, _ = strconv.ParseFloat(f[0], 64)
	user, _ = strconv.ParseFloat(f[1], 64)
	sys, _ = strconv.ParseFloat(f[2], 64)
	rss, _ = strconv.ParseInt(f[3], 10, 64)
	return
}

// report reads DIR/results and prints the benchmark table. It fails when a
// whodunit run missed a planted hit or found anything else.
func report(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	dir := fs.String("dir", "", "bench directory")
	fs.Parse(args)
	if *dir == "" {
		return errors.New("report: -dir is required")
	}
	var man benchgen.Manifest
	b, err := os.ReadFile(filepath.Join(*dir, "corpus", "manifest.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &man); err != nil {
		return err
	}
	names, _ := filepath.Glob(filepath.Join(*dir, "results", "*.time"))
	var runs []*measured
	for _, p := range names {
		name := strings.TrimSuffix(filepath.Base(p), ".time")
		m := &measured{name: name}
		if m.wall, m.user, m.sys, m.rssKB, err = readTime(p); err != nil {
			return err
		}
		_, terr := os.Stat(filepath.Join(*dir, "results", name+".timeout"))
		m.timeout = terr == nil
		parts := strings.Split(name, "-")
		m.set, _ = strconv.Atoi(parts[1])
		if parts[0] != "whodunit" {
			m.isRG, m.tool = true, parts[0]
			m.rgLines = sumRGCounts(filepath.Join(*dir, "results", name+".out"))
		} else {
			m.workers, _ = strconv.Atoi(strings.TrimPrefix(parts[2], "w"))
			var r result
			jb, err := os.ReadFile(filepath.Join(*dir, "results", name+".json"))
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if err := json.Unmarshal(jb, &r); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			m.res = &r
			got := r.Summary.Sightings + r.Summary.Suppressed
			m.ok = (got == man.Planted || man.Real && got > man.Planted) && r.Summary.BadRecords == 0 && r.Summary.FailedFiles == 0
			if got < man.Planted {
				m.missing = man.Planted - got
			} else {
				m.spurious = got - man.Planted
			}
		}
		runs = append(runs, m)
	}
	sort.Slice(runs, func(i, j int) bool {
		if runs[i].set != runs[j].set {
			return runs[i].set < runs[j].set
		}
		if runs[i].isRG != runs[j].isRG {
			return !runs[i].isRG
		}
		return runs[i].workers > runs[j].workers
	})

	mb := float64(man.Bytes) / 1e6
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	kind := "synthetic"
	if man.Real {
		kind = "real (replicated ../shared/data logs)"
	}
	fmt.Fprintf(w, "\nwhodunit scan benchmark: %.0f MB %s Zeek TSV (%d files, %d records), %d planted hits, %d CPUs\n",
		mb, kind, len(man.Files), man.Records, man.Planted, runtime.NumCPU())
	fmt.Fprintf(w, "wall = whole process (indicator load/compile included); scan = scan phase only; CPU = user+sys of the process\n\n")
	fmt.Fprintf(w, "%-26s %8s %8s %10s %8s %9s %8s %9s %9s  %s\n",
		"run", "wall s", "MB/s", "events/s", "CPU s", "MB/CPU-s", "scan s", "scan MB/s", "peak RSS", "result")
	byName := map[string]*measured{}
	failed := false
	for _, m := range runs {
		byName[m.name] = m
		label := fmt.Sprintf("whodunit %s w=%d", setName(m.set), m.workers)
		if m.isRG {
			label = peerLabel(m)
		}
		rate := mb / m.wall
		evs, scanS, scanRate, result := "-", "-", "-", ""
		if m.res != nil {
			s := m.res.Summary
			evs = fmt.Sprintf("%.2fM", float64(s.Events)/m.res.ScanSeconds/1e6)
			scanS = fmt.Sprintf("%.2f", m.res.ScanSeconds)
			scanRate = fmt.Sprintf("%.0f", float64(s.DataBytes)/1e6/m.res.ScanSeconds)
			if m.ok && man.Real && m.spurious > 0 {
				result = fmt.Sprintf("%d planted found, and %d hits of the synthetic indicators in the real traffic; compile/load %.2fs (CPU %.2fs)", man.Planted, m.spurious, m.res.CompileSeconds, m.res.CompileCPU)
			} else if m.ok {
				result = fmt.Sprintf("%d/%d planted found, nothing else; compile %.2fs (CPU %.2fs)", s.Sightings+s.Suppressed, man.Planted, m.res.CompileSeconds, m.res.CompileCPU)
			} else {
				failed = true
				result = fmt.Sprintf("WRONG: %d sightings for %d planted (%d missing, %d extra), %d bad records, %d failed files",
					s.Sightings+s.Suppressed, man.Planted, m.missing, m.spurious, s.BadRecords, s.FailedFiles)
			}
		} else if m.timeout {
			result = "timed out"
		} else if m.tool == "rg" || m.tool == "grep" {
			result = fmt.Sprintf("%d matching lines (substring)", m.rgLines)
		}
		fmt.Fprintf(w, "%-26s %8.2f %8.0f %10s %8.2f %9.0f %8s %9s %6d MB  %s\n",
			label, m.wall, rate, evs, m.cpu(), mb/m.cpu(), scanS, scanRate, m.rssKB>>10, result)
	}
	fmt.Fprintln(w)
	for _, n := range []int{10_000, 1_000_000} {
		wd, rg := byName[fmt.Sprintf("whodunit-%d-w2", n)], byName[fmt.Sprintf("rg-%d", n)]
		if wd == nil || rg == nil || rg.timeout {
			continue
		}
		target := 3.0
		if n >= 1_000_000 {
			target = 10
		}
		fmt.Fprintf(w, "vs ripgrep, %s: %.1f× by wall time, %.1f× by CPU time (target ≥ %.0f×)\n",
			setName(n), rg.wall/wd.wall, rg.cpu()/wd.cpu(), target)
	}
	printPeerRatios(w, byName)
	if w1, w2 := byName["whodunit-1000000-w1"], byName["whodunit-1000000-w2"]; w1 != nil && w2 != nil {
		fmt.Fprintf(w, "scaling 1M, 1 → 2 workers: %.2f× (scan phase wall time; target ≥ 1.8×)\n", w1.res.ScanSeconds/w2.res.ScanSeconds)
		per := float64(w1.res.Summary.DataBytes) / 1e6 / w1.res.ScanSeconds
		perCPU := float64(w1.res.Summary.DataBytes) / 1e6 / w1.res.ScanCPU
		fmt.Fprintf(w, "per core, 1M indicators: %.0f MB/s wall, %.0f MB per CPU-second (target ≥ 400)\n", per, perCPU)
		fmt.Fprintf(w, "1M snapshot: compile %.2fs wall, %.2fs CPU (target ≤ 5s); peak RSS %d MB (target ≤ 1024)\n",
			w1.res.CompileSeconds, w1.res.CompileCPU, w1.rssKB>>10)
	}
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Fprintf(w, "load average at the end: %s", load)
	}
	if failed {
		w.Flush()
		return errors.New("a scan did not find exactly the planted hits")
	}
	return nil
}

func setName(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return strconv.Itoa(n)
}

// sumRGCounts adds up rg -c output ("file:count" per file).
func sumRGCounts(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	var n int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.LastIndexByte(line, ':'); i >= 0 {
			c, _ := strconv.ParseInt(line[i+1:], 10, 64)
			n += c
		}
	}
	return n
}

func peerLabel(m *measured) string {
	switch m.tool {
	case "rg":
		return fmt.Sprintf("ripgrep -F %s", setName(m.set))
	case "grep":
		return fmt.Sprintf("GNU grep -F %s", setName(m.set))
	case "wc":
		return "wc -l"
	}
	return m.tool
}

// printPeerRatios sets every whodunit run beside the peers of the same
// run: how many times the peer's wall time whodunit's whole process and
// its scan phase take.
func printPeerRatios(w io.Writer, byName map[string]*measured) {
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		wd := byName[n]
		if wd.res == nil {
			continue
		}
		for _, peer := range []string{fmt.Sprintf("rg-%d", wd.set), fmt.Sprintf("grep-%d", wd.set), "cat-0", "wc-0"} {
			p := byName[peer]
			if p == nil || p.timeout {
				continue
			}
			fmt.Fprintf(w, "%s / %s: whole process %.2f× the peer's wall time, scan phase %.2f×\n",
				wd.name, peer, wd.wall/p.wall, wd.res.ScanSeconds/p.wall)
		}
	}
}
