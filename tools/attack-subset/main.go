// Command attack-subset writes the part of an ATT&CK STIX bundle that
// concerns some groups: the intrusion sets, every object their relationships
// reach (malware, tools, techniques, campaigns), those relationships, and
// the identity and marking definitions. It builds examples/intel's sample.
//
//	go run ./tools/attack-subset -groups G0006,G0007 enterprise-attack.json.gz > subset.json
package main

import (
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
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: attack-subset -groups G0006,G0007 enterprise-attack.json[.gz]")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), strings.Split(*groups, ","), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "attack-subset:", err)
		os.Exit(1)
	}
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
