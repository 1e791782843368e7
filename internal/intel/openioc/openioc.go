// Package openioc reads OpenIOC 1.0 and 1.1 documents (Mandiant/FireEye
// indicators of compromise) into the intel model. The whole logic tree is
// kept: each branch of the top-level OR becomes one indicator; branches
// that network telemetry can evaluate get a STIX pattern with the same
// logic (and plain observables when they are a single "is" condition),
// branches that need host data are kept and counted as host-only. The
// document's metadata becomes a report, its author an identity, its
// threatgroup and family links an intrusion set and malware that the
// indicators indicate. XML is read without DTDs or entity expansion, with
// bounded size and depth.
package openioc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// Namespaces of the two OpenIOC versions.
const (
	Namespace10 = "http://schemas.mandiant.com/2010/ioc"
	Namespace11 = "http://openioc.org/schemas/OpenIOC_1.1"
)

// Defaults for the limits of Importer.
const (
	DefaultMaxBytes = 64 << 20
	DefaultMaxDepth = 256
)

// Importer reads OpenIOC documents. The zero value uses the default limits.
type Importer struct {
	MaxBytes int64 // a larger document fails (DefaultMaxBytes when 0)
	MaxDepth int   // deeper element nesting fails (DefaultMaxDepth when 0)
}

// Name implements intel.Importer.
func (Importer) Name() string { return "openioc" }

// Sniff recognises either OpenIOC namespace, or an .ioc file whose root is
// <ioc> or <OpenIOC>.
func (Importer) Sniff(head []byte, name string) bool {
	if bytes.Contains(head, []byte("schemas.mandiant.com/2010/ioc")) || bytes.Contains(head, []byte("openioc.org/schemas/OpenIOC_1.1")) {
		return true
	}
	return strings.HasSuffix(strings.ToLower(name), ".ioc") &&
		(bytes.Contains(head, []byte("<ioc")) || bytes.Contains(head, []byte("<OpenIOC")))
}

// document is what an OpenIOC file says besides its logic.
type document struct {
	version      string
	id           string
	lastModified time.Time
	authored     time.Time
	shortDesc    string
	desc         string
	author       string
	keywords     string
	links        []link
	roots        []*element // the Indicator elements of definition / criteria
	params       []param
}

type link struct {
	Rel   string `json:"rel"`
	Href  string `json:"href,omitempty"`
	Title string `json:"title,omitempty"`
	Text  string `json:"text,omitempty"`
}

type param struct {
	RefID string `json:"ref_id"`
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
	Type  string `json:"type,omitempty"`
}

// Import reads one OpenIOC document. A document that is not well-formed
// XML, has a DOCTYPE, is too large or too deep, or is not OpenIOC fails
// whole; an IndicatorItem with an unknown term or condition is skipped and
// reported with its line, and takes down the AND it belongs to.
func (imp Importer) Import(ctx context.Context, r io.Reader, name string, opt intel.Options, sink intel.Sink) (intel.Stats, error) {
	var st intel.Stats
	maxBytes, maxDepth := imp.MaxBytes, imp.MaxDepth
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	h := sha256.New()
	root, err := parseXML(io.TeeReader(r, h), maxBytes, maxDepth)
	if err != nil {
		return st, fmt.Errorf("openioc %s: %w", name, err)
	}
	doc, err := readDocument(root)
	if err != nil {
		return st, fmt.Errorf("openioc %s: %w", name, err)
	}
	if doc.id == "" { // no id: the content names the document
		doc.id = "sha256:" + hex.EncodeToString(h.Sum(nil))
	}
	e := &emitter{ctx: ctx, name: name, opt: opt, sink: sink, st: &st, doc: doc}
	if err := e.run(); err != nil {
		return st, fmt.Errorf("openioc %s: %w", name, err)
	}
	return st, nil
}

