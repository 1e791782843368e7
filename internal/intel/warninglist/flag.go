package warninglist

import (
	"context"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// Flag records in o.Indicator.Warninglists the lists that any of the
// indicator's observables is on, and reports whether there was one. Objects
// that are not indicators, and compound indicators without observables, are
// left alone.
func (s *Set) Flag(o *intel.Object) bool {
	if s == nil || o == nil || o.Indicator == nil {
		return false
	}
	var names []string
	for _, ob := range o.Indicator.Observables {
		for _, n := range s.Check(ob.Type, ob.Value) {
			names = appendName(names, n)
		}
	}
	if len(names) == 0 {
		return false
	}
	for _, n := range o.Indicator.Warninglists {
		names = appendName(names, n)
	}
	o.Indicator.Warninglists = names
	return true
}

func appendName(names []string, n string) []string {
	for _, x := range names {
		if x == n {
			return names
		}
	}
	return append(names, n)
}

// FlaggingSink passes everything to Next, flagging on the way every
// indicator whose value is on a list of Set: an import wraps its Sink in
// one so that indicators are flagged with the list names as they are stored.
type FlaggingSink struct {
	Set  *Set
	Next intel.Sink
	// Flagged counts the indicators that were on a list.
	Flagged int
}

// Put implements intel.Sink.
func (f *FlaggingSink) Put(ctx context.Context, o *intel.Object) error {
	if f.Set.Flag(o) {
		f.Flagged++
	}
	return f.Next.Put(ctx, o)
}

// PutWarninglist implements intel.Sink.
func (f *FlaggingSink) PutWarninglist(ctx context.Context, w *intel.Warninglist) error {
	return f.Next.PutWarninglist(ctx, w)
}
