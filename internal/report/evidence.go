package report

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/cite"
	"github.com/whodunit-project/whodunit/internal/intel"
)

// IntelRecord is one indicator the evidence rests on, as it was imported:
// its raw object (the STIX JSON, or a faithful JSON rendering of another
// format), the sources that carried it and the origin it counts under.
type IntelRecord struct {
	ID      string          `json:"id"`
	Raw     json.RawMessage `json:"raw"`
	Sources []IntelSource   `json:"sources"`
	Origin  string          `json:"origin"`
	// Confidence is the indicator's confidence (0–100) as read from
	// Raw, -1 when the source states none.
	Confidence int `json:"confidence"`
}

// IntelSource is one source of an indicator: a feed or file, its
// format, its Admiralty grade and the SHA-256 of what was imported.
type IntelSource struct {
	Name        string `json:"name"`
	Format      string `json:"format,omitempty"`
	Reliability string `json:"reliability,omitempty"`
	SHA256      string `json:"sha256,omitempty"`
}

// SignatureInfo names the key a report is signed with. The signature is
// detached (report.json.sig) over the canonical JSON of the whole
// document, this field included.
type SignatureInfo struct {
	Algorithm      string `json:"algorithm"`
	KeyFingerprint string `json:"key_fingerprint"`
	Files          string `json:"files"` // where the signatures are
}

// IntelSourceGraph is what IntelRecords reads of the intelligence.
type IntelSourceGraph interface {
	Indicator(id string) *intel.Object
	IndicatorSources(id string) []intel.Source
	Origin(indicatorID string) string
}

// IntelRecords collects every indicator any assessment's evidence names,
// sorted by id.
func IntelRecords(assessments map[string]*attribute.Assessment, g IntelSourceGraph) []IntelRecord {
	ids := map[string]bool{}
	for _, a := range assessments {
		for _, e := range a.Evidence {
			for _, id := range e.Indicators {
				ids[id] = true
			}
		}
	}
	out := []IntelRecord{}
	for _, id := range sortedKeys(ids) {
		o := g.Indicator(id)
		if o == nil {
			continue
		}
		r := IntelRecord{ID: id, Raw: o.Raw, Origin: g.Origin(id), Sources: []IntelSource{}, Confidence: o.Confidence}
		if !json.Valid(r.Raw) {
			r.Raw, _ = json.Marshal(o) // a store that kept no raw form: the object as modelled
		}
		for _, s := range g.IndicatorSources(id) {
			r.Sources = append(r.Sources, IntelSource{Name: s.Name, Format: s.Format, Reliability: s.Reliability.String(), SHA256: s.SHA256})
		}
		sort.SliceStable(r.Sources, func(i, j int) bool { return r.Sources[i].Name < r.Sources[j].Name })
		out = append(out, r)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// citedRecords states the cap on cited records.
func citedRecords(cfg attribute.Config) string {
	return fmt.Sprintf("each evidence item cites at most %d records (its first ones), each with its raw bytes, its file's SHA-256, byte offset and line; count and more_sightings say how many are not cited",
		cfg.Indicators.MaxSightings)
}

func utcTimes(ts []time.Time) []time.Time {
	out := make([]time.Time, len(ts))
	for i, t := range ts {
		out[i] = t.UTC()
	}
	return out
}

// AttachRecords fills every cited record of doc with its raw bytes and
// its file's SHA-256, reading each file once; a record that cannot be
// read says why in its note, and the report stays valid.
func AttachRecords(doc *Document) {
	offsets := map[string][]int64{}
	eachRef(doc, func(r *attribute.SightingRef) { offsets[r.File] = append(offsets[r.File], r.Offset) })
	hashes, recs := map[string]string{}, map[string]map[int64]cite.Record{}
	notes := map[string]string{}
	for _, file := range sortedKeys(offsets) {
		h, err := cite.FileSHA256(file)
		if err == nil {
			recs[file], err = cite.Read(file, offsets[file])
		}
		if err != nil {
			notes[file] = "file not readable when the report was written: " + err.Error()
			continue
		}
		hashes[file] = h
	}
	eachRef(doc, func(r *attribute.SightingRef) {
		if n, bad := notes[r.File]; bad {
			r.RecordNote = n
			return
		}
		r.FileSHA256 = hashes[r.File]
		text, err := recs[r.File][r.Offset].Text()
		if err != nil {
			r.RecordNote = err.Error()
			return
		}
		r.Record = text
	})
}

// eachRef calls fn on every cited record of doc.
func eachRef(doc *Document, fn func(*attribute.SightingRef)) {
	for ci := range doc.Campaigns {
		ev := doc.Campaigns[ci].Attribution.Evidence
		for ei := range ev {
			for si := range ev[ei].Sightings {
				fn(&ev[ei].Sightings[si])
			}
		}
	}
}
