package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// An analyst's decision about one finding is data: kept with who decided
// and when, respected by later analyses and exported in reports.

// Kinds of finding a verdict is about.
const (
	VerdictDetection = "detection" // Target is a behavior.Detection ID
	VerdictSighting  = "sighting"  // Target is a match.Sighting Key
	// VerdictActorJoin is about the join of two actor records; Target is
	// JoinTarget of their ids. Its decisions are DecisionUndone,
	// DecisionJoined or DecisionNote.
	VerdictActorJoin = "actor_join"
)

// Decisions a verdict records. DecisionNote adds a note without changing
// the decision in force; DecisionOpen withdraws the one in force.
const (
	DecisionFalsePositive = "false_positive"
	DecisionConfirmed     = "confirmed"
	DecisionOpen          = "open"
	DecisionNote          = "note"
	DecisionUndone        = "undone" // an actor join undone
	DecisionJoined        = "joined" // two actor records joined by hand
)

// JoinTarget is the Target of a verdict on the join of actor records a
// and b: their ids in order, one space between (ids hold no space).
func JoinTarget(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return a + " " + b
}

// JoinPair splits a JoinTarget back into its two ids.
func JoinPair(target string) (a, b string, ok bool) {
	a, b, ok = strings.Cut(target, " ")
	return a, b, ok && a != "" && b != "" && a < b && !strings.Contains(b, " ")
}

// decisionsOf are the decisions a verdict of each kind may record.
var decisionsOf = map[string][]string{
	VerdictDetection: {DecisionFalsePositive, DecisionConfirmed, DecisionOpen, DecisionNote},
	VerdictSighting:  {DecisionFalsePositive, DecisionConfirmed, DecisionOpen, DecisionNote},
	VerdictActorJoin: {DecisionUndone, DecisionJoined, DecisionNote},
}

// MaxVerdictNote bounds a note, in bytes.
const MaxVerdictNote = 4000

// Verdict is one decision or note, appended; none is ever changed.
type Verdict struct {
	Seq    int64  `json:"seq"` // set by the store: 1, 2, … in the order stored
	Kind   string `json:"kind"`
	Target string `json:"target"`
	// Indicator is, for a sighting, the indicator it is of: its TLP level
	// decides who may see the verdict.
	Indicator string    `json:"indicator,omitempty"`
	Decision  string    `json:"decision"`
	Note      string    `json:"note,omitempty"`
	By        string    `json:"by"` // the key's name
	At        time.Time `json:"at"` // set by the store when zero
}

// VerdictQuery filters Verdicts; zero fields do not filter.
type VerdictQuery struct {
	Kind   string
	Target string
}

// VerdictStore keeps the analysts' verdicts.
type VerdictStore interface {
	// PutVerdict appends v (checked with CheckVerdict) and returns it as
	// stored, with its Seq and At.
	PutVerdict(ctx context.Context, v Verdict) (Verdict, error)
	// Verdicts lists the verdicts matching q, oldest first.
	Verdicts(ctx context.Context, q VerdictQuery) ([]Verdict, error)
}

// CheckVerdict reports what makes v unfit to store. Every store calls it.
func CheckVerdict(v Verdict) error {
	allowed, known := decisionsOf[v.Kind]
	_, _, pair := JoinPair(v.Target)
	switch {
	case !known:
		return fmt.Errorf("verdict: kind %q is not %s, %s or %s", v.Kind, VerdictDetection, VerdictSighting, VerdictActorJoin)
	case strings.TrimSpace(v.Target) == "" || len(v.Target) > 1000:
		return fmt.Errorf("verdict: the target id is empty or longer than 1000 bytes")
	case v.Kind == VerdictActorJoin && !pair:
		return fmt.Errorf("verdict: an actor join's target is two actor ids in order, one space between")
	case !slices.Contains(allowed, v.Decision):
		return fmt.Errorf("verdict: decision %q is not one of %s for a %s", v.Decision, strings.Join(allowed, ", "), v.Kind)
	case v.Decision == DecisionNote && strings.TrimSpace(v.Note) == "":
		return fmt.Errorf("verdict: a note without text")
	case len(v.Note) > MaxVerdictNote || !utf8.ValidString(v.Note) || !utf8.ValidString(v.Target):
		return fmt.Errorf("verdict: the note is longer than %d bytes or not UTF-8", MaxVerdictNote)
	case strings.TrimSpace(v.By) == "":
		return fmt.Errorf("verdict: who decided is missing")
	}
	return nil
}

// Decisions is the decision in force per finding ("kind\x00target"),
// from verdicts oldest first: the last one that is not a note, unless
// that withdrew it.
func Decisions(vs []Verdict) map[string]Verdict {
	out := map[string]Verdict{}
	for _, v := range vs {
		k := v.Kind + "\x00" + v.Target
		switch v.Decision {
		case DecisionNote:
		case DecisionOpen:
			delete(out, k)
		default:
			out[k] = v
		}
	}
	return out
}

// FalsePositive reports whether the decision in force for a finding is
// false positive.
func FalsePositive(d map[string]Verdict, kind, target string) bool {
	return d[kind+"\x00"+target].Decision == DecisionFalsePositive
}
