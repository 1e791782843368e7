package hunt

import (
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// readerNeeds is what Scan's readers must decode: with the behaviour
// analytics off and no STIX pattern (which may compare any field) only
// what the matcher and a sighting read; otherwise everything. The
// observable index reads only what the matcher does (obsindex's visit
// mirrors match), so it does not widen this; a caller that adds another
// consumer of the events (an OnEvent hook) must keep everything.
func readerNeeds(snap *match.Snapshot, noBehavior bool) telemetry.Needs {
	return telemetry.Needs{MatchOnly: noBehavior && snap.Stats().Patterns == 0}
}
