package misp

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// Distribution levels of MISP events and attributes.
var distributions = map[string]string{
	"0": "Your organisation only",
	"1": "This community only",
	"2": "Connected communities",
	"3": "All communities",
	"4": "Sharing group",
}

// DistributionMarkingID is the id of the statement marking that records a
// MISP distribution level ("0"–"4"; for "4", the sharing group's uuid
// or name tells groups apart).
func DistributionMarkingID(level, sharingGroup string) string {
	if level == "4" && sharingGroup != "" {
		return intel.DeriveID(intel.TypeMarkingDef, "misp-distribution", level, sharingGroup)
	}
	return intel.DeriveID(intel.TypeMarkingDef, "misp-distribution", level)
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// stixID makes "type--uuid" from a MISP uuid, or derives a stable id from
// the parts when the uuid is missing or malformed.
func stixID(typ, uuid string, parts ...string) string {
	if uuidRE.MatchString(uuid) {
		return typ + "--" + strings.ToLower(uuid)
	}
	return intel.DeriveID(typ, append([]string{"misp"}, parts...)...)
}

// converter turns decoded events into objects for one sink.
type converter struct {
	ctx  context.Context
	name string
	opt  intel.Options
	sink intel.Sink
	st   *intel.Stats
	sent map[string]bool // shared objects already sent in this import
	// keep, when set, decides per attribute whether it is imported (feed
	// hash verification); an error skips the attribute with that error.
	keep func(ev *event, a *attrRecord) error
}

func newConverter(ctx context.Context, name string, opt intel.Options, sink intel.Sink, st *intel.Stats) *converter {
	return &converter{ctx: ctx, name: name, opt: opt, sink: sink, st: st, sent: map[string]bool{}}
}

func (c *converter) put(o *intel.Object) error {
	if c.opt.Confidence >= 0 && o.Confidence < 0 && o.Type != intel.TypeMarkingDef {
		o.Confidence = c.opt.Confidence
	}
	c.st.Count(o.Type)
	if o.Indicator != nil {
		switch {
		case o.Indicator.Context:
		case o.Indicator.HostOnly:
			c.st.HostOnly++
		default:
			c.st.Network++
		}
	}
	return c.sink.Put(c.ctx, o)
}

// once sends a shared object (marking, identity, actor) once per import.
func (c *converter) once(o *intel.Object) error {
	if c.sent[o.ID] {
		return nil
	}
	c.sent[o.ID] = true
	return c.put(o)
}

func (c *converter) skip(off int64, err error) {
	c.st.Skip(&intel.RecordError{File: c.name, Offset: off, Err: err})
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(`{}`)
	}
	return b
}

// marks are the markings and actors in force for an event or attribute.
type marks struct {
	tlp      string // marking id
	dist     string // marking id
	labels   []string
	actors   []string // actor ids
	tagNames map[string]bool
}

func (m marks) ids() []string {
	var out []string
	if m.tlp != "" {
		out = append(out, m.tlp)
	}
	if m.dist != "" {
		out = append(out, m.dist)
	}
	return out
}

// tlpFromTag returns the TLP marking a tag names ("tlp:amber"), if any.
// MISP's tlp:white, green, amber and red are marked with the TLP 1.0 ids
// that STIX 2.1 predefines; tlp:clear and tlp:amber+strict exist only in
// TLP 2.0.
func tlpFromTag(name string) (*intel.Object, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	if !strings.HasPrefix(n, "tlp:") {
		return nil, false
	}
	level := strings.Trim(strings.TrimPrefix(n, "tlp:"), `"`)
	version := "1.0"
	if level == "clear" || level == "amber+strict" {
		version = "2.0"
	}
	m, err := intel.TLPMarkingVersion(level, version)
	if err != nil {
		return nil, false // tlp:ex:chr and other local levels stay labels
	}
	return m, true
}

// distributionMarking returns the statement marking for a level.
func (c *converter) distributionMarking(level string, sg *wireSharingGroup) (string, error) {
	text, ok := distributions[level]
	if !ok {
		return "", nil
	}
	sgKey, stmt := "", "MISP distribution: "+text
	if level == "4" && sg != nil {
		sgKey = sg.UUID
		if sgKey == "" {
			sgKey = sg.Name
		}
		if sg.Name != "" {
			stmt += " (" + sg.Name + ")"
		}
	}
	id := DistributionMarkingID(level, sgKey)
	o := &intel.Object{ID: id, Type: intel.TypeMarkingDef, SpecVersion: "2.1", Name: stmt, Confidence: -1,
		Marking: &intel.MarkingSpec{DefinitionType: "statement", Statement: stmt}}
	o.Raw = mustJSON(map[string]any{"type": intel.TypeMarkingDef, "spec_version": "2.1", "id": id,
		"definition_type": "statement", "definition": map[string]string{"statement": stmt}, "misp_distribution": level})
	return id, c.once(o)
}