func readDocument(root *element) (*document, error) {
	doc := &document{id: strings.TrimSpace(root.attr("id"))}
	meta := root
	switch {
	case root.name == "ioc" && (root.space == Namespace10 || root.space == ""):
		doc.version = "1.0"
		if def := root.child("definition"); def != nil {
			doc.roots = indicatorChildren(def)
		}
	case root.name == "OpenIOC" && (root.space == Namespace11 || root.space == ""):
		doc.version = "1.1"
		if m := root.child("metadata"); m != nil {
			meta = m
		}
		if c := root.child("criteria"); c != nil {
			doc.roots = indicatorChildren(c)
		}
		if ps := root.child("parameters"); ps != nil {
			for _, p := range ps.children {
				if p.name != "param" {
					continue
				}
				pr := param{RefID: p.attr("ref-id"), Name: p.attr("name")}
				if v := p.child("value"); v != nil {
					pr.Value, pr.Type = v.textTrim(), v.attr("type")
				}
				doc.params = append(doc.params, pr)
			}
		}
	default:
		return nil, fmt.Errorf("line %d: root element <%s> (namespace %q) is not OpenIOC 1.0 <ioc> or 1.1 <OpenIOC>", root.line, root.name, root.space)
	}
	if doc.roots == nil {
		return nil, fmt.Errorf("line %d: no %s section with Indicator elements", root.line, map[string]string{"1.0": "definition", "1.1": "criteria"}[doc.version])
	}
	doc.lastModified = parseTime(root.attr("last-modified"))
	if t := parseTime(root.attr("published-date")); doc.lastModified.IsZero() {
		doc.lastModified = t
	}
	for _, c := range meta.children {
		switch c.name {
		case "short_description":
			doc.shortDesc = c.textTrim()
		case "description":
			doc.desc = c.textTrim()
		case "keywords":
			doc.keywords = c.textTrim()
		case "authored_by":
			doc.author = c.textTrim()
		case "authored_date":
			doc.authored = parseTime(c.textTrim())
		case "links":
			for _, l := range c.children {
				if l.name == "link" {
					doc.links = append(doc.links, link{Rel: strings.TrimSpace(l.attr("rel")), Href: l.attr("href"), Title: l.attr("title"), Text: l.textTrim()})
				}
			}
		}
	}
	return doc, nil
}

func indicatorChildren(e *element) []*element {
	out := []*element{}
	for _, c := range e.children {
		if c.name == "Indicator" {
			out = append(out, c)
		}
	}
	return out
}

func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// emitter turns one document into objects.
type emitter struct {
	ctx  context.Context
	name string
	opt  intel.Options
	sink intel.Sink
	st   *intel.Stats
	doc  *document

	created, modified time.Time
	markings          []string
	createdBy         string
	targets           []string // actor and malware ids every indicator indicates
	actors, malware   []string
	labels            []string
	refs              []intel.ExternalRef
}

func (e *emitter) put(o *intel.Object) error {
	if e.opt.Confidence >= 0 && o.Confidence < 0 && o.Type != intel.TypeMarkingDef {
		o.Confidence = e.opt.Confidence
	}
	e.st.Count(o.Type)
	return e.sink.Put(e.ctx, o)
}

func (e *emitter) base(typ, id string) *intel.Object {
	return &intel.Object{ID: id, Type: typ, SpecVersion: "2.1", Created: e.created, Modified: e.modified,
		Confidence: -1, Markings: e.markings, CreatedBy: e.createdBy}
}

