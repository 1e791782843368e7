package misp

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/intel"
)

// FeedImporter reads MISP feed directories; it implements intel.DirImporter.
type FeedImporter struct {
	Importer Importer
}

// Name implements intel.DirImporter.
func (FeedImporter) Name() string { return "misp-feed" }

// IsDir reports whether dir holds a MISP feed (a manifest.json).
func (FeedImporter) IsDir(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "manifest.json"))
	return err == nil && !st.IsDir()
}

// ImportDir implements intel.DirImporter.
func (f FeedImporter) ImportDir(ctx context.Context, dir string, opt intel.Options, sink intel.Sink) (intel.Stats, error) {
	return f.Importer.importFeed(ctx, dir, opt, sink)
}

// ImportFeed reads a MISP feed directory: manifest.json lists the events,
// each in <uuid>.json; hashes.csv, when present, lists the MD5 of every
// attribute value (each part of a composite value) with its event's uuid,
// and is checked: an attribute whose value is not listed is skipped and
// reported, and so is a line of hashes.csv that no attribute matches. An
// event file that is missing, unreadable or not the event the manifest
// names is skipped and reported; a missing or broken manifest fails the feed.
func ImportFeed(ctx context.Context, dir string, opt intel.Options, sink intel.Sink) (intel.Stats, error) {
	return Importer{}.importFeed(ctx, dir, opt, sink)
}

// ErrHashMismatch marks feed records that disagree with hashes.csv.
var ErrHashMismatch = errors.New("hashes.csv mismatch")

type hashLine struct {
	line int64
	used bool
}

func (imp Importer) importFeed(ctx context.Context, dir string, opt intel.Options, sink intel.Sink) (intel.Stats, error) {
	var st intel.Stats
	manifestPath := filepath.Join(dir, "manifest.json")
	uuids, err := readManifest(manifestPath)
	if err != nil {
		return st, fmt.Errorf("misp feed %s: %w", dir, err)
	}
	if opt.TLP != "" {
		if _, err := intel.TLPMarking(opt.TLP); err != nil {
			return st, fmt.Errorf("misp feed %s: %w", dir, err)
		}
	}
	hashesPath := filepath.Join(dir, "hashes.csv")
	hashes, err := readHashes(hashesPath, &st)
	if err != nil {
		return st, fmt.Errorf("misp feed %s: %w", dir, err)
	}
	listed := map[string]bool{}
	for _, u := range uuids {
		listed[u] = true
	}
	max := imp.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	for _, u := range uuids {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		path := filepath.Join(dir, u+".json")
		events, err := readEventFile(path, max)
		if err != nil {
			st.Skip(&intel.RecordError{File: path, Err: err})
			continue
		}
		if len(events) != 1 || !strings.EqualFold(events[0].w.UUID, u) {
			st.Skip(&intel.RecordError{File: path, Err: fmt.Errorf("manifest.json lists event %s but the file holds %s", u, describe(events))})
			continue
		}
		c := newConverter(ctx, path, opt, sink, &st)
		if hashes != nil {
			evHashes := hashes[u]
			c.keep = func(ev *event, a *attrRecord) error {
				var missing []string
				for _, h := range valueHashes(a.w.Type, string(a.w.Value)) {
					if hl, ok := evHashes[h]; ok {
						hl.used = true
					} else {
						missing = append(missing, h)
					}
				}
				if len(missing) > 0 {
					return fmt.Errorf("%w: attribute %s (%s) has value MD5 %s, which hashes.csv does not list for event %s",
						ErrHashMismatch, a.w.UUID, a.w.Type, strings.Join(missing, ", "), u)
				}
				return nil
			}
		}
		if err := c.convert(events[0]); err != nil {
			return st, fmt.Errorf("misp feed %s: %w", path, err)
		}
	}
	if hashes != nil {
		type stale struct {
			line int64
			h, u string
		}
		var unused []stale
		for u, hs := range hashes {
			for h, hl := range hs {
				if !hl.used {
					unused = append(unused, stale{hl.line, h, u})
				}
			}
		}
		sort.Slice(unused, func(i, j int) bool { return unused[i].line < unused[j].line })
		for _, s := range unused {
			why := "no attribute of event " + s.u + " has this value"
			if !listed[s.u] {
				why = "event " + s.u + " is not in manifest.json"
			}
			st.Skip(&intel.RecordError{File: hashesPath, Line: s.line, Err: fmt.Errorf("%w: %s", ErrHashMismatch, why)})
		}
	}
	// Event files the manifest does not list are not part of the feed.
	entries, err := os.ReadDir(dir)
	if err == nil {
		for _, e := range entries {
			n := e.Name()
			if e.IsDir() || !strings.HasSuffix(n, ".json") || n == "manifest.json" {
				continue
			}
			if !listed[strings.ToLower(strings.TrimSuffix(n, ".json"))] {
				st.Skip(&intel.RecordError{File: filepath.Join(dir, n), Err: errors.New("not listed in manifest.json; not imported")})
			}
		}
	}
	return st, nil
}

