// Package export writes the store's current indicators in the forms that
// sensors and platforms read natively: Zeek intel files, Suricata datasets
// and rules, a MISP event, a STIX 2.1 bundle and CSV. It streams: the
// indicators pass one at a time from the store to the writer, and only a
// compact index of their actors and sources is held (labelIndex). TLP is
// enforced here, once for every format, by package tlp's rules: an
// indicator marked above the highest level allowed to leave (or red) is
// withheld and counted.
package export

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

// Options select and limit what leaves.
type Options struct {
	Actor  string // only indicators of this actor (any alias), as store.ObjectQuery.Actor
	Source string // only indicators asserted by this source name
	// MaxTLP is the most restrictive marking that may leave ("" = amber;
	// amber+strict at most: red never leaves).
	MaxTLP string
	// IncludeWarninglisted exports indicators on a warninglist too.
	IncludeWarninglisted bool
	// Now decides which indicators have expired (zero = time.Now()).
	Now time.Time
}

// Actor is an actor record an exported indicator points to.
type Actor struct {
	ID   string // the record the relationship targets
	Type string // intrusion-set or threat-actor
	Name string // the name of the actor it is joined into
	// Created and Modified are the record's own, so that an exported actor
	// never looks newer than the record it was made from.
	Created, Modified time.Time
}

// Indicator is one indicator as the writers get it.
type Indicator struct {
	*intel.Object
	Actors  []Actor  // sorted by name
	Sources []string // source names, sorted
	// Level governs whether it leaves (tlp.Of with the store's marking
	// definitions: an unknown marking counts as amber); TLP is its name,
	// "" when unmarked, which the writers mark the output with.
	Level tlp.Level
	TLP   string
}

// Writer is one output format. Write returns "" when it wrote the
// indicator, or why the format cannot express it; Close finishes the
// output once everything was written.
type Writer interface {
	Write(ind *Indicator) (skipped string, err error)
	Close(sum *Summary) error
}

// Summary counts what left and what did not.
type Summary struct {
	Format        string         `json:"format"`
	Exported      int            `json:"exported"`
	Withheld      map[string]int `json:"withheld_by_tlp"` // by the marking that kept it back
	Warninglisted int            `json:"warninglisted"`
	Revoked       int            `json:"revoked"`
	Expired       int            `json:"expired"`
	Unexpressible map[string]int `json:"unexpressible"` // by the reason the format gave
	// Marking is the most restrictive TLP marking of what was exported.
	Marking string   `json:"marking,omitempty"`
	Files   []string `json:"files,omitempty"`
}

// WithheldTotal is the number of indicators TLP kept back.
func (s *Summary) WithheldTotal() int {
	n := 0
	for _, v := range s.Withheld {
		n += v
	}
	return n
}

// Export streams the current indicators of db that opt selects into w.
func Export(ctx context.Context, db store.ActorReader, w Writer, opt Options) (*Summary, error) {
	ceiling, err := parseCeiling(opt.MaxTLP)
	if err != nil {
		return nil, err
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	lb, err := loadLabels(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("export: reading actors and sources: %w", err)
	}
	sum := &Summary{Withheld: map[string]int{}, Unexpressible: map[string]int{}}
	marking := tlp.Unmarked
	q := store.ObjectQuery{Types: []string{intel.TypeIndicator}, Actor: opt.Actor, Source: opt.Source}
	err = db.Objects(ctx, q, func(o *intel.Object) error {
		ind := lb.indicator(o)
		switch {
		case o.Revoked:
			sum.Revoked++
		case o.Indicator != nil && !o.Indicator.ValidUntil.IsZero() && o.Indicator.ValidUntil.Before(now):
			sum.Expired++
		case o.Indicator != nil && len(o.Indicator.Warninglists) > 0 && !opt.IncludeWarninglisted:
			sum.Warninglisted++
		case !ceiling.Allows(ind.Level):
			sum.Withheld[ind.TLP]++
		default:
			why, err := w.Write(ind)
			if err != nil {
				return err
			}
			if why != "" {
				sum.Unexpressible[why]++
				return nil
			}
			sum.Exported++
			if ind.Level > marking {
				marking, sum.Marking = ind.Level, ind.TLP
			}
		}
		return nil
	})
	if err != nil {
		return sum, fmt.Errorf("export: %w", err)
	}
	if err := w.Close(sum); err != nil {
		return sum, fmt.Errorf("export: %w", err)
	}
	return sum, nil
}

// labels is what is read before the indicators: actors, sources,
// markings and which indicator has which.
type labels struct {
	actors  []Actor
	sources []string
	marks   tlp.Definitions // the store's marking definitions
	ix      *labelIndex
}

func (lb *labels) indicator(o *intel.Object) *Indicator {
	ind := &Indicator{Object: o}
	c := lb.ix.get(o.ID)
	for _, a := range c.actors {
		ind.Actors = append(ind.Actors, lb.actors[a])
	}
	sort.SliceStable(ind.Actors, func(i, j int) bool { return ind.Actors[i].Name < ind.Actors[j].Name })
	for _, s := range c.sources {
		ind.Sources = append(ind.Sources, lb.sources[s])
	}
	sort.Strings(ind.Sources)
	// Unmarked indicators stay unmarked: the ceiling allows them, as
	// export always did, and no writer invents a marking for them.
	ind.Level = lb.marks.Of(o, tlp.Unmarked)
	ind.TLP = ind.Level.String()
	return ind
}
