package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
)

// MaxObservedValues bounds the SCOs one observed-data object refers to.
const MaxObservedValues = 50

// kv is one property of a STIX object, kept in the order written.
type kv struct {
	k string
	v any
}

// object is a STIX object with its properties in a fixed order, so that
// the same data always gives the same bytes.
type object []kv

func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := marshalNoEscape(p.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// add appends a property unless its value is empty.
func (o *object) add(k string, v any) {
	switch x := v.(type) {
	case string:
		if x == "" {
			return
		}
	case []string:
		if len(x) == 0 {
			return
		}
	case nil:
		return
	}
	*o = append(*o, kv{k, v})
}

// stixTime writes a STIX timestamp with millisecond precision.
func stixTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// stixExport collects the objects of a bundle.
type stixExport struct {
	d        *Data
	tlpID    string
	identity string
	now      time.Time
	objects  map[string]any // id → object or json.RawMessage
	skipped  []string
}

func (x *stixExport) put(id string, o any) {
	if _, ok := x.objects[id]; ok {
		return
	}
	x.objects[id] = o
}

// common starts an object we create: type, spec_version, id, created_by_ref,
// created and modified, and the TLP marking.
func (x *stixExport) common(typ, id string, created time.Time) object {
	if created.IsZero() || created.After(x.now) {
		created = x.now
	}
	o := object{{"type", typ}, {"spec_version", "2.1"}, {"id", id}}
	if typ != intel.TypeIdentity || id != x.identity {
		o.add("created_by_ref", x.identity)
	}
	o.add("created", stixTime(created))
	o.add("modified", stixTime(x.now))
	return o
}

func (x *stixExport) mark(o *object) { o.add("object_marking_refs", []string{x.tlpID}) }

// stixRaw returns an object's original STIX 2.1 JSON when it has one of
// the expected type and id.
func stixRaw(o *intel.Object) (json.RawMessage, bool) {
	if o == nil || len(o.Raw) == 0 {
		return nil, false
	}
	var head struct {
		Type        string `json:"type"`
		ID          string `json:"id"`
		SpecVersion string `json:"spec_version"`
	}
	if json.Unmarshal(o.Raw, &head) != nil || head.Type != o.Type || head.ID != o.ID || head.SpecVersion != "2.1" {
		return nil, false
	}
	return bytes.TrimSpace(o.Raw), true
}

// validSTIXID checks the shape type--uuid.
func validSTIXID(id, typ string) bool {
	if !strings.HasPrefix(id, typ+"--") || len(id) != len(typ)+2+36 {
		return false
	}
	u := id[len(typ)+2:]
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// RenderSTIX writes a STIX 2.1 bundle of the report: the reporting
// organisation's identity, the TLP 2.0 marking, a report, one campaign per
// campaign, the actors its hypotheses name with attributed-to relationships
// carrying the likelihood as confidence, every indicator seen (its original
// STIX when it came from STIX), and one sighting per campaign and indicator
// with its observed data. Ids are deterministic: the same data exports to
// the same ids.
func RenderSTIX(w io.Writer, d *Data) error {
	if err := d.Validate(); err != nil {
		return err
	}
	tlp, err := intel.TLPMarking(d.tlp())
	if err != nil {
		return fmt.Errorf("report: stix: %w", err)
	}
	doc := d.Doc
	x := &stixExport{d: d, tlpID: tlp.ID, now: doc.Generated.UTC(), objects: map[string]any{}}
	if x.now.IsZero() {
		return fmt.Errorf("report: stix: the document has no generation time")
	}
	x.identity = intel.DeriveID(intel.TypeIdentity, "whodunit-reporting-organisation", d.org())
	x.put(tlp.ID, json.RawMessage(tlp.Raw))

	id := x.common(intel.TypeIdentity, x.identity, x.now)
	id.add("name", d.org())
	id.add("identity_class", "organization")
	id.add("description", "The organisation whose telemetry whodunit analysed and that reports what it found.")
	x.mark(&id)
	x.put(x.identity, id)

	v := buildView(d, false)
	var campaignIDs []string
	for i := range doc.Campaigns {
		campaignIDs = append(campaignIDs, x.campaign(&doc.Campaigns[i], &v.Campaigns[i]))
	}
	x.uncorrelated()

	reportID := intel.DeriveID(intel.TypeReport, d.org(), stixTime(x.now), strings.Join(campaignIDs, ","))
	rep := x.common(intel.TypeReport, reportID, x.now)
	rep.add("name", v.Title)
	desc := v.Headline
	for _, c := range v.Campaigns[min(1, len(v.Campaigns)):] {
		desc += "\n" + c.Judgment
	}
	if len(x.skipped) > 0 {
		desc += fmt.Sprintf("\nNot expressible as STIX indicators and left out: %s.", strings.Join(x.skipped, ", "))
	}
	rep.add("description", desc)
	rep.add("report_types", []string{"threat-report"})
	rep.add("published", stixTime(x.now))
	var refs []string
	for oid := range x.objects {
		if !strings.HasPrefix(oid, intel.TypeMarkingDef+"--") && isDomainOrRelationship(oid) {
			refs = append(refs, oid)
		}
	}
	sort.Strings(refs)
	rep.add("object_refs", refs)
	rep.add("labels", []string{"whodunit"})
	x.mark(&rep)
	x.put(reportID, rep)
	return x.write(w, reportID)
}

// isDomainOrRelationship reports whether an id names an SDO or SRO (a
// report refers to those; SCOs hang off observed-data).
func isDomainOrRelationship(id string) bool {
	for _, p := range []string{"identity--", "campaign--", "note--", "intrusion-set--", "threat-actor--", "indicator--", "relationship--", "sighting--", "observed-data--"} {
		if strings.HasPrefix(id, p) {
			return true
		}
	}
	return false
}

// typeOrder fixes the order of object types in the bundle.
var typeOrder = []string{"marking-definition", "identity", "report", "campaign", "note", "intrusion-set", "threat-actor", "relationship", "indicator", "sighting", "observed-data"}

func (x *stixExport) write(w io.Writer, reportID string) error {
	ids := make([]string, 0, len(x.objects))
	for id := range x.objects {
		ids = append(ids, id)
	}
	rank := func(id string) int {
		t, _, _ := strings.Cut(id, "--")
		for i, o := range typeOrder {
			if o == t {
				return i
			}
		}
		return len(typeOrder) // SCOs last
	}
	sort.Slice(ids, func(i, j int) bool {
		ri, rj := rank(ids[i]), rank(ids[j])
		if ri != rj {
			return ri < rj
		}
		return ids[i] < ids[j]
	})
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "{\n  \"type\": \"bundle\",\n  \"id\": %q,\n  \"objects\": [\n", intel.DeriveID("bundle", reportID))
	for i, id := range ids {
		var b []byte
		switch o := x.objects[id].(type) {
		case json.RawMessage:
			b = o
		default:
			var err error
			if b, err = marshalNoEscape(o); err != nil {
				return fmt.Errorf("report: stix: %s: %w", id, err)
			}
		}
		bw.WriteString("    ")
		bw.Write(b)
		if i < len(ids)-1 {
			bw.WriteByte(',')
		}
		bw.WriteByte('\n')
	}
	bw.WriteString("  ]\n}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: stix: %w", err)
	}
	return nil
}

