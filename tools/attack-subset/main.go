// Command attack-subset writes the part of an ATT&CK STIX bundle that
// concerns some groups: the intrusion sets, every object their relationships
// reach (malware, tools, techniques, campaigns), those relationships, and
// the identity and marking definitions. It builds examples/intel's sample.
//
//	go run ./tools/attack-subset -groups G0006,G0007 enterprise-attack.json.gz > subset.json
//	go run ./tools/attack-subset -groups G0006 -out subset.json.gz enterprise-attack.json.gz
//
// With -out NAME.gz the file is gzipped without a name or time in its
// header, so the same input gives the same bytes (make gen-check).
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	groups := flag.String("groups", "G0006", "comma-separated ATT&CK group ids")
	out := flag.String("out", "", "file to write (gzipped when it ends in .gz); standard output when empty")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: attack-subset -groups G0006,G0007 [-out FILE] enterprise-attack.json[.gz]")
		os.Exit(2)
	}
	if err := write(*out, func(w io.Writer) error { return run(flag.Arg(0), strings.Split(*groups, ","), w) }); err != nil {
		fmt.Fprintln(os.Stderr, "attack-subset:", err)
		os.Exit(1)
	}
}

// write runs fill into path (standard output when empty), through gzip when
// path ends in .gz. The file appears only when fill succeeds.
func write(path string, fill func(io.Writer) error) error {
	if path == "" {
		return fill(os.Stdout)
	}
	var b bytes.Buffer
	var w io.Writer = &b
	var zw *gzip.Writer
	if strings.HasSuffix(path, ".gz") {
		zw, _ = gzip.NewWriterLevel(&b, gzip.BestCompression) // zero header: no name, no time
		w = zw
	}
	if err := fill(w); err != nil {
		return err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return err
		}
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

type obj struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Refs []struct {
		SourceName string `json:"source_name"`
		ExternalID string `json:"external_id"`
	} `json:"external_references"`
	RelType string `json:"relationship_type"`
	Source  string `json:"source_ref"`
	Target  string `json:"target_ref"`
	Revoked bool   `json:"revoked"`
}

func run(path string, groups []string, w io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return err
		}
		r = zr
	}
	var bundle struct {
		Type    string            `json:"type"`
		ID      string            `json:"id"`
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.NewDecoder(r).Decode(&bundle); err != nil {
		return err
	}
	parsed := make([]obj, len(bundle.Objects))
	want := map[string]bool{}
	for i, raw := range bundle.Objects {
		if err := json.Unmarshal(raw, &parsed[i]); err != nil {
			return err
		}
		o := parsed[i]
		switch o.Type {
		case "identity", "marking-definition":
			want[o.ID] = true
		case "intrusion-set":
			for _, ref := range o.Refs {
				for _, g := range groups {
					if ref.SourceName == "mitre-attack" && ref.ExternalID == strings.TrimSpace(g) {
						want[o.ID] = true
					}
				}
			}
		}
	}
	seeds := map[string]bool{}
	for id := range want {
		if strings.HasPrefix(id, "intrusion-set--") {
			seeds[id] = true
		}
	}
	// relationships from or to the groups, and what they reach
	for _, o := range parsed {
		if o.Type == "relationship" && !o.Revoked && (seeds[o.Source] || seeds[o.Target]) {
			want[o.ID], want[o.Source], want[o.Target] = true, true, true
		}
	}
	// sub-technique parents, so technique names make sense
	for _, o := range parsed {
		if o.Type == "relationship" && o.RelType == "subtechnique-of" && want[o.Source] {
			want[o.ID], want[o.Target] = true, true
		}
	}
	var out []json.RawMessage
	for i, raw := range bundle.Objects {
		if want[parsed[i].ID] {
			out = append(out, raw)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(map[string]any{"type": "bundle", "id": bundle.ID, "objects": out})
}
