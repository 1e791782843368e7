package verify

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"sort"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/cite"
	"github.com/whodunit-project/whodunit/internal/report"
)

// checkIntelligence checks that the report is self-contained: every
// indicator an evidence item names is carried, as imported; and that the
// confidence an indicator item was weighed with is one of its STIX
// indicators' own.
func checkIntelligence(doc *report.Document) error {
	have := map[string]*report.IntelRecord{}
	for i := range doc.Intelligence {
		have[doc.Intelligence[i].ID] = &doc.Intelligence[i]
	}
	for _, c := range doc.Campaigns {
		for i, e := range c.Attribution.Evidence {
			var raws []*report.IntelRecord
			for _, id := range e.Indicators {
				r := have[id]
				if r == nil {
					return fmt.Errorf("campaign %s: evidence %d names indicator %s, which the report does not carry", c.ID, i, id)
				}
				raws = append(raws, r)
			}
			if err := checkConfidence(doc.MethodologyConfig.Indicators, e, raws); err != nil {
				return fmt.Errorf("campaign %s: evidence %d: %w", c.ID, i, err)
			}
		}
	}
	return nil
}

// checkConfidence: an indicator item's confidence factor must be what
// one of its indicators states (0–100, floored at MinConfidence;
// DefaultConfidence when unstated), and a STIX indicator's stated
// confidence must be the one in its raw object.
func checkConfidence(w attribute.IndicatorWeights, e report.Evidence, raws []*report.IntelRecord) error {
	var stated []float64
	for _, r := range raws {
		if err := rawConfidence(r); err != nil {
			return err
		}
		conf := w.DefaultConfidence
		if r.Confidence >= 0 {
			conf = math.Max(w.MinConfidence, float64(r.Confidence)/100)
		}
		stated = append(stated, conf)
	}
	if e.Factors == nil || e.Kind != "indicator-match" && e.Kind != "malware-family" || len(raws) == 0 || slices.Contains(stated, e.Factors.Confidence) {
		return nil
	}
	return fmt.Errorf("weighed with confidence %v, but its indicators as imported state %v", e.Factors.Confidence, stated)
}

// rawConfidence checks a STIX indicator's confidence against its raw form.
func rawConfidence(r *report.IntelRecord) error {
	var obj struct {
		Type        string       `json:"type"`
		SpecVersion string       `json:"spec_version"`
		Confidence  *json.Number `json:"confidence"`
	}
	if json.Unmarshal(r.Raw, &obj) != nil || obj.Type != "indicator" || obj.SpecVersion == "" {
		return nil // not STIX: the raw form names no confidence field
	}
	raw := int64(-1)
	if obj.Confidence != nil {
		c, err := obj.Confidence.Int64()
		if err != nil {
			return fmt.Errorf("indicator %s: confidence %s is not an integer", r.ID, obj.Confidence)
		}
		raw = c
	}
	if raw != int64(r.Confidence) {
		return fmt.Errorf("indicator %s: carried with confidence %d, its raw STIX says %d", r.ID, r.Confidence, raw)
	}
	return nil
}

// checkLogs finds every cited record in dir by its file's SHA-256 and
// checks its bytes and line at its offset; it returns how many it checked.
func checkLogs(doc *report.Document, dir string) (int, error) {
	byHash, err := hashFiles(dir)
	if err != nil {
		return 0, err
	}
	type cited struct {
		campaign string
		ref      attribute.SightingRef
	}
	want := map[string][]cited{} // file on disk -> records cited in it
	for _, c := range doc.Campaigns {
		for _, e := range c.Attribution.Evidence {
			for _, r := range e.Sightings {
				if r.FileSHA256 == "" {
					continue // cited without its file's hash (see record_note)
				}
				path, ok := byHash[r.FileSHA256]
				if !ok {
					return 0, fmt.Errorf("campaign %s: no file in %s has SHA-256 %s (cited as %s line %d)", c.ID, dir, r.FileSHA256, r.File, r.Line)
				}
				want[path] = append(want[path], cited{c.ID, r})
			}
		}
	}
	n := 0
	for _, path := range sortedKeys(want) {
		var offs []int64
		for _, w := range want[path] {
			offs = append(offs, w.ref.Offset)
		}
		recs, err := cite.Read(path, offs)
		if err != nil {
			return n, err
		}
		for _, w := range want[path] {
			got := recs[w.ref.Offset]
			text, err := got.Text()
			switch {
			case err != nil && w.ref.Record != "":
				return n, fmt.Errorf("campaign %s: %s offset %d: %w", w.campaign, path, w.ref.Offset, err)
			case w.ref.Record != "" && text != w.ref.Record:
				return n, fmt.Errorf("campaign %s: %s offset %d: the record differs from the one cited (%q, cited %q)", w.campaign, path, w.ref.Offset, text, w.ref.Record)
			case got.Line != w.ref.Line:
				return n, fmt.Errorf("campaign %s: %s offset %d is line %d, cited as line %d", w.campaign, path, w.ref.Offset, got.Line, w.ref.Line)
			}
			n++
		}
	}
	return n, nil
}

// hashFiles indexes the regular files under dir by SHA-256.
func hashFiles(dir string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		h, err := cite.FileSHA256(path)
		if err != nil {
			return err
		}
		if _, dup := out[h]; !dup {
			out[h] = path
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("--logs %s: %w", dir, err)
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