// campaign exports one campaign with its attribution, indicators and
// sightings, and returns the campaign's STIX id.
func (x *stixExport) campaign(c *Campaign, cv *campView) string {
	cid := intel.DeriveID(intel.TypeCampaign, c.ID)
	o := x.common(intel.TypeCampaign, cid, c.FirstSeen)
	o.add("name", "Campaign "+c.ID)
	desc := cv.Judgment
	if cv.Alternative != "" {
		desc += " " + cv.Alternative
	}
	desc += " " + cv.Offset
	o.add("description", desc)
	if !c.FirstSeen.IsZero() {
		o.add("first_seen", stixTime(c.FirstSeen))
		o.add("last_seen", stixTime(c.LastSeen))
	}
	o.add("external_references", []map[string]string{{"source_name": "whodunit", "external_id": c.ID}})
	x.mark(&o)
	x.put(cid, o)

	// attributed-to only the actor the estimate names; every hypothesis,
	// named or not, travels in a note on the campaign.
	a := &c.Attribution
	if a.Named && a.ActorID != "" {
		for _, h := range a.Hypotheses {
			if h.ID == a.ActorID {
				x.attributedTo(cid, c, h)
			}
		}
	}
	x.hypothesesNote(cid, c)

	// Indicators and sightings.
	byInd := map[string][]int{}
	var order []string
	for _, si := range x.d.sightingsOf(c) {
		s := &x.d.Sightings[si]
		if _, ok := byInd[s.IndicatorID]; !ok {
			order = append(order, s.IndicatorID)
		}
		byInd[s.IndicatorID] = append(byInd[s.IndicatorID], si)
	}
	sort.Strings(order)
	for _, indID := range order {
		sid := x.indicator(indID, &x.d.Sightings[byInd[indID][0]])
		if sid == "" {
			continue
		}
		rid := intel.DeriveID(intel.TypeRelationship, "indicates", sid, cid)
		r := x.common(intel.TypeRelationship, rid, c.FirstSeen)
		r.add("relationship_type", "indicates")
		r.add("source_ref", sid)
		r.add("target_ref", cid)
		x.mark(&r)
		x.put(rid, r)
		x.sighting(c.ID, sid, byInd[indID])
	}
	return cid
}

