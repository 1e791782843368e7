package hunt

import (
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// readerNeeds is what Scan's readers must decode: with the behaviour
// analytics off and no STIX pattern (which may compare any field) only
// what the matcher and a sighting read; otherwise everything. The
// observable index reads only what the matcher does (obsindex's visit
// mirrors match), so it does not widen MatchOnly; but it keeps every
// matchable value, for indicators imported later, so the value groups no
// loaded indicator can match are skipped only without the index. A
// caller that adds another consumer of the events (an OnEvent hook) must
// keep everything.
func readerNeeds(snap *match.Snapshot, noBehavior, noIndex bool) telemetry.Needs {
	n := telemetry.Needs{MatchOnly: noBehavior && snap.Stats().Patterns == 0}
	if n.MatchOnly && noIndex {
		n.Skip = snap.Unread()
	}
	return n
}
