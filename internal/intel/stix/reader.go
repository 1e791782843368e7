// Package stix reads STIX 2.1 bundles (and STIX 2.0 where compatible) into
// the intel model, streaming object by object so that a bundle of any size is
// decoded once and never held whole in memory. Every object is kept verbatim
// in Object.Raw, custom properties and x- objects included.
package stix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// MaxObjectSize bounds one STIX object; a larger one fails the file.
const MaxObjectSize = 64 << 20

// ObservablesFunc extracts the simple observables of a STIX pattern (nil,
// false when the pattern needs the evaluator). The CLI wires it to the
// pattern package so that this reader does not depend on it.
type ObservablesFunc func(pattern string) ([]intel.Observable, bool, error)

// Importer reads STIX bundles.
type Importer struct {
	// Observables, when set, fills IndicatorSpec.Observables of STIX
	// indicators and rejects indicators whose pattern does not parse.
	Observables ObservablesFunc
}

// Name implements intel.Importer.
func (Importer) Name() string { return "stix" }

// stixID matches a STIX identifier ("indicator--8e2e2d2b-…") in JSON.
var stixID = regexp.MustCompile(`"[a-z][a-z0-9-]*--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-`)

// Sniff recognises JSON that holds a "type" and STIX identifiers.
func (Importer) Sniff(head []byte, name string) bool {
	h := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(h) == 0 || (h[0] != '{' && h[0] != '[') {
		return false
	}
	return bytes.Contains(h, []byte(`"type"`)) && stixID.Match(h)
}

// limitReader fails when more than max bytes are read since the last reset,
// so one enormous JSON value cannot exhaust memory.
type limitReader struct {
	r   io.Reader
	n   int64
	max int64
}

var errObjectTooLarge = fmt.Errorf("a single STIX object is larger than %d MiB", MaxObjectSize>>20)

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n > l.max {
		return 0, errObjectTooLarge
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

// Import reads r into sink. A structurally broken document fails the file;
// a well-formed object that is not valid STIX is skipped and reported.
func (imp Importer) Import(ctx context.Context, r io.Reader, name string, opt intel.Options, sink intel.Sink) (intel.Stats, error) {
	var st intel.Stats
	lr := &limitReader{r: r, max: MaxObjectSize}
	dec := json.NewDecoder(lr)
	dec.UseNumber()
	fail := func(err error) (intel.Stats, error) {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			err = errors.New("unexpected end of input (truncated JSON?)")
		}
		return st, fmt.Errorf("stix %s: offset %d: %w", name, intel.JSONErrorOffset(dec, err), err)
	}
	handle := func(raw json.RawMessage, bundleSpec string, offset int64) error {
		lr.n = 0
		if err := ctx.Err(); err != nil {
			return err
		}
		o, err := imp.decodeObject(raw, bundleSpec)
		if err != nil {
			st.Skip(&intel.RecordError{File: name, Offset: offset, Err: err})
			return nil
		}
		applyOptions(o, opt)
		st.Count(o.Type)
		if o.Indicator != nil {
			if o.Indicator.HostOnly {
				st.HostOnly++
			} else {
				st.Network++
			}
		}
		return sink.Put(ctx, o)
	}

	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return st, fmt.Errorf("stix %s: empty input", name)
		}
		return fail(err)
	}
	switch tok {
	case json.Delim('['): // a bare array of objects
		for dec.More() {
			off := dec.InputOffset()
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return fail(err)
			}
			if err := handle(raw, "", off); err != nil {
				return st, err
			}
		}
		if _, err := dec.Token(); err != nil {
			return fail(err)
		}
	case json.Delim('{'):
		t := topLevel{dec: dec, lr: lr, handle: handle, top: map[string]json.RawMessage{}}
		if err := t.read(); err != nil {
			if errors.Is(err, errHandled) {
				return st, t.err
			}
			return fail(err)
		}
	default:
		return fail(fmt.Errorf("not a STIX document: starts with %v", tok))
	}
	if _, err := dec.Token(); err != io.EOF {
		return fail(errors.New("trailing data after the STIX document"))
	}
	return st, nil
}