// attributedTo links a campaign to the actor it is attributed to.
func (x *stixExport) attributedTo(cid string, c *Campaign, h attribute.Hypothesis) {
	a := &c.Attribution
	actorID := x.actor(h)
	rid := intel.DeriveID(intel.TypeRelationship, "attributed-to", cid, actorID)
	r := x.common(intel.TypeRelationship, rid, c.FirstSeen)
	r.add("relationship_type", "attributed-to")
	r.add("description", fmt.Sprintf("%s: %s (likelihood %.2f); analytic confidence of the assessment: %s; %d independent line(s) of evidence.",
		h.Name, attribute.Words(h.Likelihood), h.Likelihood, orDash(a.Confidence), h.Independent))
	r.add("source_ref", cid)
	r.add("target_ref", actorID)
	r.add("confidence", int(math.Round(h.Likelihood*100)))
	x.mark(&r)
	x.put(rid, r)
}

// hypothesesNote states every hypothesis weighed for a campaign, so that
// a campaign attributed to no one still carries what was considered.
func (x *stixExport) hypothesesNote(cid string, c *Campaign) {
	a := &c.Attribution
	if len(a.Hypotheses) == 0 {
		return
	}
	var lines []string
	for _, h := range a.Hypotheses {
		lines = append(lines, fmt.Sprintf("%s: %s (likelihood %.2f, %d independent line(s))", h.Name, attribute.Words(h.Likelihood), h.Likelihood, h.Independent))
	}
	verdict := "attributed to " + a.Actor + ", " + a.Estimate
	if !a.Named {
		verdict = "not attributed (" + attribute.NotEnoughEvidence + "); leading hypothesis: " + a.Leading
	}
	nid := intel.DeriveID(intel.TypeNote, "hypotheses", cid)
	n := x.common(intel.TypeNote, nid, c.FirstSeen)
	n.add("abstract", "Campaign "+c.ID+": "+verdict)
	content := "Hypotheses weighed, most likely first:\n" + strings.Join(lines, "\n")
	if len(a.Reasons) > 0 {
		content += "\nReasons:\n" + strings.Join(a.Reasons, "\n")
	}
	n.add("content", content)
	n.add("authors", []string{x.d.org()})
	n.add("object_refs", []string{cid})
	x.mark(&n)
	x.put(nid, n)
}

