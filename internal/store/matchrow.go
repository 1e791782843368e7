package store

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// Flags of an indicator's narrow match row.
const (
	MatchHostOnly = 1
	MatchContext  = 2
)

// MatchFields are the packed columns of an indicator's narrow match row,
// the form every store keeps for MatchIndicators: flags, the warninglists
// one a line, and the observables one a line as type, value, port and
// issuer separated by tabs.
func MatchFields(ind *intel.IndicatorSpec) (flags int, lists, vals string) {
	var b strings.Builder
	for _, ob := range ind.Observables {
		b.WriteString(string(ob.Type) + "\t" + ob.Value + "\t" + strconv.Itoa(ob.Port) + "\t" + ob.Issuer + "\n")
	}
	if ind.HostOnly {
		flags |= MatchHostOnly
	}
	if ind.Context {
		flags |= MatchContext
	}
	return flags, strings.Join(ind.Warninglists, "\n"), b.String()
}

// MatchRow is one narrow match row, read back.
type MatchRow struct {
	ID                    string
	Modified              time.Time
	Revoked               bool
	ValidFrom, ValidUntil time.Time
	Flags                 int
	PatternType, Pattern  string
	Lists, Vals           string
}

// Indicator rebuilds the lean indicator the matcher needs from the row.
func (r *MatchRow) Indicator() (*intel.Object, error) {
	o := &intel.Object{ID: r.ID, Type: intel.TypeIndicator, Modified: r.Modified, Revoked: r.Revoked, Confidence: -1,
		Indicator: &intel.IndicatorSpec{ValidFrom: r.ValidFrom, ValidUntil: r.ValidUntil,
			HostOnly: r.Flags&MatchHostOnly != 0, Context: r.Flags&MatchContext != 0, PatternType: r.PatternType, Pattern: r.Pattern}}
	if r.Lists != "" {
		o.Indicator.Warninglists = strings.Split(r.Lists, "\n")
	}
	for vals := r.Vals; vals != ""; {
		line, rest, _ := strings.Cut(vals, "\n")
		vals = rest
		typ, rest, ok1 := strings.Cut(line, "\t")
		value, rest, ok2 := strings.Cut(rest, "\t")
		portText, issuer, ok3 := strings.Cut(rest, "\t")
		if !ok1 || !ok2 || !ok3 {
			return nil, fmt.Errorf("stored indicator %s: malformed observable %q", r.ID, line)
		}
		port, _ := strconv.Atoi(portText)
		o.Indicator.Observables = append(o.Indicator.Observables, intel.Observable{Type: intel.ValueType(typ), Value: value, Port: port, Issuer: issuer})
	}
	return o, nil
}
