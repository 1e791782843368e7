package formats_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/telemetry/formats"
	"github.com/whodunit-project/whodunit/internal/telemetry/jsonl"
)

func TestDefaultSniffsRealFiles(t *testing.T) {
	data := filepath.Join("..", "..", "..", "..", "shared", "data", "telemetry")
	if _, err := os.Stat(data); err != nil {
		t.Skip("shared data not present")
	}
	reg := formats.Default(formats.Options{})
	tests := map[string]string{
		"zeek/wrccdc-2018/dns.log.gz":                                "zeek",
		"zeek/wrccdc-2018/json/ssl.json.gz":                          "zeek-json",
		"zeek/stratosphere/002-zeek-scenario-port-scanning/conn.log": "zeek-json",
		"zeek/stratosphere/008-zeek-mixed/data/conn.log.labeled":     "zeek",
	}
	pcaps, _ := filepath.Glob(filepath.Join(data, "pcap", "*"))
	for _, p := range pcaps {
		if rel, err := filepath.Rel(data, p); err == nil && filepath.Ext(p) != ".md" && filepath.Base(p) != "LICENSE-zeek" {
			tests[rel] = "pcap"
		}
	}
	tests[filepath.Join("..", "..", "main", "internal", "telemetry", "eve", "testdata", "eve.json")] = "eve"
	for rel, want := range tests {
		path := filepath.Join(data, rel)
		if filepath.Base(rel) == "eve.json" {
			path = filepath.Join("..", "eve", "testdata", "eve.json")
		}
		in, err := fileio.Open(path, fileio.DefaultLimits)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		f, ok := reg.Sniff(in.Head, rel)
		in.Close()
		if !ok || f.Name() != want {
			got := "nothing"
			if ok {
				got = f.Name()
			}
			t.Errorf("%s sniffed as %s, want %s", rel, got, want)
		}
	}
}

func TestDefaultFormats(t *testing.T) {
	var names []string
	for _, f := range formats.Default(formats.Options{}).Formats() {
		names = append(names, f.Name())
	}
	if len(names) != 4 || names[0] != "pcap" || names[1] != "zeek" || names[2] != "eve" || names[3] != "zeek-json" {
		t.Errorf("formats %v", names)
	}
	m, err := jsonl.ParseMapping("src_ip=client")
	if err != nil {
		t.Fatal(err)
	}
	reg := formats.Default(formats.Options{Mapping: m})
	if _, ok := reg.ByName("jsonl"); !ok {
		t.Error("no jsonl with a mapping")
	}
	if f, ok := reg.Sniff([]byte("date,client\n1,10.0.0.1\n"), "x.csv"); !ok || f.Name() != "csv" {
		t.Error("CSV with a mapped column not sniffed")
	}
	if f, ok := reg.Sniff([]byte(`{"client":"10.0.0.1"}`), "x.json"); !ok || f.Name() != "jsonl" {
		t.Error("JSON line not sniffed as jsonl")
	}
}
