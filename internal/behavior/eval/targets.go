package eval

import (
	"fmt"

	"github.com/whodunit-project/whodunit/internal/behavior"
)

// Target is one target of the evaluation and whether a run met it.
type Target struct {
	Dataset string
	Goal    string
	Met     bool
	Detail  string
}

// CheckTargets tests each result against its dataset's Expect. Disputed
// labels are set aside (the report lists them); everything else counts as
// labelled.
func CheckTargets(results []*Result) []Target {
	var out []Target
	for _, r := range results {
		t := Target{Dataset: r.Dataset.Name, Goal: r.Dataset.Expect}
		switch r.Dataset.Expect {
		case ExpectC2:
			fp := r.UndisputedDetected - r.UndisputedTP
			t.Met = r.UndisputedAssessable > 0 && r.UndisputedFoundAs == r.UndisputedAssessable && fp == 0
			t.Detail = fmt.Sprintf("%d of %d malicious series found, %d false positives (disputed labels set aside)",
				r.UndisputedFoundAs, r.UndisputedAssessable, fp)
		case ExpectDGA:
			var dga *behavior.Detection
			for i := range r.Found {
				if d := &r.Found[i].Detection; d.Analytic == behavior.DGA {
					dga = d
					break
				}
			}
			if dga == nil {
				t.Detail = "no DGA detection"
				break
			}
			addrs := append([]any{dga.Src}, anySlice(dga.SrcAliases)...)
			t.Met = len(dga.SrcAliases) > 0 && r.FoundAssessable == r.Assessable
			t.Detail = fmt.Sprintf("DGA score %.2f naming %v; %d of %d malicious pairs covered through it", dga.Score, addrs, r.FoundAssessable, r.Assessable)
		case ExpectBenign:
			unexplained := 0
			for _, f := range r.Lowered {
				if !explained(f.Detection) {
					unexplained++
				}
			}
			fp := r.UndisputedDetected - r.UndisputedTP
			t.Met = fp == 0 && unexplained == 0
			t.Detail = fmt.Sprintf("%d detected, %d lowered or suppressed, each with its reason", fp, len(r.Lowered)-unexplained)
		default:
			continue
		}
		out = append(out, t)
	}
	return out
}

// explained reports whether a finding brought below the threshold says why.
func explained(d behavior.Detection) bool {
	for _, m := range d.Modifiers {
		if m.Factor < 1 && m.Reason != "" {
			return true
		}
	}
	return false
}

func anySlice[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}
