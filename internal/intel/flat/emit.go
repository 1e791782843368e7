package flat

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// record is one indicator as a reader found it, before labelling.
type record struct {
	line   int64
	typ    intel.ValueType
	value  string // normalised
	port   int
	desc   string
	labels []string
	refs   []intel.ExternalRef
	// source names who asserted the value (Zeek meta.source, a CSV source
	// column); --source wins over it.
	source     string
	confidence int // -1 when the record states none
	validFrom  time.Time
	validUntil time.Time
	modified   time.Time
	context    bool // for context only, not detection (Zeek whitelist, MISP to_ids=0)
	raw        json.RawMessage
}

// emitter turns records into labelled objects for one file, keeping the
// per-file state: which shared objects (marking, actor, sources) have been
// sent, which indicator ids have been seen, and the counts.
type emitter struct {
	ctx      context.Context
	sink     intel.Sink
	name     string
	opt      intel.Options
	fallback string // pattern type of values with no STIX pattern

	stats    intel.Stats
	started  bool
	markings []string
	actorID  string
	sourceID string            // identity of opt.Source
	sources  map[string]string // lower-case source name → identity id, sent
	seen     map[[16]byte]struct{}
	nInd     int
}

func newEmitter(ctx context.Context, sink intel.Sink, name string, opt intel.Options, fallback string) (*emitter, error) {
	if opt.Confidence < -1 || opt.Confidence > 100 {
		return nil, fmt.Errorf("%s: confidence %d: want 0-100 (or -1 for unset)", name, opt.Confidence)
	}
	if opt.Type != intel.UnknownType {
		if _, err := intel.ParseValueType(string(opt.Type)); err != nil {
			return nil, fmt.Errorf("%s: --type: %w", name, err)
		}
	}
	if opt.TLP != "" {
		if _, err := intel.TLPMarking(opt.TLP); err != nil {
			return nil, fmt.Errorf("%s: --tlp: %w", name, err)
		}
	}
	return &emitter{ctx: ctx, sink: sink, name: name, opt: opt, fallback: fallback,
		sources: map[string]string{}, seen: map[[16]byte]struct{}{}}, nil
}

// put sends one object and counts it.
func (e *emitter) put(o *intel.Object) error {
	if err := e.sink.Put(e.ctx, o); err != nil {
		return fmt.Errorf("%s: store %s %s: %w", e.name, o.Type, o.ID, err)
	}
	e.stats.Count(o.Type)
	return nil
}

// start sends the objects every indicator of the file refers to: the TLP
// marking, the actor and the --source identity. It runs at the first
// indicator, so a file without one adds nothing.
func (e *emitter) start() error {
	e.started = true
	if e.opt.TLP != "" {
		m, err := intel.TLPMarking(e.opt.TLP)
		if err != nil {
			return fmt.Errorf("%s: --tlp: %w", e.name, err)
		}
		if err := e.put(m); err != nil {
			return err
		}
		e.markings = []string{m.ID}
	}
	if name := strings.TrimSpace(e.opt.Actor); name != "" {
		e.actorID = intel.DeriveID(intel.TypeIntrusionSet, "name", strings.ToLower(name))
		if err := e.put(&intel.Object{
			ID: e.actorID, Type: intel.TypeIntrusionSet, SpecVersion: "2.1",
			Name: name, Confidence: -1, Actor: &intel.ActorSpec{},
		}); err != nil {
			return err
		}
	}
	if name := strings.TrimSpace(e.opt.Source); name != "" {
		id, err := e.identity(name)
		if err != nil {
			return err
		}
		e.sourceID = id
	}
	return nil
}

// identity returns the id of the identity object naming a source, sending
// it the first time the file mentions it. Identities are not marked with
// the file's TLP: they are shared by every file that names the source.
func (e *emitter) identity(name string) (string, error) {
	key := strings.ToLower(name)
	if id, ok := e.sources[key]; ok {
		return id, nil
	}
	id := intel.DeriveID(intel.TypeIdentity, "name", key)
	e.sources[key] = id
	return id, e.put(&intel.Object{ID: id, Type: intel.TypeIdentity, SpecVersion: "2.1", Name: name, Confidence: -1})
}

