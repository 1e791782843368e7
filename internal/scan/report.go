package scan

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// RunReport is the machine-readable record of one scan run: what
// `whodunit scan --summary-json FILE` writes and what the benchmark
// (bench/run.sh) reads.
type RunReport struct {
	Indicators     int     `json:"indicators"`          // indicators compiled
	CompileSeconds float64 `json:"compile_seconds"`     // loading + compiling the snapshot, wall
	CompileCPU     float64 `json:"compile_cpu_seconds"` // the same, user + system CPU
	Snapshot       string  `json:"snapshot"`            // match.Snapshot.Version
	Workers        int     `json:"workers"`
	Summary        Summary `json:"summary"`
	ScanSeconds    float64 `json:"scan_seconds"`     // scan.Run, wall
	ScanCPU        float64 `json:"scan_cpu_seconds"` // scan.Run, user + system CPU of the process
	PeakRSSBytes   int64   `json:"peak_rss_bytes"`   // VmHWM at the end, -1 if unknown
}

// ProcessCPU is the user plus system CPU time the process has used, in
// seconds; differences of it time a phase.
func ProcessCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// PeakRSS is the high-water mark of the process's resident set (VmHWM from
// /proc/self/status) in bytes, or -1 where that is not available.
func PeakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			if f := strings.Fields(line); len(f) >= 2 {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					return kb << 10
				}
			}
		}
	}
	return -1
}
