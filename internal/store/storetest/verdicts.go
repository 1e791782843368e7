package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/store"
)

// VerdictStore is what the verdict contract runs on.
type VerdictStore interface {
	store.VerdictStore
	Close() error
}

// RunVerdicts is the contract of store.VerdictStore.
func RunVerdicts(t *testing.T, open func(t *testing.T) VerdictStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s VerdictStore)
	}{
		{"AppendedInOrderWithWhoAndWhen", verdictsAppended},
		{"Filters", verdictFilters},
		{"BadVerdictsRefused", badVerdicts},
		{"DecisionInForce", decisionInForce},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			tc.fn(t, s)
		})
	}
}

func putVerdict(t *testing.T, s VerdictStore, v store.Verdict) store.Verdict {
	t.Helper()
	got, err := s.PutVerdict(context.Background(), v)
	if err != nil {
		t.Fatalf("PutVerdict(%+v): %v", v, err)
	}
	return got
}

func verdictsAppended(t *testing.T, s VerdictStore) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC)
	a := putVerdict(t, s, store.Verdict{Kind: store.VerdictDetection, Target: "det-1", Decision: store.DecisionFalsePositive, Note: "backup job", By: "alice", At: at})
	b := putVerdict(t, s, store.Verdict{Kind: store.VerdictSighting, Target: "sg-1", Indicator: "indicator--x", Decision: store.DecisionNote, Note: "ünïcode ok", By: "bob"})
	j := putVerdict(t, s, store.Verdict{Kind: store.VerdictActorJoin, Target: store.JoinTarget("intrusion-set--b", "intrusion-set--a"), Decision: store.DecisionUndone, Note: "two groups", By: "carol"})
	if a.Seq <= 0 || b.Seq <= a.Seq {
		t.Fatalf("seqs %d, %d: want increasing from 1", a.Seq, b.Seq)
	}
	if b.At.IsZero() || time.Since(b.At) > time.Minute {
		t.Errorf("At not set to now: %v", b.At)
	}
	got, err := s.Verdicts(context.Background(), store.VerdictQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != a || got[1] != b || got[2] != j {
		t.Fatalf("read back %+v, stored %+v, %+v and %+v", got, a, b, j)
	}
	if j.Target != "intrusion-set--a intrusion-set--b" {
		t.Errorf("join target %q: want the ids in order", j.Target)
	}
	if !got[0].At.Equal(at) || got[0].By != "alice" || got[0].Note != "backup job" {
		t.Errorf("first verdict read back as %+v", got[0])
	}
}

func verdictFilters(t *testing.T, s VerdictStore) {
	putVerdict(t, s, store.Verdict{Kind: store.VerdictDetection, Target: "x", Decision: store.DecisionConfirmed, By: "a"})
	putVerdict(t, s, store.Verdict{Kind: store.VerdictSighting, Target: "x", Decision: store.DecisionFalsePositive, By: "a"})
	putVerdict(t, s, store.Verdict{Kind: store.VerdictSighting, Target: "y", Decision: store.DecisionFalsePositive, By: "a"})
	for q, want := range map[store.VerdictQuery]int{{}: 3, {Kind: store.VerdictSighting}: 2, {Target: "x"}: 2,
		{Kind: store.VerdictSighting, Target: "y"}: 1, {Kind: store.VerdictDetection, Target: "y"}: 0} {
		got, err := s.Verdicts(context.Background(), q)
		if err != nil || len(got) != want {
			t.Errorf("Verdicts(%+v): %d, %v; want %d", q, len(got), err, want)
		}
	}
}

func badVerdicts(t *testing.T, s VerdictStore) {
	for _, v := range []store.Verdict{
		{Kind: "host", Target: "x", Decision: store.DecisionConfirmed, By: "a"},
		{Kind: store.VerdictDetection, Target: " ", Decision: store.DecisionConfirmed, By: "a"},
		{Kind: store.VerdictDetection, Target: "x", Decision: "maybe", By: "a"},
		{Kind: store.VerdictDetection, Target: "x", Decision: store.DecisionNote, By: "a"},
		{Kind: store.VerdictDetection, Target: "x", Decision: store.DecisionConfirmed},
		{Kind: store.VerdictDetection, Target: "x", Decision: store.DecisionConfirmed, By: "a", Note: strings.Repeat("n", store.MaxVerdictNote+1)},
		{Kind: store.VerdictDetection, Target: "x", Decision: store.DecisionConfirmed, By: "a", Note: "\xff"},
		{Kind: store.VerdictDetection, Target: "x", Decision: store.DecisionUndone, By: "a"},
		{Kind: store.VerdictActorJoin, Target: store.JoinTarget("a", "b"), Decision: store.DecisionFalsePositive, By: "a"},
		{Kind: store.VerdictActorJoin, Target: "b a", Decision: store.DecisionUndone, By: "a"},
		{Kind: store.VerdictActorJoin, Target: "a", Decision: store.DecisionUndone, By: "a"},
	} {
		if _, err := s.PutVerdict(context.Background(), v); err == nil {
			t.Errorf("PutVerdict(%+.80v) stored it", v)
		}
	}
	got, err := s.Verdicts(context.Background(), store.VerdictQuery{})
	if err != nil || len(got) != 0 {
		t.Errorf("after refusals: %d verdicts, %v", len(got), err)
	}
}

func decisionInForce(t *testing.T, s VerdictStore) {
	for _, d := range []string{store.DecisionFalsePositive, store.DecisionNote} {
		putVerdict(t, s, store.Verdict{Kind: store.VerdictDetection, Target: "a", Decision: d, Note: "n", By: "x"})
	}
	for _, d := range []string{store.DecisionFalsePositive, store.DecisionOpen} {
		putVerdict(t, s, store.Verdict{Kind: store.VerdictDetection, Target: "b", Decision: d, By: "x"})
	}
	for _, d := range []string{store.DecisionFalsePositive, store.DecisionConfirmed} {
		putVerdict(t, s, store.Verdict{Kind: store.VerdictSighting, Target: "a", Decision: d, By: "x"})
	}
	vs, err := s.Verdicts(context.Background(), store.VerdictQuery{})
	if err != nil {
		t.Fatal(err)
	}
	d := store.Decisions(vs)
	if !store.FalsePositive(d, store.VerdictDetection, "a") || store.FalsePositive(d, store.VerdictDetection, "b") ||
		store.FalsePositive(d, store.VerdictSighting, "a") || d[store.VerdictSighting+"\x00a"].Decision != store.DecisionConfirmed {
		t.Errorf("decisions in force: %+v", d)
	}
}
