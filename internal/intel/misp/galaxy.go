package misp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// actorGalaxies are the galaxy types whose clusters are adversaries.
var actorGalaxies = map[string]bool{
	"threat-actor": true, "mitre-intrusion-set": true, "mitre-enterprise-attack-intrusion-set": true,
	"mitre-mobile-attack-intrusion-set": true, "mitre-pre-attack-intrusion-set": true,
	"microsoft-activity-group": true,
}

// malwareGalaxies and toolGalaxies are read as malware and tools.
var malwareGalaxies = map[string]bool{
	"malpedia": true, "mitre-malware": true, "mitre-enterprise-attack-malware": true, "ransomware": true,
	"rat": true, "backdoor": true, "banker": true, "stealer": true, "botnet": true, "android": true,
	"exploit-kit": true,
}
var toolGalaxies = map[string]bool{"tool": true, "mitre-tool": true, "mitre-enterprise-attack-tool": true}

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

var attackGroupID = regexp.MustCompile(`^G\d{4}$`)
var attackGroupURL = regexp.MustCompile(`attack\.mitre\.org/groups/(G\d{4})`)

// metaStrings reads a meta value that is a string or a list of strings.
func metaStrings(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	var s string
	if json.Unmarshal(raw, &s) == nil && s != "" {
		return []string{s}
	}
	return nil
}

func metaString(raw json.RawMessage) string {
	if l := metaStrings(raw); len(l) > 0 {
		return l[0]
	}
	return ""
}

