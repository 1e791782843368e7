// Package warninglist reads MISP warninglists (lists of known-benign or
// shared values: public DNS resolvers, cloud ranges, top domains, sinkholes)
// and compiles them into an immutable Set that answers, fast and without
// allocating when nothing matches, which lists a value is on. Importing
// flags indicators that are themselves on a list; the matcher and the
// behaviour analytics use the Set to suppress sightings of allowlisted values.
package warninglist

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// MaxFileSize bounds one list.json; the largest MISP list is a few MiB.
const MaxFileSize = 64 << 20

// Match types a MISP warninglist can have.
const (
	TypeString    = "string"
	TypeSubstring = "substring"
	TypeHostname  = "hostname"
	TypeCIDR      = "cidr"
	TypeRegex     = "regex"
)

// Importer reads one MISP warninglist (list.json).
type Importer struct{}

// Name implements intel.Importer.
func (Importer) Name() string { return "misp-warninglist" }

// Sniff recognises a JSON object with a "list" array. MISP writes the keys
// sorted, so "name" and "type" come after the list and may lie beyond head:
// the file name list.json or a "matching_attributes" key decides then.
func (Importer) Sniff(head []byte, name string) bool {
	h := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(h) == 0 || h[0] != '{' || !bytes.Contains(h, []byte(`"list"`)) {
		return false
	}
	if bytes.Contains(h, []byte(`"Event"`)) || bytes.Contains(h, []byte(`"values"`)) {
		return false
	}
	base := name[strings.LastIndexAny(name, `/\`)+1:]
	return strings.HasPrefix(base, "list.json") ||
		bytes.Contains(h, []byte(`"matching_attributes"`)) ||
		(bytes.Contains(h, []byte(`"type"`)) && bytes.Contains(h, []byte(`"name"`)))
}

type rawEntry struct {
	value string
}

var errTooLarge = fmt.Errorf("file is larger than %d MiB", MaxFileSize>>20)

type limited struct {
	r io.Reader
	n int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.n > MaxFileSize {
		return 0, errTooLarge
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

// Import reads one list.json into sink as an intel.Warninglist. Entries that
// cannot be read for the list's type are skipped and reported; a file that
// is not a warninglist (no name, unknown type, broken JSON) fails whole.
func (Importer) Import(ctx context.Context, r io.Reader, name string, opt intel.Options, sink intel.Sink) (intel.Stats, error) {
	var st intel.Stats
	data, err := io.ReadAll(&limited{r: r})
	if err != nil {
		return st, fmt.Errorf("warninglist %s: %w", name, err)
	}
	w, entries, err := decode(data)
	if err != nil {
		return st, fmt.Errorf("warninglist %s: %w", name, err)
	}
	var offsets []int64 // found on the first bad entry
	offsetOf := func(i int) int64 {
		if offsets == nil {
			offsets = listOffsets(data)
		}
		if i < len(offsets) {
			return offsets[i]
		}
		return 0
	}
	if err := ctx.Err(); err != nil {
		return st, err
	}
	// Duplicates are kept as the list gives them; a Set ignores them.
	w.Entries = make([]string, 0, len(entries))
	for i, e := range entries {
		v, err := NormalizeEntry(w.MatchType, e.value)
		if err != nil {
			st.Skip(&intel.RecordError{File: name, Offset: offsetOf(i), Err: err})
			continue
		}
		w.Entries = append(w.Entries, v)
	}
	st.Count("warninglist")
	if err := sink.PutWarninglist(ctx, w); err != nil {
		return st, err
	}
	return st, nil
}

type wireList struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Type        string            `json:"type"`
	Category    string            `json:"category"`
	Attributes  []string          `json:"matching_attributes"`
	Version     json.Number       `json:"version"`
	List        []json.RawMessage `json:"list"`
}

// decode reads the list document. Entries get their byte offsets only when
// one of them needs reporting (offsets costs a second, token-level pass).
func decode(data []byte) (*intel.Warninglist, []rawEntry, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil, errors.New("empty input")
	}
	var wl wireList
	if err := json.Unmarshal(data, &wl); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, nil, fmt.Errorf("offset %d: %v", se.Offset, err)
		case errors.As(err, &te):
			return nil, nil, fmt.Errorf("offset %d: %q: %v", te.Offset, te.Field, err)
		}
		return nil, nil, err
	}
	if wl.Name == "" {
		return nil, nil, errors.New(`no "name": not a MISP warninglist`)
	}
	if wl.List == nil {
		return nil, nil, errors.New(`no "list": not a MISP warninglist`)
	}
	w := &intel.Warninglist{Name: wl.Name, Description: wl.Description, Category: wl.Category, Attributes: wl.Attributes}
	if v, err := wl.Version.Int64(); err == nil {
		w.Version = int(v)
	}
	w.MatchType = strings.ToLower(strings.TrimSpace(wl.Type))
	switch w.MatchType {
	case TypeString, TypeSubstring, TypeHostname, TypeCIDR, TypeRegex:
	case "":
		w.MatchType = TypeString // MISP's default
	default:
		return nil, nil, fmt.Errorf("list %q: unknown type %q (want string, substring, hostname, cidr or regex)", w.Name, wl.Type)
	}
	if w.Category == "" {
		w.Category = "false-positive" // MISP's default
	}
	entries := make([]rawEntry, len(wl.List))
	for i, raw := range wl.List {
		entries[i] = rawEntry{value: entryText(raw)}
	}
	return w, entries, nil
}

// entryText reads one list entry: a string, or a number kept as its text.
func entryText(raw json.RawMessage) string {
	if len(raw) >= 2 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// listOffsets finds the byte offset of every element of the top-level
// "list" array.
func listOffsets(data []byte) []int64 {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		if tok != "list" {
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return nil
			}
			continue
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
			return nil
		}
		var offs []int64
		for dec.More() {
			offs = append(offs, valueStart(dec))
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return offs
			}
		}
		return offs
	}
	return nil
}

// NormalizeEntry returns the form of one list entry that Set compares:
// lower case for string, substring and hostname lists (hostnames also lose
// a leading "*." or "." and a trailing dot), the canonical masked prefix for
// cidr lists (a bare address becomes a /32 or /128), and for regex lists the
// entry unchanged once it is known to compile.
func NormalizeEntry(matchType, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", errors.New("empty entry")
	}
	switch matchType {
	case TypeCIDR:
		s, err := intel.Normalize(intel.CIDR, v)
		if err != nil {
			return "", err
		}
		if _, err := netip.ParsePrefix(s); err != nil {
			return "", &intel.ValueError{Field: "cidr", Value: v, Reason: "not a CIDR prefix"}
		}
		return s, nil
	case TypeHostname:
		s := strings.ToLower(v)
		s = strings.TrimPrefix(s, "*.")
		s = strings.Trim(s, ".")
		if s == "" || strings.ContainsAny(s, " \t/") {
			return "", &intel.ValueError{Field: "hostname", Value: v, Reason: "not a host name"}
		}
		return s, nil
	case TypeRegex:
		if _, err := compileRegex(v); err != nil {
			return "", err
		}
		return v, nil
	default:
		return strings.ToLower(v), nil
	}
}

// valueStart returns the byte offset of the next JSON value: InputOffset
// stands before the comma and blanks that separate it from the last one.
func valueStart(dec *json.Decoder) int64 {
	off := dec.InputOffset()
	var buf [64]byte
	n, _ := dec.Buffered().Read(buf[:])
	for i := 0; i < n; i++ {
		switch buf[i] {
		case ' ', '\t', '\r', '\n', ',', ':':
			continue
		}
		return off + int64(i)
	}
	return off
}