func jsonString(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// wire is the subset of STIX properties the model indexes; everything else
// stays in Raw.
type wire struct {
	Type               string                 `json:"type"`
	ID                 string                 `json:"id"`
	SpecVersion        string                 `json:"spec_version"`
	Created            string                 `json:"created"`
	Modified           string                 `json:"modified"`
	Name               string                 `json:"name"`
	Description        string                 `json:"description"`
	Aliases            []string               `json:"aliases"`
	XMitreAliases      []string               `json:"x_mitre_aliases"`
	Revoked            bool                   `json:"revoked"`
	Confidence         *json.Number           `json:"confidence"`
	Labels             []string               `json:"labels"`
	ExternalReferences []intel.ExternalRef    `json:"external_references"`
	ObjectMarkingRefs  []string               `json:"object_marking_refs"`
	CreatedByRef       string                 `json:"created_by_ref"`
	KillChainPhases    []intel.KillChainPhase `json:"kill_chain_phases"`

	Pattern        string `json:"pattern"`
	PatternType    string `json:"pattern_type"`
	PatternVersion string `json:"pattern_version"`
	ValidFrom      string `json:"valid_from"`
	ValidUntil     string `json:"valid_until"`

	RelationshipType string `json:"relationship_type"`
	SourceRef        string `json:"source_ref"`
	TargetRef        string `json:"target_ref"`
	StartTime        string `json:"start_time"`
	StopTime         string `json:"stop_time"`

	PrimaryMotivation    string   `json:"primary_motivation"`
	SecondaryMotivations []string `json:"secondary_motivations"`
	Sophistication       string   `json:"sophistication"`
	ResourceLevel        string   `json:"resource_level"`
	Goals                []string `json:"goals"`
	Roles                []string `json:"roles"`
	Country              string   `json:"country"`

	DefinitionType string                     `json:"definition_type"`
	Definition     map[string]json.RawMessage `json:"definition"`
	Extensions     map[string]json.RawMessage `json:"extensions"`

	SightingOfRef    string       `json:"sighting_of_ref"`
	ObservedDataRefs []string     `json:"observed_data_refs"`
	WhereSightedRefs []string     `json:"where_sighted_refs"`
	Count            *json.Number `json:"count"`
	FirstSeen        string       `json:"first_seen"`
	LastSeen         string       `json:"last_seen"`
}

// TLP 2.0 marking-definition extension id (STIX 2.1 TLP 2.0 extension).
const tlp2Extension = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is not an RFC 3339 timestamp", field, s)
	}
	return t.UTC(), nil
}