func (e *emitter) run() error {
	d := e.doc
	e.created, e.modified = d.authored, d.lastModified
	if e.created.IsZero() {
		e.created = e.modified
	}
	if e.modified.IsZero() || e.modified.Before(e.created) {
		e.modified = e.created
	}
	if e.opt.TLP != "" {
		m, err := intel.TLPMarking(e.opt.TLP)
		if err != nil {
			return err
		}
		if err := e.put(m); err != nil {
			return err
		}
		e.markings = []string{m.ID}
	}
	if d.author != "" {
		e.createdBy = intel.DeriveID(intel.TypeIdentity, "openioc", strings.ToLower(d.author))
		idn := e.base(intel.TypeIdentity, e.createdBy)
		idn.Name, idn.CreatedBy = d.author, ""
		idn.Raw = mustJSON(map[string]any{"authored_by": d.author})
		if err := e.put(idn); err != nil {
			return err
		}
	}
	e.refs = []intel.ExternalRef{{SourceName: "openioc", ExternalID: d.id, Description: d.shortDesc}}
	for _, kw := range strings.FieldsFunc(d.keywords, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\t' }) {
		e.labels = append(e.labels, "keyword:"+kw)
	}
	actorNames := []string{}
	for _, l := range d.links {
		val := l.Text
		if val == "" {
			val = l.Title
		}
		switch strings.ToLower(l.Rel) {
		case "threatgroup":
			if val != "" {
				actorNames = append(actorNames, val)
			}
		case "family":
			if val != "" {
				id, err := e.malwareObject(val)
				if err != nil {
					return err
				}
				e.malware = append(e.malware, id)
			}
		case "link", "report", "reference":
			e.refs = append(e.refs, intel.ExternalRef{SourceName: "openioc-link", URL: l.Href, Description: val})
		default:
			if val != "" && l.Rel != "" {
				e.labels = append(e.labels, strings.ToLower(l.Rel)+":"+val)
			}
		}
	}
	if e.opt.Actor != "" {
		actorNames = append(actorNames, e.opt.Actor)
	}
	for _, a := range actorNames {
		id, err := e.actorObject(a)
		if err != nil {
			return err
		}
		e.actors = append(e.actors, id)
	}
	e.targets = append(append([]string{}, e.actors...), e.malware...)
	// The actor uses the malware the document describes.
	for _, a := range e.actors {
		for _, m := range e.malware {
			if err := e.relationship("uses", a, m); err != nil {
				return err
			}
		}
	}

	var b builder
	var parts []*node
	for _, r := range d.roots {
		if n := b.indicator(r); n != nil {
			parts = disjuncts(n, parts)
		}
	}
	for _, te := range b.errs {
		e.st.Skip(&intel.RecordError{File: e.name, Line: int64(te.line), Err: te.err})
	}
	var refs []string
	netItems, hostItems := 0, 0
	for i, p := range parts {
		if err := e.ctx.Err(); err != nil {
			return err
		}
		count(p, &netItems, &hostItems)
		o, err := e.indicator(p, i)
		if err != nil {
			e.st.Skip(&intel.RecordError{File: e.name, Line: int64(p.line), Err: err})
			continue
		}
		if err := e.put(o); err != nil {
			return err
		}
		if o.Indicator.HostOnly {
			e.st.HostOnly++
		} else {
			e.st.Network++
		}
		refs = append(refs, o.ID)
		for _, t := range e.targets {
			if err := e.relationship("indicates", o.ID, t); err != nil {
				return err
			}
		}
	}
	return e.report(refs, netItems, hostItems)
}

func (e *emitter) relationship(typ, src, dst string) error {
	o := e.base(intel.TypeRelationship, intel.DeriveID(intel.TypeRelationship, typ, src, dst))
	o.Relationship = &intel.RelationshipSpec{Type: typ, SourceRef: src, TargetRef: dst}
	o.Raw = mustJSON(map[string]string{"relationship_type": typ, "source_ref": src, "target_ref": dst, "source": "openioc " + e.doc.id})
	return e.put(o)
}

// ActorKey is the form of an actor name that derived ids are made from:
// lower case, letters and digits only, so "APT 28" and "apt28" agree.
func ActorKey(name string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 0x7f {
			sb.WriteRune(r)
		}
	}
	if sb.Len() == 0 {
		return strings.TrimSpace(name)
	}
	return sb.String()
}

// ActorID is the id an OpenIOC threatgroup link gives its actor.
func ActorID(name string) string {
	return intel.DeriveID(intel.TypeIntrusionSet, "openioc", ActorKey(name))
}

func (e *emitter) actorObject(name string) (string, error) {
	name = strings.TrimSpace(name)
	o := e.base(intel.TypeIntrusionSet, ActorID(name))
	o.Name = name
	o.Aliases = []string{name}
	o.Actor = &intel.ActorSpec{}
	o.ExternalRefs = []intel.ExternalRef{{SourceName: "openioc", ExternalID: e.doc.id, Description: "threatgroup link of " + e.doc.shortDesc}}
	o.Raw = mustJSON(map[string]string{"threatgroup": name, "openioc_id": e.doc.id})
	// The actor's own record does not change with each document: keep the
	// document's dates out of it so that re-imports agree.
	o.Created, o.Modified, o.Markings = time.Time{}, time.Time{}, e.markings
	return o.ID, e.put(o)
}

func (e *emitter) malwareObject(name string) (string, error) {
	name = strings.TrimSpace(name)
	o := e.base(intel.TypeMalware, intel.DeriveID(intel.TypeMalware, "openioc", ActorKey(name)))
	o.Name = name
	o.Created, o.Modified = time.Time{}, time.Time{}
	o.Raw = mustJSON(map[string]string{"family": name, "openioc_id": e.doc.id})
	return o.ID, e.put(o)
}

var spaces = regexp.MustCompile(`\s+`)

