package match

import (
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// Options tune Compile. Everything in them that changes answers is part
// of the snapshot's Version and of its Inputs stream (see InputWriter).
type Options struct {
	// Warninglists, when set, are compiled by the Builder into the set that
	// names the warninglists a value is on (Snapshot.Warninglists). An
	// indicator whose own value is listed, or a hit whose seen value is
	// listed, still produces a Sighting, but with Suppressed set and
	// Warninglist naming the first list; the scan engine counts those
	// apart. Their content is hashed into the Version, and they are
	// compiled in a canonical order, so the same lists in any order give
	// the same snapshot.
	Warninglists []*intel.Warninglist
	// Suppress is a compiled set used as Warninglists is.
	//
	// Deprecated: an opaque Suppressor cannot be hashed or written to an
	// Inputs stream, so a snapshot built with one gets a Version of its
	// own that no other build shares. Use Warninglists. Suppress and
	// Warninglists cannot both be set.
	Suppress Suppressor
	// Patterns, when set, compiles the indicators whose logic needs the STIX
	// pattern evaluator (no Observables, PatternType "stix"). Without it such
	// indicators are counted in Stats.Skipped["needs-pattern-evaluator"].
	Patterns PatternCompiler
}

// Suppressor is a compiled set of warninglists (internal/intel/warninglist.Set).
type Suppressor interface {
	// Check returns the names of the lists that value, of type t, is on.
	Check(t intel.ValueType, value string) []string
}

// PatternCompiler compiles STIX patterns that simple observables cannot express.
type PatternCompiler interface {
	// CompilePatterns prepares the given indicators (each has Indicator.Pattern
	// set and no Observables). Indicators it cannot compile are returned in
	// rejected with the reason; they never match. The returned set is shared
	// read-only by every worker.
	CompilePatterns(indicators []*intel.Object) (set PatternSet, rejected map[string]error, err error)
}

// PatternSet is an immutable compiled set of patterns.
type PatternSet interface {
	// NewGroup returns the evaluation state of one scan. The streams made
	// from it remember events together, so a pattern whose events
	// different goroutines read (two chunks of a file, two files) still
	// matches.
	NewGroup() PatternGroup
}

// PatternGroup makes the streams of one scan; NewStream is safe for
// concurrent use.
type PatternGroup interface {
	// NewStream returns the stream of one goroutine.
	NewStream() PatternStream
}

// PatternStream evaluates patterns over a sequence of events. Patterns with
// several observation expressions (AND, FOLLOWEDBY, WITHIN, REPEATS) keep
// state in the stream between events.
type PatternStream interface {
	// Observe feeds one event and calls hit for every indicator whose pattern
	// is satisfied by it (with the events seen before it on this stream).
	// ev and its strings are only valid during the call.
	Observe(ev *telemetry.Event, hit func(PatternHit))
	// Flush reports matches that can only be decided at the end of the input.
	Flush(hit func(PatternHit))
}

// PatternHit is one satisfied pattern.
type PatternHit struct {
	IndicatorID string
	// Field and Value name the event field that completed the match, as the
	// evaluator understood it (e.g. "url:value", "http://x/y"); may be empty.
	Field, Value string
	// Event is the event that completed the match when it is not the one
	// being observed (always set from Flush); nil means the current event.
	Event *telemetry.Event
}