// actorTag reads misp-galaxy:threat-actor="APT 28" and the ATT&CK galaxy's
// misp-galaxy:mitre-intrusion-set="APT28 - G0007".
var actorTag = regexp.MustCompile(`^misp-galaxy:(threat-actor|mitre-intrusion-set|mitre-enterprise-attack-intrusion-set|microsoft-activity-group)="(.+)"$`)
var attackSuffix = regexp.MustCompile(`^(.*?)\s+-\s+(G\d{4})$`)

// clone copies m so that an attribute's tags do not leak into its event's.
func (m marks) clone() marks {
	out := m
	out.labels = append([]string(nil), m.labels...)
	out.actors = append([]string(nil), m.actors...)
	out.tagNames = make(map[string]bool, len(m.tagNames))
	for k := range m.tagNames {
		out.tagNames[k] = true
	}
	return out
}

// applyTags reads a tag list on top of the inherited marks.
func (c *converter) applyTags(m marks, tags []wireTag) (marks, error) {
	out := m.clone()
	for _, t := range tags {
		name := strings.TrimSpace(t.Name)
		if name == "" || out.tagNames[name] {
			continue
		}
		out.tagNames[name] = true
		if tm, ok := tlpFromTag(name); ok {
			if err := c.once(tm); err != nil {
				return out, err
			}
			out.tlp = tm.ID
			continue
		}
		if g := actorTag.FindStringSubmatch(name); g != nil {
			id, err := c.actorFromTag(g[1], g[2], name)
			if err != nil {
				return out, err
			}
			out.actors = appendUnique(out.actors, id)
		}
		out.labels = appendUnique(out.labels, name)
	}
	return out, nil
}

func appendUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// actorFromTag makes an actor from a galaxy tag when no cluster came with it.
func (c *converter) actorFromTag(galaxy, value, tag string) (string, error) {
	name, attack := value, ""
	if m := attackSuffix.FindStringSubmatch(value); m != nil {
		name, attack = m[1], m[2]
	}
	o := &intel.Object{ID: intel.DeriveID(intel.TypeIntrusionSet, "misp-galaxy", ActorKey(name)), Type: intel.TypeIntrusionSet,
		SpecVersion: "2.1", Name: name, Confidence: -1, Labels: []string{tag}, Actor: &intel.ActorSpec{}}
	if attack != "" {
		o.ExternalRefs = []intel.ExternalRef{{SourceName: "mitre-attack", ExternalID: attack, URL: "https://attack.mitre.org/groups/" + attack + "/"}}
	}
	o.Raw = mustJSON(map[string]string{"tag": tag, "galaxy": galaxy})
	return o.ID, c.once(o)
}

// applyGalaxies adds the actors of threat-actor galaxy clusters; other
// clusters become labels (their tag names).
func (c *converter) applyGalaxies(inherited marks, gs []wireGalaxy) (marks, error) {
	m := inherited.clone()
	for _, g := range gs {
		for _, cl := range g.GalaxyCluster {
			typ := g.Type
			if typ == "" {
				typ = cl.Type
			}
			tag := cl.TagName
			if tag == "" && cl.Value != "" {
				tag = fmt.Sprintf("misp-galaxy:%s=%q", typ, cl.Value)
			}
			if actorGalaxies[typ] && cl.Value != "" {
				raw := mustJSON(cl)
				o := clusterObject(typ, g.Name, cl, raw)
				if err := c.once(o); err != nil {
					return m, err
				}
				m.actors = appendUnique(m.actors, o.ID)
			}
			if tag != "" {
				m.tagNames[tag] = true // the cluster stands for its tag
				m.labels = appendUnique(m.labels, tag)
			}
		}
	}
	return m, nil
}

