package cli

import (
	"testing"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/report"
)

// The summary line never presents a hypothesis that is not on top as the
// leading one, and never names an actor the estimate does not name.
func TestAttributionLine(t *testing.T) {
	unknown := attribute.Hypothesis{ID: attribute.UnknownActor, Name: "an actor not in the intelligence", Likelihood: 0.45}
	apt28 := attribute.Hypothesis{ID: "intrusion-set--28", Name: "APT28", Likelihood: 0.21}
	for _, tc := range []struct {
		a    report.Attribution
		want string
	}{
		{report.Attribution{Named: true, Actor: "APT1", ActorID: "x", Estimate: "likely", Likelihood: 0.57, Confidence: "moderate"},
			"APT1 is likely (57%) behind this campaign; analytic confidence moderate"},
		{report.Attribution{Named: true, Actor: "APT28", Estimate: "roughly even chance", Likelihood: 0.53, Confidence: "moderate"},
			"a roughly even chance (53%) that APT28 is behind this campaign; analytic confidence moderate"},
		{report.Attribution{Actor: "APT28", ActorID: apt28.ID, Estimate: attribute.NotEnoughEvidence, Likelihood: 0.21, Hypotheses: []attribute.Hypothesis{unknown, apt28}},
			"not enough evidence — most likely an actor not in the intelligence (45%); the strongest known actor is APT28 at 21%"},
		{report.Attribution{Actor: "APT28", ActorID: apt28.ID, Estimate: attribute.NotEnoughEvidence, Likelihood: 0.45, Hypotheses: []attribute.Hypothesis{{ID: apt28.ID, Name: "APT28", Likelihood: 0.45}, unknown}},
			"not enough evidence — most likely APT28 (45%)"},
		{report.Attribution{Estimate: attribute.NotEnoughEvidence, Hypotheses: []attribute.Hypothesis{{ID: attribute.UnknownActor, Name: unknown.Name, Likelihood: 0.88}}},
			"not enough evidence — most likely an actor not in the intelligence (88%); no actor in the intelligence is linked to this activity"},
	} {
		if got := attributionLine(&tc.a); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}