// uncorrelated exports sightings that belong to no campaign.
func (x *stixExport) uncorrelated() {
	in := make([]bool, len(x.d.Sightings))
	for i := range x.d.Doc.Campaigns {
		for _, si := range x.d.sightingsOf(&x.d.Doc.Campaigns[i]) {
			in[si] = true
		}
	}
	byInd := map[string][]int{}
	var order []string
	for i := range x.d.Sightings {
		if in[i] {
			continue
		}
		id := x.d.Sightings[i].IndicatorID
		if _, ok := byInd[id]; !ok {
			order = append(order, id)
		}
		byInd[id] = append(byInd[id], i)
	}
	sort.Strings(order)
	for _, indID := range order {
		if sid := x.indicator(indID, &x.d.Sightings[byInd[indID][0]]); sid != "" {
			x.sighting("", sid, byInd[indID])
		}
	}
}

// actor exports the actor a hypothesis names and returns its STIX id.
func (x *stixExport) actor(h attribute.Hypothesis) string {
	obj := x.d.Actors[h.ID]
	if raw, ok := stixRaw(obj); ok && intel.IsActorType(obj.Type) {
		x.put(obj.ID, raw)
		return obj.ID
	}
	typ, id := intel.TypeIntrusionSet, h.ID
	if obj != nil && intel.IsActorType(obj.Type) {
		typ = obj.Type
	}
	if !validSTIXID(id, typ) {
		id = intel.DeriveID(typ, h.ID)
	}
	created := x.now
	name, aliases, desc := h.Name, h.Aliases, ""
	var refs []intel.ExternalRef
	if obj != nil {
		if !obj.Created.IsZero() {
			created = obj.Created
		}
		if obj.Name != "" {
			name = obj.Name
		}
		if len(obj.Aliases) > 0 {
			aliases = obj.Aliases
		}
		desc, refs = obj.Description, obj.ExternalRefs
	}
	if len(refs) == 0 && h.AttackID != "" {
		refs = []intel.ExternalRef{{SourceName: "mitre-attack", ExternalID: h.AttackID}}
	}
	o := x.common(typ, id, created)
	o.add("name", name)
	o.add("description", desc)
	o.add("aliases", aliases)
	if len(refs) > 0 {
		o.add("external_references", refs)
	}
	x.mark(&o)
	x.put(id, o)
	return id
}

// indicator exports an indicator and returns its STIX id, or "" when it
// cannot be expressed in STIX.
func (x *stixExport) indicator(indID string, first *match.Sighting) string {
	obj := x.d.Indicators[indID]
	if raw, ok := stixRaw(obj); ok && obj.Type == intel.TypeIndicator {
		x.put(obj.ID, raw)
		return obj.ID
	}
	var obs []intel.Observable
	pattern, patternType := "", "stix"
	if obj != nil && obj.Indicator != nil {
		obs = obj.Indicator.Observables
		if obj.Indicator.PatternType == "stix" {
			pattern = obj.Indicator.Pattern
		}
	}
	if len(obs) == 0 && obj == nil && first != nil {
		obs = []intel.Observable{{Type: first.Type, Value: first.Indicator}}
	}
	if pattern == "" {
		var parts []string
		for _, ob := range obs {
			if p := ob.STIXPattern(); p != "" {
				parts = append(parts, p)
			}
		}
		pattern = strings.Join(parts, " OR ")
	}
	if pattern == "" && obj != nil && obj.Indicator != nil && obj.Indicator.Pattern != "" {
		// Host-only logic (OpenIOC) keeps its own language.
		pattern, patternType = obj.Indicator.Pattern, obj.Indicator.PatternType
	}
	if pattern == "" {
		x.skipped = append(x.skipped, indID)
		return ""
	}
	id := indID
	if !validSTIXID(id, intel.TypeIndicator) {
		id = intel.DeriveID(intel.TypeIndicator, indID)
	}
	created := first.Time
	validFrom := time.Time{}
	name, desc := "", ""
	var labels []string
	conf := -1
	var refs []intel.ExternalRef
	var kc []intel.KillChainPhase
	if obj != nil {
		if !obj.Created.IsZero() {
			created = obj.Created
		}
		if obj.Indicator != nil {
			validFrom = obj.Indicator.ValidFrom
		}
		name, desc, labels, conf, refs, kc = obj.Name, obj.Description, obj.Labels, obj.Confidence, obj.ExternalRefs, obj.KillChain
	}
	if validFrom.IsZero() {
		validFrom = created
	}
	if name == "" && len(obs) > 0 {
		name = obs[0].Value
	}
	o := x.common(intel.TypeIndicator, id, created)
	o.add("name", name)
	o.add("description", desc)
	o.add("indicator_types", []string{"malicious-activity"})
	o.add("pattern", pattern)
	o.add("pattern_type", patternType)
	if patternType == "stix" {
		o.add("pattern_version", "2.1")
	}
	o.add("valid_from", stixTime(validFrom))
	if obj != nil && obj.Indicator != nil && !obj.Indicator.ValidUntil.IsZero() && obj.Indicator.ValidUntil.After(validFrom) {
		o.add("valid_until", stixTime(obj.Indicator.ValidUntil))
	}
	if len(kc) > 0 {
		o.add("kill_chain_phases", kc)
	}
	o.add("labels", labels)
	if conf >= 0 {
		o.add("confidence", conf)
	}
	if len(refs) > 0 {
		o.add("external_references", refs)
	}
	x.mark(&o)
	x.put(id, o)
	return id
}

