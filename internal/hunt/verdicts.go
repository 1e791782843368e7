package hunt

import (
	"context"
	"fmt"
	"strings"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/store"
)

// VerdictReader lists the analysts' verdicts; store.VerdictStore is one.
type VerdictReader interface {
	Verdicts(ctx context.Context, q store.VerdictQuery) ([]store.Verdict, error)
}

// VerdictAllowlistName names the allowlist made of false-positive
// verdicts in the reasons of the detections it suppresses.
const VerdictAllowlistName = "verdicts"

// VerdictAllowlist is the allowlist the false-positive verdicts on dets
// make: one "source -> destination" entry per detection marked false
// positive, so that the pair is suppressed now and in later scans, as an
// allowlist file given to 'whodunit detections --allowlist' would.
func VerdictAllowlist(dets []behavior.Detection, decisions map[string]store.Verdict) (*behavior.Allowlist, error) {
	var b strings.Builder
	for i := range dets {
		d := &dets[i]
		v, ok := decisions[store.VerdictDetection+"\x00"+d.ID]
		if !ok || v.Decision != store.DecisionFalsePositive {
			continue
		}
		dst := d.DstName
		if dst == "" && d.Dst.IsValid() {
			dst = d.Dst.String()
		}
		if dst == "" {
			continue
		}
		line := dst
		if d.Src.IsValid() {
			line = d.Src.String() + " -> " + dst
		}
		// A reason of one line: the note may hold anything.
		why := strings.Join(strings.Fields("false positive, "+v.By+": "+v.Note), " ")
		fmt.Fprintf(&b, "%s  # %s\n", line, strings.TrimSuffix(why, ":"))
	}
	al, err := behavior.ParseAllowlist(strings.NewReader(b.String()), VerdictAllowlistName)
	if err != nil {
		return nil, fmt.Errorf("the allowlist of false-positive verdicts: %w", err)
	}
	return al, nil
}

// VerdictDetectionStore is what applying verdicts to detections needs.
type VerdictDetectionStore interface {
	DetectionStore
	VerdictReader
}

// ApplyVerdicts rescores the stored detections with the store's
// warninglists and the false-positive verdicts' allowlist and stores the
// result (see ReapplyAllowlist), so that a detection marked false
// positive is suppressed from then on and one whose verdict was
// withdrawn counts again.
func ApplyVerdicts(ctx context.Context, db VerdictDetectionStore) ([]behavior.Detection, error) {
	vs, err := db.Verdicts(ctx, store.VerdictQuery{Kind: store.VerdictDetection})
	if err != nil {
		return nil, err
	}
	dets, err := LoadDetections(ctx, db)
	if err != nil {
		return nil, err
	}
	al, err := VerdictAllowlist(dets, store.Decisions(vs))
	if err != nil {
		return nil, err
	}
	return ReapplyAllowlist(ctx, db, al)
}

// withVerdicts takes what analysts marked false positive out of the
// evidence: such sightings are left out, such detections are suppressed
// (in memory; ApplyVerdicts stores it). It returns every verdict, for
// report.json. A store without verdicts changes nothing.
func withVerdicts(ctx context.Context, db any, f *Findings) ([]store.Verdict, error) {
	vr, ok := db.(VerdictReader)
	if !ok {
		return nil, nil
	}
	vs, err := vr.Verdicts(ctx, store.VerdictQuery{})
	if err != nil || len(vs) == 0 {
		return nil, err
	}
	d := store.Decisions(vs)
	kept := f.Sightings[:0]
	for i := range f.Sightings {
		if !store.FalsePositive(d, store.VerdictSighting, f.Sightings[i].Key()) {
			kept = append(kept, f.Sightings[i])
		}
	}
	f.Sightings = kept
	for i := range f.Detections {
		det := &f.Detections[i]
		if v := d[store.VerdictDetection+"\x00"+det.ID]; v.Decision == store.DecisionFalsePositive && !det.Suppressed {
			det.Suppressed, det.SuppressedBy = true, "verdict: false positive ("+v.By+")"
		}
	}
	return vs, nil
}