// convert emits one event: its markings, organisation, actors, one
// indicator per attribute (object attributes included), "indicates"
// relationships to the event's actors, and a report for the event itself.
func (c *converter) convert(ev *event) error {
	w := &ev.w
	evUUID := strings.ToLower(w.UUID)
	created := parseDate(w.Date)
	modified := w.Timestamp.time()
	if created.IsZero() || !modified.IsZero() && modified.Before(created) {
		created = modified
	}
	if modified.IsZero() {
		modified = created
	}
	var createdBy string
	if org := w.Orgc; org != nil && (org.UUID != "" || org.Name != "") {
		createdBy = stixID(intel.TypeIdentity, org.UUID, "org", org.Name)
		idn := &intel.Object{ID: createdBy, Type: intel.TypeIdentity, SpecVersion: "2.1", Name: org.Name, Confidence: -1,
			Raw: mustJSON(map[string]any{"Orgc": org})}
		if err := c.once(idn); err != nil {
			return err
		}
	}
	var m marks
	var err error
	if m.dist, err = c.distributionMarking(string(w.Distribution), w.SharingGroup); err != nil {
		return err
	}
	if m, err = c.applyGalaxies(m, w.Galaxy); err != nil {
		return err
	}
	if m, err = c.applyTags(m, w.Tag); err != nil {
		return err
	}
	if m.tlp == "" && c.opt.TLP != "" {
		tm, err := intel.TLPMarking(c.opt.TLP)
		if err != nil {
			return err
		}
		if err := c.once(tm); err != nil {
			return err
		}
		m.tlp = tm.ID
	}
	if c.opt.Actor != "" {
		id, err := c.actorFromTag("option", c.opt.Actor, "")
		if err != nil {
			return err
		}
		m.actors = appendUnique(m.actors, id)
	}
	evRef := intel.ExternalRef{SourceName: "misp", ExternalID: evUUID, Description: w.Info}
	base := func(typ, id string) *intel.Object {
		return &intel.Object{ID: id, Type: typ, SpecVersion: "2.1", Created: created, Modified: modified,
			Confidence: -1, CreatedBy: createdBy}
	}
	var refs []string
	emitAttr := func(a *attrRecord, obj *objRecord, inherited marks) error {
		if a.err != nil {
			c.skip(a.offset, a.err)
			return nil
		}
		if c.keep != nil {
			if err := c.keep(ev, a); err != nil {
				c.skip(a.offset, err)
				return nil
			}
		}
		o, err := c.attribute(ev, a, obj, inherited, base)
		if err != nil {
			c.skip(a.offset, err)
			return nil
		}
		o.ExternalRefs = []intel.ExternalRef{evRef}
		if err := c.put(o.Object); err != nil {
			return err
		}
		refs = append(refs, o.ID)
		for _, actor := range o.actorIDs {
			r := base(intel.TypeRelationship, intel.DeriveID(intel.TypeRelationship, "indicates", o.ID, actor))
			r.Markings = o.Markings
			r.Relationship = &intel.RelationshipSpec{Type: "indicates", SourceRef: o.ID, TargetRef: actor}
			r.Raw = mustJSON(map[string]string{"relationship_type": "indicates", "source_ref": o.ID, "target_ref": actor, "misp_event": evUUID})
			if err := c.put(r); err != nil {
				return err
			}
		}
		return nil
	}
	for _, a := range ev.attrs {
		if err := c.ctx.Err(); err != nil {
			return err
		}
		if err := emitAttr(a, nil, m); err != nil {
			return err
		}
	}
	for _, obj := range ev.objects {
		if obj.err != nil {
			c.skip(obj.offset, obj.err)
			continue
		}
		om := m
		if d := string(obj.w.Distribution); d != "" && d != "5" {
			if om.dist, err = c.distributionMarking(d, obj.w.SharingGroup); err != nil {
				return err
			}
		}
		for _, a := range obj.attrs {
			if err := emitAttr(a, obj, om); err != nil {
				return err
			}
		}
	}
	// The event itself.
	rep := base(intel.TypeReport, stixID(intel.TypeReport, evUUID, "event", w.Info, w.Date))
	rep.Name = w.Info
	if rep.Name == "" {
		rep.Name = "MISP event " + evUUID
	}
	rep.Description = eventDescription(w)
	rep.Labels = m.labels
	rep.Markings = m.ids()
	rep.ExternalRefs = []intel.ExternalRef{evRef}
	sort.Strings(refs)
	rep.Raw = mustJSON(map[string]any{"misp_event": ev.meta, "object_refs": refs, "actor_refs": m.actors})
	return c.put(rep)
}

