// Command demo-data regenerates examples/telemetry, the scenario that
// `whodunit demo` hunts in: the first lines of the real WRCCDC 2018 DNS and
// TLS logs, with APT1 and APT28 activity and three decoys injected by the
// scenario package.
//
//	go run ./tools/demo-data -shared ../shared/data -out examples/telemetry
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/whodunit-project/whodunit/internal/scenario"
)

func main() {
	shared := flag.String("shared", "../shared/data", "the shared data directory")
	out := flag.String("out", "examples/telemetry", "output directory")
	flag.Parse()
	spec := scenario.Spec{
		Background: filepath.Join(*shared, "telemetry", "zeek", "wrccdc-2018"), Out: *out,
		Seed: 2013, Days: 21, Files: []string{"dns", "ssl"}, MaxBackgroundLines: 4000,
		Actors: []scenario.Actor{
			// Real APT1 C2 names and malware from the report's appendices,
			// on servers in APT1's Shanghai netblocks; operators on UTC+8.
			{Name: "APT1", Domains: []string{"advanbusiness.com", "aoldaily.com", "msnhome.org"},
				IPs: []string{"223.166.12.34", "58.246.20.7"}, MD5s: []string{"001dd76872d80801692ff942308c64e6"},
				UTCOffset: 8, Victims: 3, Sessions: 50, Beacon: 30 * time.Minute, Jitter: 0.3},
			// APT28 C2 names from FireEye's OpenIOC; operators on UTC+3.
			{Name: "APT28", Domains: []string{"login-osce.org", "standartnevvs.com"}, IPs: []string{"95.213.11.45"},
				MD5s: []string{"272f0fde35dbdfccbca1e33373b3570d"}, UTCOffset: 3, Victims: 2, Sessions: 40, Beacon: 45 * time.Minute, Jitter: 0.2},
		},
		Decoys: scenario.Decoys{WarninglistedIPs: []string{"8.8.8.8"}, SharedIPs: []string{"185.86.151.2"}, UnknownBeacon: "45.77.1.2"},
	}
	m, err := scenario.Generate(spec)
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo-data:", err)
		os.Exit(1)
	}
	// The manifest is the answer key; keep it out of the hunted directory.
	manifest := filepath.Join(*out, "manifest.json")
	if err := gzipFile(manifest, filepath.Join(filepath.Dir(*out), "telemetry-manifest.json.gz")); err != nil {
		fmt.Fprintln(os.Stderr, "demo-data:", err)
		os.Exit(1)
	}
	if err := os.Remove(manifest); err != nil {
		fmt.Fprintln(os.Stderr, "demo-data:", err)
		os.Exit(1)
	}
	fmt.Printf("%d injected lines, victims %v\n", len(m.Truths), m.Victims)
}

// gzipFile writes src gzipped to dst with an empty header (no name, no
// time), so the same scenario gives the same bytes.
func gzipFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if _, err := zw.Write(data); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(dst, b.Bytes(), 0o644)
}
