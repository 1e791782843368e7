// Command galaxy-subset writes the clusters of a MISP galaxy file whose
// value is one of the names given, with the galaxy's own fields, keys
// sorted and indented by two spaces. It builds examples/intel's
// misp-galaxy-threat-actor-subset.json.
//
//	go run ./tools/galaxy-subset -values APT1,APT28 threat-actor.json > subset.json
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

func main() {
	values := flag.String("values", "APT1", "comma-separated cluster values to keep")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: galaxy-subset -values APT1,APT28 threat-actor.json")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), strings.Split(*values, ","), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "galaxy-subset:", err)
		os.Exit(1)
	}
}

func run(path string, values []string, w io.Writer) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	// Numbers stay as written and keys come out sorted: the same input
	// gives the same bytes.
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var galaxy map[string]any
	if err := dec.Decode(&galaxy); err != nil {
		return fmt.Errorf("%s: offset %d: %w", path, dec.InputOffset(), err)
	}
	clusters, ok := galaxy["values"].([]any)
	if !ok {
		return fmt.Errorf("%s: no \"values\" array of clusters", path)
	}
	want := map[string]bool{}
	for _, v := range values {
		want[strings.TrimSpace(v)] = true
	}
	kept := []any{}
	for _, c := range clusters {
		if m, ok := c.(map[string]any); ok && want[fmt.Sprint(m["value"])] {
			kept = append(kept, c)
			delete(want, fmt.Sprint(m["value"]))
		}
	}
	if len(want) > 0 {
		missing := make([]string, 0, len(want))
		for v := range want {
			missing = append(missing, v)
		}
		sort.Strings(missing)
		return fmt.Errorf("%s: no cluster with value %s", path, strings.Join(missing, ", "))
	}
	delete(galaxy, "values")
	return write(w, galaxy, kept)
}

// write prints the galaxy's fields in key order and the clusters last, so
// the short description reads before the long list.
func write(w io.Writer, fields map[string]any, clusters []any) error {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("{\n")
	for _, k := range append(keys, "values") {
		v := any(clusters)
		if k != "values" {
			v = fields[k]
		}
		kb, _ := json.Marshal(k)
		vb, err := marshal(v)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "  %s: %s", kb, vb)
		if k != "values" {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("}\n")
	_, err := w.Write(b.Bytes())
	return err
}

// marshal indents v as a field of the top-level object, without HTML escapes.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("  ", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
