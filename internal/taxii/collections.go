package taxii

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Kinds of collection.
const (
	KindIntel    = "intel"    // the store's intelligence, optionally a subset
	KindFindings = "findings" // what whodunit found: sightings of indicators
	KindInbox    = "inbox"    // where partners POST; reads what was posted
)

// Collection is one TAXII collection and what it holds.
type Collection struct {
	ID          string `json:"id"` // a UUID; derived from the alias when empty
	Alias       string `json:"alias"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Kind        string `json:"kind,omitempty"` // intel when empty
	// Filters of an intel collection: objects asserted by one of these
	// sources, indicators of this actor, objects of these types.
	Sources []string `json:"sources,omitempty"`
	Actor   string   `json:"actor,omitempty"`
	Types   []string `json:"types,omitempty"`
}

// Writable reports whether keys may POST to the collection.
func (c Collection) Writable() bool { return c.Kind == KindInbox }

// CollectionID is the fixed UUID of a collection named alias: the same on
// every server, so a partner's configuration outlives a restart.
func CollectionID(alias string) string {
	h := sha256.Sum256([]byte("whodunit taxii collection\x00" + alias))
	h[6] = h[6]&0x0f | 0x50 // version 5 layout (name-based)
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// DefaultCollections are intel, findings and inbox.
func DefaultCollections() []Collection {
	return []Collection{
		{Alias: "intel", Kind: KindIntel, Title: "Intelligence",
			Description: "The current intelligence of this whodunit store: indicators, actors, malware, techniques, relationships, reports."},
		{Alias: "findings", Kind: KindFindings, Title: "Findings",
			Description: "What whodunit saw: STIX sightings of the indicators it matched in this organisation's telemetry."},
		{Alias: "inbox", Kind: KindInbox, Title: "Inbox",
			Description: "Send intelligence and sightings here; reading returns what keys posted."},
	}
}

// LoadCollections reads a JSON array of collections from path and adds
// them to the defaults.
func LoadCollections(path string) ([]Collection, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var extra []Collection
	if err := json.Unmarshal(data, &extra); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i := range extra {
		if extra[i].Kind == "" {
			extra[i].Kind = KindIntel
		}
	}
	cols := append(DefaultCollections(), extra...)
	if err := checkCollections(cols); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cols, nil
}

// checkCollections fills ids and refuses duplicates and unknown kinds.
func checkCollections(cols []Collection) error {
	seen := map[string]bool{}
	for i := range cols {
		c := &cols[i]
		if !validSegment(c.Alias) {
			return fmt.Errorf("collection %d: alias %q: want letters, digits, '-' or '_'", i+1, c.Alias)
		}
		if c.Kind == "" {
			c.Kind = KindIntel
		}
		if !slices.Contains([]string{KindIntel, KindFindings, KindInbox}, c.Kind) {
			return fmt.Errorf("collection %s: kind %q: want intel, findings or inbox", c.Alias, c.Kind)
		}
		if c.ID == "" {
			c.ID = CollectionID(c.Alias)
		}
		c.ID = strings.ToLower(c.ID)
		if !isUUID(c.ID) {
			return fmt.Errorf("collection %s: id %q is not a UUID", c.Alias, c.ID)
		}
		if c.Title == "" {
			c.Title = c.Alias
		}
		for _, k := range []string{c.ID, strings.ToLower(c.Alias)} {
			if seen[k] {
				return fmt.Errorf("collection %s: id or alias %q used twice", c.Alias, k)
			}
			seen[k] = true
		}
	}
	return nil
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
				return false
			}
		}
	}
	return true
}

// find returns the collection named by id or alias.
func (s *Server) find(name string) (Collection, bool) {
	for _, c := range s.cols {
		if c.ID == strings.ToLower(name) || strings.EqualFold(c.Alias, name) {
			return c, true
		}
	}
	return Collection{}, false
}