// sighting exports one STIX sighting of an indicator in a campaign (""
// for sightings outside campaigns), with observed data of the values seen.
func (x *stixExport) sighting(campaignID, indicatorID string, idx []int) {
	first, last := x.d.Sightings[idx[0]].Time, x.d.Sightings[idx[0]].Time
	fields := map[string]bool{}
	seen := map[string]sco{}
	var scoIDs []string
	for _, si := range idx {
		s := &x.d.Sightings[si]
		if s.Time.Before(first) {
			first = s.Time
		}
		if s.Time.After(last) {
			last = s.Time
		}
		fields[s.Field] = true
		if len(scoIDs) < MaxObservedValues {
			if o, ok := scoFor(s.Type, s.Value); ok {
				if _, dup := seen[o.id]; !dup {
					seen[o.id] = o
					scoIDs = append(scoIDs, o.id)
				}
			}
		}
	}
	count := min(len(idx), 999999999)
	sid := intel.DeriveID(intel.TypeSighting, campaignID, indicatorID)
	var odID string
	if len(scoIDs) > 0 {
		sort.Strings(scoIDs)
		odID = intel.DeriveID(intel.TypeObservedData, campaignID, indicatorID)
		od := x.common(intel.TypeObservedData, odID, first)
		od.add("first_observed", stixTime(first))
		od.add("last_observed", stixTime(last))
		od.add("number_observed", count)
		od.add("object_refs", scoIDs)
		x.mark(&od)
		x.put(odID, od)
		for _, id := range scoIDs {
			s := seen[id]
			o := object{{"type", s.typ}, {"spec_version", "2.1"}, {"id", s.id}}
			keys := make([]string, 0, len(s.props))
			for k := range s.props {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				o = append(o, kv{k, s.props[k]})
			}
			x.put(s.id, o)
		}
	}
	var fl []string
	for f := range fields {
		fl = append(fl, f)
	}
	sort.Strings(fl)
	o := x.common(intel.TypeSighting, sid, first)
	desc := fmt.Sprintf("Seen %d time(s) in %s", len(idx), strings.Join(fl, ", "))
	if campaignID != "" {
		desc += " during campaign " + campaignID
	}
	o.add("description", desc+".")
	o.add("first_seen", stixTime(first))
	o.add("last_seen", stixTime(last))
	o.add("count", count)
	o.add("sighting_of_ref", indicatorID)
	if odID != "" {
		o.add("observed_data_refs", []string{odID})
	}
	o.add("where_sighted_refs", []string{x.identity})
	x.mark(&o)
	x.put(sid, o)
}