func (imp Importer) decodeObject(raw json.RawMessage, bundleSpec string) (*intel.Object, error) {
	var w wire
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("object: %w", err)
	}
	if w.Type == "" {
		return nil, errors.New("object without \"type\"")
	}
	if !validID(w.ID, w.Type) {
		return nil, fmt.Errorf("%s: id %q is not \"%s--<uuid>\"", w.Type, w.ID, w.Type)
	}
	o := &intel.Object{
		ID: w.ID, Type: w.Type, SpecVersion: w.SpecVersion, Name: w.Name, Description: w.Description,
		Revoked: w.Revoked, Confidence: -1, Labels: w.Labels, ExternalRefs: w.ExternalReferences,
		Markings: w.ObjectMarkingRefs, CreatedBy: w.CreatedByRef, KillChain: w.KillChainPhases,
		Raw: append(json.RawMessage(nil), raw...),
	}
	if o.SpecVersion == "" {
		o.SpecVersion = bundleSpec
		if o.SpecVersion == "" {
			o.SpecVersion = "2.0"
		}
	}
	o.Aliases = append(append([]string(nil), w.Aliases...), w.XMitreAliases...)
	var err error
	if o.Created, err = parseTime("created", w.Created); err != nil {
		return nil, err
	}
	if o.Modified, err = parseTime("modified", w.Modified); err != nil {
		return nil, err
	}
	if o.Modified.IsZero() {
		o.Modified = o.Created
	}
	if w.Confidence != nil {
		c, err := w.Confidence.Int64()
		if err != nil || c < 0 || c > 100 {
			return nil, fmt.Errorf("%s: confidence %s is not an integer 0-100", w.ID, w.Confidence)
		}
		o.Confidence = int(c)
	}
	switch w.Type {
	case intel.TypeIndicator:
		if w.Pattern == "" {
			return nil, fmt.Errorf("%s: indicator without a pattern", w.ID)
		}
		spec := &intel.IndicatorSpec{PatternType: w.PatternType, Pattern: w.Pattern}
		if spec.PatternType == "" {
			spec.PatternType = "stix" // STIX 2.0 has only STIX patterns
		}
		if spec.ValidFrom, err = parseTime("valid_from", w.ValidFrom); err != nil {
			return nil, err
		}
		if spec.ValidUntil, err = parseTime("valid_until", w.ValidUntil); err != nil {
			return nil, err
		}
		if spec.PatternType == "stix" && imp.Observables != nil {
			obs, ok, err := imp.Observables(w.Pattern)
			if err != nil {
				return nil, fmt.Errorf("%s: pattern: %w", w.ID, err)
			}
			if ok {
				spec.Observables = obs
			}
		}
		o.Indicator = spec
	case intel.TypeRelationship:
		if w.RelationshipType == "" || w.SourceRef == "" || w.TargetRef == "" {
			return nil, fmt.Errorf("%s: relationship needs relationship_type, source_ref and target_ref", w.ID)
		}
		rs := &intel.RelationshipSpec{Type: w.RelationshipType, SourceRef: w.SourceRef, TargetRef: w.TargetRef}
		if rs.StartTime, err = parseTime("start_time", w.StartTime); err != nil {
			return nil, err
		}
		if rs.StopTime, err = parseTime("stop_time", w.StopTime); err != nil {
			return nil, err
		}
		o.Relationship = rs
	case intel.TypeIntrusionSet, intel.TypeThreatActor:
		a := &intel.ActorSpec{Sophistication: w.Sophistication, ResourceLevel: w.ResourceLevel,
			Goals: w.Goals, Roles: w.Roles, Country: strings.ToUpper(w.Country)}
		if w.PrimaryMotivation != "" {
			a.Motivations = append(a.Motivations, w.PrimaryMotivation)
		}
		a.Motivations = append(a.Motivations, w.SecondaryMotivations...)
		o.Actor = a
	case intel.TypeMarkingDef:
		o.Marking = decodeMarking(&w)
		if o.Name == "" && o.Marking != nil && o.Marking.TLP != "" {
			o.Name = "TLP:" + strings.ToUpper(o.Marking.TLP)
		}
	case intel.TypeSighting:
		if w.SightingOfRef == "" {
			return nil, fmt.Errorf("%s: sighting without sighting_of_ref", w.ID)
		}
		s := &intel.SightingSpec{SightingOfRef: w.SightingOfRef, ObservedDataRefs: w.ObservedDataRefs, WhereSightedRefs: w.WhereSightedRefs}
		if w.Count != nil {
			c, _ := w.Count.Int64()
			s.Count = int(c)
		}
		if s.FirstSeen, err = parseTime("first_seen", w.FirstSeen); err != nil {
			return nil, err
		}
		if s.LastSeen, err = parseTime("last_seen", w.LastSeen); err != nil {
			return nil, err
		}
		o.Sighting = s
	}
	return o, nil
}

func decodeMarking(w *wire) *intel.MarkingSpec {
	m := &intel.MarkingSpec{DefinitionType: w.DefinitionType}
	switch w.DefinitionType {
	case "tlp":
		m.TLP = strings.ToLower(jsonString(w.Definition["tlp"]))
		m.TLPVersion = "1.0"
	case "statement":
		m.Statement = jsonString(w.Definition["statement"])
	}
	if ext, ok := w.Extensions[tlp2Extension]; ok {
		m.DefinitionType = "tlp"
		m.TLPVersion = "2.0"
		// TLP 2.0 markings carry the level in their name: "TLP:AMBER+STRICT".
		m.TLP = strings.ToLower(strings.TrimPrefix(strings.ToUpper(w.Name), "TLP:"))
		_ = ext
	}
	return m
}

