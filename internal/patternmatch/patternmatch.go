// Package patternmatch runs the STIX patterns that the matcher's lookup
// tables cannot hold (AND/OR over several observables, FOLLOWEDBY, WITHIN,
// REPEATS, comparisons other than equality) through the pattern package's
// streaming evaluator. It is the glue between match and pattern, so that
// neither imports the other.
package patternmatch

import (
	"fmt"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/pattern"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// Compiler implements match.PatternCompiler.
type Compiler struct{}

// CompilePatterns compiles the STIX patterns of inds into one evaluator
// index; indicators whose pattern cannot be compiled are returned in
// rejected with the reason.
func (Compiler) CompilePatterns(inds []*intel.Object) (match.PatternSet, map[string]error, error) {
	rejected := map[string]error{}
	rules := make([]pattern.Rule, 0, len(inds))
	for _, o := range inds {
		prog, err := compile(o)
		if err != nil {
			rejected[o.ID] = err
			continue
		}
		rules = append(rules, pattern.Rule{ID: o.ID, Program: prog})
	}
	ix, err := pattern.NewIndex(rules)
	if err != nil {
		return nil, rejected, err
	}
	return patternSet{ix}, rejected, nil
}

func compile(o *intel.Object) (*pattern.Program, error) {
	if o.Indicator == nil {
		return nil, fmt.Errorf("not an indicator")
	}
	if o.Indicator.PatternType != "stix" {
		return nil, fmt.Errorf("pattern type %q is not STIX", o.Indicator.PatternType)
	}
	return pattern.Prepare(o.Indicator.Pattern, pattern.Lenient)
}

type patternSet struct{ ix *pattern.Index }

func (s patternSet) NewGroup() match.PatternGroup {
	return patternGroup{s.ix.NewState(pattern.StreamOptions{})}
}

// patternGroup is the evaluator state of one scan, shared by its workers.
type patternGroup struct{ st *pattern.State }

func (g patternGroup) NewStream() match.PatternStream {
	return &patternStream{s: g.st.NewStream()}
}

type patternStream struct{ s *pattern.Stream }

// Observe feeds the evaluator; a match is reported on the event that
// completed it, naming the observable of that event the pattern was about.
func (p *patternStream) Observe(ev *telemetry.Event, hit func(match.PatternHit)) {
	for _, m := range p.s.Feed(ev) {
		field, value := PrimaryObservable(ev)
		hit(match.PatternHit{IndicatorID: m.ID, Field: field, Value: value})
	}
}

// Flush has nothing to add: the evaluator reports every match as the event
// completing it arrives.
func (p *patternStream) Flush(func(match.PatternHit)) {}

// PrimaryObservable names the most specific value an event carries.
func PrimaryObservable(ev *telemetry.Event) (field, value string) {
	switch {
	case ev.Kind == telemetry.KindDNS && ev.Query != "":
		return "dns.query", ev.Query
	case ev.Kind == telemetry.KindTLS && ev.SNI != "":
		return "tls.sni", ev.SNI
	case ev.Kind == telemetry.KindHTTP && ev.Host != "":
		return "http.host", ev.Host
	case ev.SHA256 != "":
		return "files.sha256", ev.SHA256
	case ev.MD5 != "":
		return "files.md5", ev.MD5
	case ev.MailFrom != "":
		return "smtp.mailfrom", ev.MailFrom
	case ev.DstIP.IsValid():
		return "conn.dst_ip", ev.DstIP.String()
	}
	return "", ""
}