var threatLevels = map[string]string{"1": "high", "2": "medium", "3": "low", "4": "undefined"}
var analyses = map[string]string{"0": "initial", "1": "ongoing", "2": "completed"}

func eventDescription(w *wireEvent) string {
	var parts []string
	if w.Orgc != nil && w.Orgc.Name != "" {
		parts = append(parts, "MISP event by "+w.Orgc.Name)
	} else {
		parts = append(parts, "MISP event")
	}
	if tl := threatLevels[string(w.ThreatLevelID)]; tl != "" {
		parts = append(parts, "threat level "+tl)
	}
	if an := analyses[string(w.Analysis)]; an != "" {
		parts = append(parts, "analysis "+an)
	}
	return strings.Join(parts, ", ")
}

func parseDate(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02", time.RFC3339Nano, "2006-01-02T15:04:05.999999-0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// indicatorObject is an indicator with the actors it indicates.
type indicatorObject struct {
	*intel.Object
	actorIDs []string
}

// attribute makes the indicator of one attribute.
func (c *converter) attribute(ev *event, a *attrRecord, obj *objRecord, inherited marks, base func(string, string) *intel.Object) (*indicatorObject, error) {
	w := &a.w
	typ := strings.TrimSpace(w.Type)
	if typ == "" {
		return nil, fmt.Errorf("attribute %s has no type", w.UUID)
	}
	if !knownTypes[typ] {
		return nil, fmt.Errorf("attribute %s: unknown MISP attribute type %q; skipped", w.UUID, typ)
	}
	value := string(w.Value)
	m, err := c.applyGalaxies(inherited, w.Galaxy)
	if err != nil {
		return nil, err
	}
	if m, err = c.applyTags(m, w.Tag); err != nil {
		return nil, err
	}
	if d := string(w.Distribution); d != "" && d != "5" {
		if m.dist, err = c.distributionMarking(d, w.SharingGroup); err != nil {
			return nil, err
		}
	}
	o := base(intel.TypeIndicator, stixID(intel.TypeIndicator, w.UUID, ev.w.UUID, typ, value))
	if ts := w.Timestamp.time(); !ts.IsZero() {
		o.Modified = ts
		if ts.Before(o.Created) {
			o.Created = ts
		}
	}
	o.Name = value
	o.Description = w.Comment
	o.Revoked = bool(w.Deleted)
	o.Labels = append([]string{"misp-type:" + typ}, m.labels...)
	if w.Category != "" {
		o.Labels = append(o.Labels, "misp-category:"+w.Category)
	}
	o.Markings = m.ids()
	spec := &intel.IndicatorSpec{ValidFrom: o.Created}
	if t := parseDate(w.FirstSeen); !t.IsZero() {
		spec.ValidFrom = t
	}
	if t := parseDate(w.LastSeen); !t.IsZero() && t.After(spec.ValidFrom) {
		spec.ValidUntil = t
	}
	toIDS := bool(w.ToIDS)
	switch {
	case IsMapped(typ):
		mp, err := mapValue(typ, value)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", w.UUID, err)
		}
		spec.PatternType, spec.Pattern, spec.Observables = "stix", mp.pattern, mp.observables
		if mp.fileName != "" {
			o.Name = mp.fileName + " (" + mp.observables[0].Value + ")"
		}
		if typ == "stix2-pattern" && !stixIsNetwork(mp.pattern) {
			spec.HostOnly = true
		}
		spec.Context = !toIDS
	case hostTypes[typ] && toIDS:
		spec.PatternType, spec.Pattern, spec.HostOnly = "misp", value, true
	default: // kept as context: no detection logic for this type
		spec.PatternType, spec.Pattern, spec.Context = "misp", value, true
	}
	o.Indicator = spec
	raw := map[string]any{"misp_attribute": a.raw, "misp_event_uuid": strings.ToLower(ev.w.UUID)}
	if obj != nil {
		raw["misp_object"] = map[string]string{"uuid": obj.w.UUID, "name": obj.w.Name, "meta-category": obj.w.MetaCategory, "object_relation": w.ObjectRelation}
		o.Labels = append(o.Labels, "misp-object:"+obj.w.Name)
	}
	o.Raw = mustJSON(raw)
	return &indicatorObject{Object: o, actorIDs: m.actors}, nil
}