// skip counts one bad record.
func (e *emitter) skip(re *intel.RecordError) { e.stats.Skip(re) }

// emit labels r and sends it as an indicator (plus its "indicates"
// relationship to --actor). A value seen before in the same file is not
// sent again.
func (e *emitter) emit(r *record) error {
	if !e.started {
		if err := e.start(); err != nil {
			return err
		}
	}
	var id string
	if r.port != 0 {
		id = intel.DeriveID(intel.TypeIndicator, string(r.typ), r.value, strconv.Itoa(r.port))
	} else {
		id = intel.DeriveID(intel.TypeIndicator, string(r.typ), r.value)
	}
	if k, ok := idKey(id); ok {
		if _, dup := e.seen[k]; dup {
			return nil
		}
		e.seen[k] = struct{}{}
	}
	obs := intel.Observable{Type: r.typ, Value: r.value, Port: r.port}
	spec := &intel.IndicatorSpec{PatternType: "stix", Pattern: obs.STIXPattern(),
		Observables: []intel.Observable{obs}, ValidFrom: r.validFrom, ValidUntil: r.validUntil, Context: r.context}
	if spec.Pattern == "" {
		spec.PatternType, spec.Pattern = e.fallback, r.value
	}
	conf := r.confidence
	if e.opt.Confidence >= 0 {
		conf = e.opt.Confidence
	}
	createdBy := e.sourceID
	if createdBy == "" && r.source != "" {
		var err error
		if createdBy, err = e.identity(r.source); err != nil {
			return err
		}
	}
	created := r.validFrom
	modified := r.modified
	if modified.Before(created) {
		modified = created
	}
	o := &intel.Object{
		ID: id, Type: intel.TypeIndicator, SpecVersion: "2.1", Name: r.value,
		Description: r.desc, Created: created, Modified: modified, Confidence: conf,
		Labels: r.labels, ExternalRefs: r.refs, Markings: e.markings[:len(e.markings):len(e.markings)],
		CreatedBy: createdBy, Raw: r.raw, Indicator: spec,
	}
	if err := e.put(o); err != nil {
		return err
	}
	e.nInd++
	e.stats.Network++ // every flat type is something network telemetry shows
	if e.actorID != "" {
		rel := &intel.Object{
			ID: intel.DeriveID(intel.TypeRelationship, "indicates", id, e.actorID), Type: intel.TypeRelationship,
			SpecVersion: "2.1", Created: created, Modified: modified, Confidence: conf,
			Markings: o.Markings, CreatedBy: createdBy,
			Relationship: &intel.RelationshipSpec{Type: "indicates", SourceRef: id, TargetRef: e.actorID},
		}
		if err := e.put(rel); err != nil {
			return err
		}
	}
	return nil
}

// idKey turns a derived id into a compact map key (its 128 bits).
func idKey(id string) ([16]byte, bool) {
	var k [16]byte
	i := strings.Index(id, "--")
	if i < 0 || len(id)-i-2 != 36 {
		return k, false
	}
	u := id[i+2:]
	var buf [32]byte
	n := 0
	for j := 0; j < len(u); j++ {
		if u[j] != '-' {
			if n == 32 {
				return k, false
			}
			buf[n] = u[j]
			n++
		}
	}
	if n != 32 {
		return k, false
	}
	if _, err := hex.Decode(k[:], buf[:]); err != nil {
		return k, false
	}
	return k, true
}

// finish closes the file: it rejects files that were not this format after
// all, and returns the counts.
func (e *emitter) finish() (intel.Stats, error) {
	if e.nInd == 0 && e.stats.Skipped > 0 {
		return e.stats, fmt.Errorf("%s: no indicator read, %d bad records (first: %v)", e.name, e.stats.Skipped, e.stats.Errors[0])
	}
	if e.stats.Skipped >= mostlyBadMin && e.stats.Skipped > mostlyBadRatio*e.nInd {
		return e.stats, fmt.Errorf("%s: %d bad records against %d indicators: not this format? (first: %v)",
			e.name, e.stats.Skipped, e.nInd, e.stats.Errors[0])
	}
	return e.stats, nil
}
