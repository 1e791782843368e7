package benchgen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/whodunit-project/whodunit/internal/fileio"
)

// RealSource is one real Zeek TSV log the real-data corpus replicates, and
// the column a planted value replaces.
type RealSource struct {
	Log    string // dns, ssl, conn, http
	Path   string // under the shared data directory
	Column string // #fields name of the column a planted value goes into
	Field  string // the event field the planted value is seen in
}

// RealSources are the real logs of the targets: the WRCCDC 2018
// dns and ssl logs and the Stratosphere conn and http logs.
var RealSources = []RealSource{
	{"dns", "telemetry/zeek/wrccdc-2018/dns.log.gz", "query", "dns.query"},
	{"ssl", "telemetry/zeek/wrccdc-2018/ssl.log.gz", "server_name", "tls.sni"},
	{"conn", "telemetry/zeek/stratosphere/008-zeek-mixed/data/conn.log.labeled", "id.resp_h", "conn.dst_ip"},
	{"http", "telemetry/zeek/stratosphere/005-zeek-scenario-malicious/http.log", "host", "http.host"},
}

// GenerateRealCorpus writes cfg.Size bytes of real Zeek logs into cfg.Dir,
// a quarter per source: each log's header, then its data lines over and
// over, in order, with about one line in cfg.PlantEvery carrying a planted
// value of the indicator sets (a domain, or an address for conn) in its
// column. The output depends only on the data and the Config. Unlike the
// synthetic corpus, real traffic may itself hit a synthetic indicator, so
// Planted is the least a scan must find (Manifest.Real is set).
func GenerateRealCorpus(cfg Config, dataDir string) (*Manifest, error) {
	if cfg.PlantEvery <= 0 {
		cfg.PlantEvery = 10000
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	p := newPlanted(cfg.Seed)
	m := &Manifest{Seed: cfg.Seed, ByField: map[string]int64{}, Real: true}
	for _, src := range RealSources {
		out := filepath.Join(cfg.Dir, "real-"+src.Log+".log")
		fi, n, err := replicate(filepath.Join(dataDir, src.Path), out, src, cfg.Size/int64(len(RealSources)), cfg.PlantEvery, p)
		if err != nil {
			return nil, err
		}
		fi.Log = src.Log
		m.Files = append(m.Files, fi)
		m.Bytes += fi.Bytes
		m.Records += fi.Records
		m.Planted += n
		m.ByField[src.Field] += n
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return m, os.WriteFile(filepath.Join(cfg.Dir, "manifest.json"), b, 0o644)
}

// readRealLog splits a Zeek TSV log into its leading header lines and its
// data lines (a trailing #close is dropped), and finds column's index.
func readRealLog(path, column string) (head []byte, lines [][]byte, col int, err error) {
	in, err := fileio.Open(path, fileio.DefaultLimits)
	if err != nil {
		return nil, nil, 0, err
	}
	defer in.Close()
	data, err := io.ReadAll(in.R)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	col = -1
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i+1], data[i+1:]
		} else {
			data = nil
		}
		if line[0] != '#' {
			lines = append(lines, line)
			continue
		}
		if len(lines) > 0 {
			continue // #close, or a second block's header
		}
		head = append(head, line...)
		if f, ok := bytes.CutPrefix(bytes.TrimRight(line, "\n"), []byte("#fields\t")); ok {
			for i, name := range bytes.Split(f, []byte("\t")) {
				if string(name) == column {
					col = i
				}
			}
		}
	}
	if col < 0 || len(lines) == 0 {
		return nil, nil, 0, fmt.Errorf("%s: no data lines or no %s column (is it Zeek TSV?)", path, column)
	}
	return head, lines, col, nil
}

// replicate writes src's header and data lines to out until size bytes,
// planting values; it returns the file and the number planted.
func replicate(path, out string, src RealSource, size int64, every int, p *plantedSet) (FileInfo, int64, error) {
	head, lines, col, err := readRealLog(path, src.Column)
	if err != nil {
		return FileInfo{}, 0, err
	}
	values := p.domains
	if src.Log == "conn" {
		values = p.ips
	}
	f, err := os.Create(out)
	if err != nil {
		return FileInfo{}, 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.Write(head)
	written, records, planted := int64(len(head)), int64(0), int64(0)
	for i := 0; written < size; i++ {
		line := lines[i%len(lines)]
		if i%every == every-1 {
			if l, ok := withColumn(line, col, values[int(planted)%len(values)]); ok {
				line = l
				planted++
			}
		}
		w.Write(line)
		written += int64(len(line))
		records++
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return FileInfo{}, 0, err
	}
	if err := f.Close(); err != nil {
		return FileInfo{}, 0, err
	}
	return FileInfo{Path: out, Bytes: written, Records: records}, planted, nil
}

// withColumn is line with tab-separated column col replaced by v; false
// when the line has no such column.
func withColumn(line []byte, col int, v string) ([]byte, bool) {
	start := 0
	for k := 0; k < col; k++ {
		i := bytes.IndexByte(line[start:], '\t')
		if i < 0 {
			return line, false
		}
		start += i + 1
	}
	end := bytes.IndexAny(line[start:], "\t\n")
	if end < 0 {
		return line, false
	}
	out := make([]byte, 0, len(line)+len(v))
	out = append(append(append(out, line[:start]...), v...), line[start+end:]...)
	return out, true
}
