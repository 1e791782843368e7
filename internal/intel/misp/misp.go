// Package misp reads MISP data into the intel model: events in the MISP
// core format (single events, REST search results, arrays of events),
// MISP feed directories (manifest.json, one file per event, hashes.csv),
// and galaxy cluster files (the threat-actor galaxy above all). Each
// attribute becomes an indicator: a detection indicator when to_ids is set
// and its type is one network telemetry can see, context otherwise; tlp:
// tags and distribution levels become markings; threat-actor galaxy
// clusters and tags become actors that the event's indicators indicate.
package misp

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// DefaultMaxBytes bounds one MISP JSON file.
const DefaultMaxBytes = 1 << 30

// Importer reads MISP core-format event files.
type Importer struct {
	MaxBytes int64 // a larger file fails (DefaultMaxBytes when 0)
}

// Name implements intel.Importer.
func (Importer) Name() string { return "misp" }

// Sniff recognises {"Event": …}, {"response": [{"Event": …}]} and arrays of
// events.
func (Importer) Sniff(head []byte, name string) bool {
	h := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(h) == 0 || (h[0] != '{' && h[0] != '[') {
		return false
	}
	if bytes.Contains(h, []byte(`"Event"`)) {
		return true
	}
	// A bare event: MISP's own keys.
	return bytes.Contains(h, []byte(`"info"`)) && (bytes.Contains(h, []byte(`"Attribute"`)) || bytes.Contains(h, []byte(`"threat_level_id"`)))
}

// Import reads every event in r. A file that is not MISP JSON fails whole
// (nothing is emitted); an attribute that cannot be read, has an unknown
// type or a value invalid for its type is skipped and reported with its
// byte offset.
func (imp Importer) Import(ctx context.Context, r io.Reader, name string, opt intel.Options, sink intel.Sink) (intel.Stats, error) {
	var st intel.Stats
	max := imp.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	events, err := parseDocument(r, max)
	if err != nil {
		return st, fmt.Errorf("misp %s: %w", name, err)
	}
	if opt.TLP != "" {
		if _, err := intel.TLPMarking(opt.TLP); err != nil {
			return st, fmt.Errorf("misp %s: %w", name, err)
		}
	}
	c := newConverter(ctx, name, opt, sink, &st)
	for _, ev := range events {
		if err := c.convert(ev); err != nil {
			return st, fmt.Errorf("misp %s: %w", name, err)
		}
	}
	return st, nil
}