func describe(events []*event) string {
	if len(events) != 1 {
		return fmt.Sprintf("%d events", len(events))
	}
	return "event " + events[0].w.UUID
}

func readEventFile(path string, max int64) ([]*event, error) {
	in, err := fileio.Open(path, fileio.DefaultLimits)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errors.New("listed in manifest.json but missing")
		}
		return nil, err
	}
	defer in.Close()
	return parseDocument(in.R, max)
}

// readManifest returns the event uuids of a feed, sorted.
func readManifest(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("not a MISP feed: %w", err)
	}
	defer f.Close()
	var m map[string]json.RawMessage
	dec := json.NewDecoder(&limitReader{r: f, max: 256 << 20})
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest.json: offset %d: %w", dec.InputOffset(), err)
	}
	uuids := make([]string, 0, len(m))
	for u := range m {
		if !uuidRE.MatchString(u) {
			return nil, fmt.Errorf("manifest.json: key %q is not an event uuid", u)
		}
		uuids = append(uuids, strings.ToLower(u))
	}
	sort.Strings(uuids)
	return uuids, nil
}

// readHashes reads hashes.csv ("md5,event-uuid" per line) into event uuid →
// MD5 → line. It returns nil when the feed has no hashes.csv.
func readHashes(path string, st *intel.Stats) (map[string]map[string]*hashLine, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]map[string]*hashLine{}
	lr := fileio.NewLineReader(bufio.NewReader(f), 4096)
	var n int64
	for {
		line, err := lr.Next()
		if err == io.EOF {
			break
		}
		n++
		if err != nil {
			if errors.Is(err, fileio.ErrLineTooLong) {
				st.Skip(&intel.RecordError{File: path, Line: n, Err: err})
				continue
			}
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		s := strings.TrimSpace(string(line))
		if s == "" {
			continue
		}
		h, u, ok := strings.Cut(s, ",")
		h, u = strings.ToLower(strings.TrimSpace(h)), strings.ToLower(strings.TrimSpace(u))
		if !ok || len(h) != 32 || !isHex(h) || !uuidRE.MatchString(u) {
			st.Skip(&intel.RecordError{File: path, Line: n, Err: fmt.Errorf("want \"md5,event-uuid\", got %q", s)})
			continue
		}
		if out[u] == nil {
			out[u] = map[string]*hashLine{}
		}
		if _, dup := out[u][h]; !dup {
			out[u][h] = &hashLine{line: n}
		}
	}
	return out, nil
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// valueHashes are the MD5s a MISP feed lists for an attribute value: one
// per part of a composite (|) value, as MISP's feed generator hashes them.
func valueHashes(typ, value string) []string {
	parts := []string{value}
	if strings.Contains(typ, "|") || typ == "malware-sample" {
		parts = strings.Split(value, "|")
	}
	out := make([]string, len(parts))
	for i, p := range parts {
		sum := md5.Sum([]byte(p))
		out[i] = hex.EncodeToString(sum[:])
	}
	return out
}
