package flat

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
	fallback string          // pattern type of values with no STIX pattern
	forced   intel.ValueType // --type, canonical

	stats    intel.Stats
	started  bool
	markings []string
	actorID  string
	sourceID string            // identity of opt.Source
	sources  map[string]string // source name, as written and lower-cased → identity id (sent)
	seen     map[[16]byte]struct{}
	nInd     int // indicators sent
	nRel     int // relationships sent
}

func newEmitter(ctx context.Context, sink intel.Sink, name string, opt intel.Options, fallback string) (*emitter, error) {
	if opt.Confidence < -1 || opt.Confidence > 100 {
		return nil, fmt.Errorf("%s: confidence %d: want 0-100 (or -1 for unset)", name, opt.Confidence)
	}
	var forced intel.ValueType
	if opt.Type != intel.UnknownType {
		t, err := intel.ParseValueType(string(opt.Type))
		if err != nil {
			return nil, fmt.Errorf("%s: --type: %w", name, err)
		}
		forced = t
	}
	if opt.TLP != "" {
		if _, err := tlpMarking(opt.TLP); err != nil {
			return nil, fmt.Errorf("%s: --tlp: %w", name, err)
		}
	}
	return &emitter{ctx: ctx, sink: sink, name: name, opt: opt, fallback: fallback, forced: forced,
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
		m, err := tlpMarking(e.opt.TLP)
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
	if id, ok := e.sources[name]; ok { // the name as written: most rows repeat it
		return id, nil
	}
	key := strings.ToLower(name)
	id, sent := e.sources[key]
	if !sent {
		id = intel.DeriveID(intel.TypeIdentity, "name", key)
		e.sources[key] = id
	}
	e.sources[name] = id
	if sent {
		return id, nil
	}
	return id, e.put(&intel.Object{ID: id, Type: intel.TypeIdentity, SpecVersion: "2.1", Name: name, Confidence: -1})
}

// skip counts one bad record.
func (e *emitter) skip(re *intel.RecordError) { e.stats.Skip(re) }

// emit labels r and sends it as an indicator (plus its "indicates"
// relationship to --actor). A value seen before in the same file is not
// sent again.
func (e *emitter) emit(r *record) error { return e.send(e.prepare(r)) }

// prepared is an indicator built as far as it can be without the file's
// state: everything but markings, creator and the --confidence override.
type prepared struct {
	blk        indicatorBlock // by value: one allocation per indicator
	key        [16]byte
	keyOK      bool
	source     string
	confidence int
}

// prepare does the per-value work that needs nothing but the emitter's
// fixed settings, so several goroutines may run it at once.
func (e *emitter) prepare(r *record) *prepared {
	p := &prepared{source: r.source, confidence: r.confidence}
	var id string
	if r.port != 0 {
		id = intel.DeriveID(intel.TypeIndicator, string(r.typ), r.value, strconv.Itoa(r.port))
	} else {
		id = intel.DeriveID(intel.TypeIndicator, string(r.typ), r.value)
	}
	p.key, p.keyOK = idKey(id)
	blk := &p.blk
	blk.obs[0] = intel.Observable{Type: r.typ, Value: r.value, Port: r.port}
	blk.spec = intel.IndicatorSpec{PatternType: "stix", Pattern: blk.obs[0].STIXPattern(),
		Observables: blk.obs[:], ValidFrom: r.validFrom, ValidUntil: r.validUntil, Context: r.context}
	if blk.spec.Pattern == "" {
		blk.spec.PatternType, blk.spec.Pattern = e.fallback, r.value
	}
	created, modified := r.validFrom, r.modified
	if modified.Before(created) {
		modified = created
	}
	blk.obj = intel.Object{
		ID: id, Type: intel.TypeIndicator, SpecVersion: "2.1", Name: r.value,
		Description: r.desc, Created: created, Modified: modified,
		Labels: r.labels, ExternalRefs: r.refs, Raw: r.raw, Indicator: &blk.spec,
	}
	return p
}

// send labels a prepared indicator and sends it, in file order.
func (e *emitter) send(p *prepared) error {
	if !e.started {
		if err := e.start(); err != nil {
			return err
		}
	}
	if p.keyOK {
		if _, dup := e.seen[p.key]; dup {
			return nil
		}
		e.seen[p.key] = struct{}{}
	}
	o := &p.blk.obj
	o.Confidence = p.confidence
	if e.opt.Confidence >= 0 {
		o.Confidence = e.opt.Confidence
	}
	o.CreatedBy = e.sourceID
	if o.CreatedBy == "" && p.source != "" {
		var err error
		if o.CreatedBy, err = e.identity(p.source); err != nil {
			return err
		}
	}
	o.Markings = e.markings[:len(e.markings):len(e.markings)]
	// indicators and relationships are counted in result: a map update per
	// object is measurable on million-line lists
	if err := e.sink.Put(e.ctx, o); err != nil {
		return fmt.Errorf("%s: store %s %s: %w", e.name, o.Type, o.ID, err)
	}
	e.nInd++
	e.stats.Network++ // every flat type is something network telemetry shows
	if e.actorID != "" {
		rel := &intel.Object{
			ID: intel.DeriveID(intel.TypeRelationship, "indicates", o.ID, e.actorID), Type: intel.TypeRelationship,
			SpecVersion: "2.1", Created: o.Created, Modified: o.Modified, Confidence: o.Confidence,
			Markings: o.Markings, CreatedBy: o.CreatedBy,
			Relationship: &intel.RelationshipSpec{Type: "indicates", SourceRef: o.ID, TargetRef: e.actorID},
		}
		if err := e.sink.Put(e.ctx, rel); err != nil {
			return fmt.Errorf("%s: store %s %s: %w", e.name, rel.Type, rel.ID, err)
		}
		e.nRel++
	}
	return nil
}

// indicatorBlock holds an indicator's three parts in one allocation.
type indicatorBlock struct {
	obj  intel.Object
	spec intel.IndicatorSpec
	obs  [1]intel.Observable
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

// result returns the counts so far, indicators and relationships included.
func (e *emitter) result() intel.Stats {
	st := e.stats
	if e.nInd+e.nRel > 0 {
		st.Objects = make(map[string]int, len(e.stats.Objects)+2)
		for k, v := range e.stats.Objects {
			st.Objects[k] = v
		}
		if e.nInd > 0 {
			st.Objects[intel.TypeIndicator] += e.nInd
		}
		if e.nRel > 0 {
			st.Objects[intel.TypeRelationship] += e.nRel
		}
	}
	return st
}

// finish closes the file: it rejects files that were not this format after
// all, and returns the counts.
func (e *emitter) finish() (intel.Stats, error) {
	if e.nInd == 0 && e.stats.Skipped > 0 {
		return e.result(), fmt.Errorf("%s: no indicator read, %d bad records (first: %v)", e.name, e.stats.Skipped, e.stats.Errors[0])
	}
	if e.stats.Skipped >= mostlyBadMin && e.stats.Skipped > mostlyBadRatio*e.nInd {
		return e.result(), fmt.Errorf("%s: %d bad records against %d indicators: not this format? (first: %v)",
			e.name, e.stats.Skipped, e.nInd, e.stats.Errors[0])
	}
	return e.result(), nil
}

// normalize reads v as type t, or detects its type when t is UnknownType.
// IPv4 and IPv6 count as one family here: "--type ip" (which names IPv4)
// must not reject an IPv6 address.
func normalize(t intel.ValueType, v string) (intel.ValueType, string, error) {
	if !freeText(t) {
		v = intel.Refang(v) // once here, not again in Detect and Normalize
	}
	if t == intel.UnknownType {
		if t = intel.Detect(v); t == intel.UnknownType {
			return t, "", &intel.ValueError{Field: "value", Value: v,
				Reason: "not a recognised indicator (IP, CIDR, domain, URL, MD5/SHA-1/SHA-256, e-mail); say what it is with --type"}
		}
	}
	if freeText(t) {
		// Normalize only trims free text, so refuse here what no log shows
		if !utf8.ValidString(v) {
			return t, "", &intel.ValueError{Field: string(t), Value: v, Reason: "not valid UTF-8"}
		}
		for i := 0; i < len(v); i++ {
			if v[i] < 0x20 && v[i] != '\t' || v[i] == 0x7f {
				return t, "", &intel.ValueError{Field: string(t), Value: v, Reason: "contains a control character"}
			}
		}
	}
	n, err := intel.Normalize(t, v)
	if err != nil && (t == intel.IPv4 || t == intel.IPv6) {
		other := intel.IPv6
		if t == intel.IPv6 {
			other = intel.IPv4
		}
		if n2, err2 := intel.Normalize(other, v); err2 == nil {
			return other, n2, nil
		}
	}
	if err != nil {
		return t, "", err
	}
	return t, n, nil
}

// tlpMarking reads --tlp: a level (clear, white, green, amber, amber+strict,
// red; "amber-strict" and "amber_strict" also mean amber+strict) optionally
// followed by "/1.0" or "/2.0" to choose the TLP version, and returns the
// official marking-definition.
func tlpMarking(s string) (*intel.Object, error) {
	level, version := strings.TrimSpace(s), ""
	if i := strings.IndexByte(level, '/'); i >= 0 {
		level, version = level[:i], strings.TrimPrefix(strings.ToLower(level[i+1:]), "v")
	}
	l := strings.ToLower(level)
	if strings.HasPrefix(l, "tlp-") {
		l = "tlp:" + l[4:]
	}
	switch strings.TrimPrefix(l, "tlp:") {
	case "amber-strict", "amber_strict", "amber strict":
		l = "amber+strict"
	}
	return intel.TLPMarkingVersion(l, version)
}

// freeText reports the types whose values are taken as written: they are
// not refanged ("(at)" in a user agent is text) and only trimmed.
func freeText(t intel.ValueType) bool {
	switch t {
	case intel.FileName, intel.UserName, intel.Software, intel.UserAgent, intel.EmailSubj, intel.URIPath:
		return true
	}
	return false
}