// indicator makes the indicator of one branch of the top-level OR.
func (e *emitter) indicator(p *node, index int) (*intel.Object, error) {
	key := p.id
	if key == "" {
		key = fmt.Sprintf("#%d", index)
	}
	o := e.base(intel.TypeIndicator, intel.DeriveID(intel.TypeIndicator, "openioc", e.doc.id, key))
	summary := spaces.ReplaceAllString(text(p), " ")
	if len(summary) > 200 {
		summary = summary[:200] + "…"
	}
	o.Name = summary
	if e.doc.shortDesc != "" {
		o.Name = e.doc.shortDesc + ": " + summary
	}
	o.Description = e.doc.desc
	o.Labels = e.labels
	o.ExternalRefs = e.refs
	spec := &intel.IndicatorSpec{ValidFrom: e.created}
	net, pruned := prune(p)
	switch {
	case net == nil:
		spec.PatternType, spec.Pattern, spec.HostOnly = "openioc", text(p), true
	case net.it != nil && !pruned:
		if ob, ok := observable(net.it); ok {
			spec.PatternType, spec.Pattern = "stix", ob.STIXPattern()
			spec.Observables = []intel.Observable{ob}
			break
		}
		if net.it.condition == "is" && !net.it.negate && net.it.term.obs != "" {
			return nil, fmt.Errorf("IndicatorItem %s: %s %q is not a valid %s; skipped", p.id, net.it.search, net.it.content, net.it.term.obs)
		}
		spec.PatternType, spec.Pattern = "stix", stixPattern(net)
	default:
		spec.PatternType, spec.Pattern = "stix", stixPattern(net)
	}
	if pruned && net != nil {
		o.Description = strings.TrimSpace(o.Description + "\n\nOnly the network-evaluable branches of this logic are in the pattern; the host-only branches are kept in the OpenIOC logic.")
	}
	o.Indicator = spec
	var params []param
	ids := map[string]bool{}
	collectIDs(p, ids)
	for _, pr := range e.doc.params {
		if ids[pr.RefID] {
			params = append(params, pr)
		}
	}
	raw := map[string]any{
		"openioc":  toJSON(p),
		"document": e.docMeta(),
	}
	if pruned && net != nil {
		raw["network_pattern_omits_host_branches"] = true
	}
	if len(params) > 0 {
		raw["parameters"] = params
	}
	o.Raw = mustJSON(raw)
	return o, nil
}

func collectIDs(n *node, ids map[string]bool) {
	if n.id != "" {
		ids[n.id] = true
	}
	for _, c := range n.children {
		collectIDs(c, ids)
	}
}

func (e *emitter) docMeta() map[string]any {
	d := e.doc
	m := map[string]any{"id": d.id, "version": d.version}
	add := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	add("short_description", d.shortDesc)
	add("authored_by", d.author)
	add("keywords", d.keywords)
	if !d.authored.IsZero() {
		m["authored_date"] = d.authored.Format(time.RFC3339)
	}
	if !d.lastModified.IsZero() {
		m["last_modified"] = d.lastModified.Format(time.RFC3339)
	}
	if len(d.links) > 0 {
		m["links"] = d.links
	}
	return m
}

// report records the document itself: its metadata, the whole logic as
// written, and the objects read from it.
func (e *emitter) report(refs []string, netItems, hostItems int) error {
	d := e.doc
	o := e.base(intel.TypeReport, intel.DeriveID(intel.TypeReport, "openioc", d.id))
	o.Name = d.shortDesc
	if o.Name == "" {
		o.Name = "OpenIOC " + d.id
	}
	o.Description, o.Labels, o.ExternalRefs = d.desc, e.labels, e.refs
	logic := make([]*rawNode, 0, len(d.roots))
	for _, r := range d.roots {
		logic = append(logic, rawTree(r))
	}
	all := append(append(append([]string{}, refs...), e.actors...), e.malware...)
	sort.Strings(all)
	meta := e.docMeta()
	meta["description"] = d.desc
	raw := map[string]any{
		"openioc":     logic,
		"document":    meta,
		"object_refs": all,
		"items":       map[string]int{"network": netItems, "host_only": hostItems},
	}
	if len(d.params) > 0 {
		raw["parameters"] = d.params
	}
	o.Raw = mustJSON(raw)
	return e.put(o)
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain maps and strings are marshalled here
	}
	return b
}