// validID checks "type--uuid" (any UUID version; STIX 2.0 ids are accepted too).
func validID(id, typ string) bool {
	if !strings.HasPrefix(id, typ+"--") {
		return false
	}
	u := id[len(typ)+2:]
	if len(u) != 36 {
		return false
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// applyOptions adds the import-time labels a user gave to what the file says.
func applyOptions(o *intel.Object, opt intel.Options) {
	if opt.Confidence >= 0 && o.Confidence < 0 {
		o.Confidence = opt.Confidence
	}
}

// errHandled marks an error of the sink or the context, returned as it is
// rather than as a syntax error at an offset.
var errHandled = errors.New("handled")

// topLevel reads a document that starts with '{': a bundle, whose
// "objects" it streams, or a single object. Of a bundle it keeps only the
// members it needs, so that large custom members are not held; a bundle
// whose keys are sorted ("objects" before "type") is recognised by its
// "objects" array and streamed all the same.
type topLevel struct {
	dec      *json.Decoder
	lr       *limitReader
	handle   func(raw json.RawMessage, bundleSpec string, offset int64) error
	top      map[string]json.RawMessage
	held     int  // bytes of the members kept in top
	streamed bool // "objects" was streamed as a bundle's
	err      error
}

// bundleMembers are what a bundle's own members are needed for.
var bundleMembers = map[string]bool{"type": true, "id": true, "spec_version": true}

func (t *topLevel) read() error {
	for t.dec.More() {
		kt, err := t.dec.Token()
		if err != nil {
			return err
		}
		key, _ := kt.(string)
		if key == "objects" {
			if err := t.objects(); err != nil {
				return err
			}
			continue
		}
		if err := t.member(key); err != nil {
			return err
		}
	}
	if _, err := t.dec.Token(); err != nil {
		return err
	}
	return t.finish()
}

// bundle reports whether the document is, or is taken for, a bundle.
func (t *topLevel) bundle() bool {
	if typ := jsonString(t.top["type"]); typ != "" {
		return typ == "bundle"
	}
	id := jsonString(t.top["id"])
	return id == "" || strings.HasPrefix(id, "bundle--")
}

func (t *topLevel) member(key string) error {
	var v json.RawMessage
	if err := t.dec.Decode(&v); err != nil {
		return err
	}
	t.lr.n = 0
	if (t.streamed || jsonString(t.top["type"]) == "bundle") && !bundleMembers[key] {
		return nil // a bundle's own custom member
	}
	t.top[key] = v
	t.held += len(v)
	if t.held > MaxObjectSize {
		return errObjectTooLarge
	}
	if t.streamed || jsonString(t.top["type"]) == "bundle" {
		for k, m := range t.top { // kept before the type said bundle
			if !bundleMembers[k] {
				t.held -= len(m)
				delete(t.top, k)
			}
		}
	}
	return nil
}

func (t *topLevel) objects() error {
	tok, err := t.dec.Token()
	if err != nil {
		return err
	}
	if tok != json.Delim('[') {
		return errors.New(`"objects" is not an array`)
	}
	if !t.bundle() {
		return fmt.Errorf("top-level object of type %q holds \"objects\"; want a bundle", jsonString(t.top["type"]))
	}
	t.streamed = true
	for t.dec.More() {
		off := t.dec.InputOffset()
		var raw json.RawMessage
		if err := t.dec.Decode(&raw); err != nil {
			return err
		}
		if err := t.handle(raw, jsonString(t.top["spec_version"]), off); err != nil {
			t.err = err
			return errHandled
		}
	}
	_, err = t.dec.Token()
	return err
}

// finish checks what the members said and handles a single object.
func (t *topLevel) finish() error {
	typ := jsonString(t.top["type"])
	switch {
	case typ == "bundle":
		return nil
	case t.streamed:
		return fmt.Errorf("top-level object of type %q holds \"objects\"; want a bundle", typ)
	case typ == "":
		return errors.New("not a STIX bundle or object: no \"type\"")
	}
	raw, err := json.Marshal(t.top)
	if err != nil {
		return err
	}
	if err := t.handle(raw, "", 0); err != nil {
		t.err = err
		return errHandled
	}
	return nil
}