// clusterObject turns a galaxy cluster into an intrusion set (actor
// galaxies), malware or tool. Its id is the cluster's uuid, so the same
// cluster carried by an event and by the galaxy file is one object.
func clusterObject(galaxyType, galaxyName string, cl wireCluster, raw json.RawMessage) *intel.Object {
	typ := intel.TypeIntrusionSet
	switch {
	case malwareGalaxies[galaxyType]:
		typ = intel.TypeMalware
	case toolGalaxies[galaxyType]:
		typ = intel.TypeTool
	}
	o := &intel.Object{
		ID:   stixID(typ, cl.UUID, "galaxy", galaxyType, ActorKey(cl.Value)),
		Type: typ, SpecVersion: "2.1", Name: strings.TrimSpace(cl.Value), Description: cl.Description,
		Confidence: -1, Raw: raw,
	}
	tag := cl.TagName
	if tag == "" {
		tag = fmt.Sprintf("misp-galaxy:%s=%q", galaxyType, cl.Value)
	}
	o.Labels = []string{tag}
	o.ExternalRefs = []intel.ExternalRef{{SourceName: "misp-galaxy", ExternalID: strings.ToLower(cl.UUID), Description: galaxyName}}
	seen := map[string]bool{strings.ToLower(o.Name): true}
	attack := map[string]bool{}
	addAlias := func(a string) {
		a = strings.TrimSpace(a)
		if a == "" {
			return
		}
		if attackGroupID.MatchString(a) {
			attack[a] = true // an ATT&CK id is a reference, not a name
			return
		}
		if !seen[strings.ToLower(a)] {
			seen[strings.ToLower(a)] = true
			o.Aliases = append(o.Aliases, a)
		}
	}
	for _, s := range metaStrings(cl.Meta["synonyms"]) {
		addAlias(s)
	}
	// name-attribution lists "NAME:vendor-uuid": each NAME is what one
	// vendor calls the actor.
	for _, s := range metaStrings(cl.Meta["name-attribution"]) {
		if i := strings.LastIndexByte(s, ':'); i > 0 {
			s = s[:i]
		}
		addAlias(s)
	}
	if typ == intel.TypeIntrusionSet {
		for _, ext := range metaStrings(cl.Meta["external_id"]) {
			if attackGroupID.MatchString(ext) {
				attack[ext] = true
			}
		}
	}
	var refs []intel.ExternalRef
	for _, u := range metaStrings(cl.Meta["refs"]) {
		if m := attackGroupURL.FindStringSubmatch(u); m != nil {
			attack[m[1]] = true
		}
		refs = append(refs, intel.ExternalRef{SourceName: "misp-galaxy-ref", URL: u})
	}
	if typ == intel.TypeIntrusionSet {
		for _, id := range sortedKeys(attack) {
			o.ExternalRefs = append(o.ExternalRefs, intel.ExternalRef{SourceName: "mitre-attack", ExternalID: id, URL: "https://attack.mitre.org/groups/" + id + "/"})
		}
		a := &intel.ActorSpec{
			StateSponsor: metaString(cl.Meta["cfr-suspected-state-sponsor"]),
			Victims:      metaStrings(cl.Meta["cfr-suspected-victims"]),
		}
		if c := strings.ToUpper(strings.TrimSpace(metaString(cl.Meta["country"]))); len(c) == 2 {
			a.Country = c
		}
		a.TargetSectors = append(metaStrings(cl.Meta["cfr-target-category"]), metaStrings(cl.Meta["targeted-sector"])...)
		for _, mt := range append(metaStrings(cl.Meta["cfr-type-of-incident"]), metaStrings(cl.Meta["motive"])...) {
			a.Motivations = appendUnique(a.Motivations, strings.ToLower(strings.TrimSpace(mt)))
		}
		o.Actor = a
	}
	o.ExternalRefs = append(o.ExternalRefs, refs...)
	return o
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// GalaxyImporter reads a MISP galaxy cluster file (misp-galaxy
// clusters/*.json): the threat-actor galaxy becomes intrusion sets with
// aliases, country, suspected state sponsor, victims, sectors and
// references; malware and tool galaxies become malware and tools.
type GalaxyImporter struct {
	MaxBytes int64 // DefaultMaxBytes when 0
}

// Name implements intel.Importer.
func (GalaxyImporter) Name() string { return "misp-galaxy" }

// Sniff recognises a JSON object with "values" and "uuid" and "type" (and
// no "Event"): a galaxy cluster file.
func (GalaxyImporter) Sniff(head []byte, name string) bool {
	h := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(h) == 0 || h[0] != '{' || bytes.Contains(h, []byte(`"Event"`)) {
		return false
	}
	return bytes.Contains(h, []byte(`"values"`)) && bytes.Contains(h, []byte(`"uuid"`)) && bytes.Contains(h, []byte(`"type"`))
}

type clusterRecord struct {
	offset int64
	raw    json.RawMessage
}

// Import reads the clusters of a galaxy. A cluster that cannot be read is
// skipped and reported with its offset; a file that is not a galaxy fails.
func (g GalaxyImporter) Import(ctx context.Context, r io.Reader, name string, opt intel.Options, sink intel.Sink) (intel.Stats, error) {
	var st intel.Stats
	max := g.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	p := &parser{dec: json.NewDecoder(&limitReader{r: r, max: max})}
	p.dec.UseNumber()
	fail := func(err error) (intel.Stats, error) { return st, fmt.Errorf("misp-galaxy %s: %w", name, err) }
	if err := p.delim('{'); err != nil {
		return fail(err)
	}
	var galaxyType, galaxyName string
	var clusters []clusterRecord
	for p.dec.More() {
		key, err := p.key()
		if err != nil {
			return fail(err)
		}
		switch key {
		case "values":
			if err := p.records(func(off int64, raw json.RawMessage) {
				clusters = append(clusters, clusterRecord{off, raw})
			}); err != nil {
				return fail(err)
			}
			continue
		case "type":
			err = p.dec.Decode(&galaxyType)
		case "name":
			err = p.dec.Decode(&galaxyName)
		default:
			var skip json.RawMessage
			err = p.dec.Decode(&skip)
		}
		if err != nil {
			return fail(p.fail(err))
		}
	}
	if err := p.delim('}'); err != nil {
		return fail(err)
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return fail(p.fail(errors.New("data after the galaxy object")))
	}
	if galaxyType == "" {
		return fail(errors.New(`no "type": not a MISP galaxy cluster file`))
	}
	if !actorGalaxies[galaxyType] && !malwareGalaxies[galaxyType] && !toolGalaxies[galaxyType] {
		return fail(fmt.Errorf("galaxy type %q is not read (threat-actor, malware and tool galaxies are)", galaxyType))
	}
	c := newConverter(ctx, name, opt, sink, &st)
	if opt.TLP != "" {
		if _, err := intel.TLPMarking(opt.TLP); err != nil {
			return fail(err)
		}
	}
	byUUID := map[string]string{} // cluster uuid → object id, for "related"
	var objs []*intel.Object
	var related [][]wireRelated
	for _, cr := range clusters {
		var cl wireCluster
		if err := json.Unmarshal(cr.raw, &cl); err != nil {
			c.skip(cr.offset, fmt.Errorf("cluster: %w", err))
			continue
		}
		if strings.TrimSpace(cl.Value) == "" {
			c.skip(cr.offset, errors.New("cluster without a value"))
			continue
		}
		o := clusterObject(galaxyType, galaxyName, cl, cr.raw)
		byUUID[strings.ToLower(cl.UUID)] = o.ID
		objs = append(objs, o)
		related = append(related, cl.Related)
	}
	var marking []string
	if opt.TLP != "" {
		tm, _ := intel.TLPMarking(opt.TLP)
		if err := c.once(tm); err != nil {
			return st, err
		}
		marking = []string{tm.ID}
	}
	for i, o := range objs {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		o.Markings = marking
		if err := c.put(o); err != nil {
			return st, err
		}
		for _, rel := range related[i] {
			dst, ok := byUUID[strings.ToLower(rel.DestUUID)]
			if !ok || dst == o.ID {
				continue // clusters of other galaxies are not in this file
			}
			rt := relationshipType(rel.Type)
			ro := &intel.Object{ID: intel.DeriveID(intel.TypeRelationship, rt, o.ID, dst), Type: intel.TypeRelationship,
				SpecVersion: "2.1", Confidence: -1, Markings: marking,
				Relationship: &intel.RelationshipSpec{Type: rt, SourceRef: o.ID, TargetRef: dst},
				Raw:          mustJSON(map[string]string{"misp_relation": rel.Type, "dest-uuid": rel.DestUUID})}
			if err := c.put(ro); err != nil {
				return st, err
			}
		}
	}
	return st, nil
}

// relationshipType maps a galaxy relation to a STIX relationship type.
func relationshipType(t string) string {
	switch strings.ToLower(t) {
	case "uses", "targets", "attributed-to", "variant-of", "delivers", "drops", "downloads":
		return strings.ToLower(t)
	}
	return "related-to" // similar, overlaps, linked-to, associated-with, …
}
