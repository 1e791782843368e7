package storecopy

import (
	"context"
	"sort"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

// plan is what each source of the original store will import again.
type plan struct {
	sources []store.SourceSummary
	objects map[int64][]*intel.Object // by source id, in put order
	lists   map[int64][]*intel.Warninglist
	// unsourced counts objects no source lists: no import can carry them.
	unsourced int
}

// copyIntel replays every source, oldest first, as one Import of the
// objects (and warninglists) it asserted.
func copyIntel(ctx context.Context, from, to store.Store, c *Counts, progress Progress) error {
	p, err := planIntel(ctx, from, c, progress)
	if err != nil {
		return err
	}
	for i, sum := range p.sources {
		src := sum.Source
		objs, lists := p.objects[src.ID], p.lists[src.ID]
		src.ID = 0 // the target numbers its own
		_, err := to.Import(ctx, src, func(sink intel.Sink) error {
			for _, o := range objs {
				if err := sink.Put(ctx, o); err != nil {
					return err
				}
			}
			for _, w := range lists {
				if err := sink.PutWarninglist(ctx, w); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		c.Sources++
		c.Versions += len(objs)
		c.Warninglists += len(lists)
		progress("sources", i+1, len(p.sources))
	}
	return nil
}

// planIntel reads every current object, its versions and its sources, and
// decides which source puts which version.
func planIntel(ctx context.Context, from store.Store, c *Counts, progress Progress) (*plan, error) {
	sums, err := from.SourceSummaries(ctx)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(sums, func(i, j int) bool { return sums[i].Source.ID < sums[j].Source.ID })
	p := &plan{sources: sums, objects: map[int64][]*intel.Object{}, lists: map[int64][]*intel.Warninglist{}}
	var ids []*intel.Object // read first: the SQLite store has one connection
	err = from.Objects(ctx, store.ObjectQuery{}, func(o *intel.Object) error {
		ids = append(ids, o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, cur := range ids {
		if err := p.assign(ctx, from, cur); err != nil {
			return nil, err
		}
		if (i+1)%1000 == 0 || i+1 == len(ids) {
			progress("objects read", i+1, len(ids))
		}
	}
	c.Objects = len(ids) - p.unsourced
	c.Unsourced = p.unsourced
	return p, p.assignLists(ctx, from)
}

// assign hands the versions of id to the sources that asserted it, in
// import order: the k-th source the k-th oldest version, the last source
// every version left; sources beyond the versions re-assert the newest.
// Which source gave which version is not in the interfaces; this order is
// the one in which a store that kept the latest-modified rule saw them,
// and it reproduces the versions, the current version and the sources.
func (p *plan) assign(ctx context.Context, from store.IntelReader, cur *intel.Object) error {
	id := cur.ID
	vers, err := from.Versions(ctx, id)
	if err != nil {
		return err
	}
	if len(vers) == 0 {
		// the SQLite store lists no version (and no Object) of a list's
		// implied relationship, which it keeps folded into the indicator:
		// Objects alone gives it
		vers = []*intel.Object{cur}
	}
	srcs, err := from.ObjectSources(ctx, id)
	if err != nil {
		return err
	}
	if len(srcs) == 0 && len(vers) > 0 && vers[0].Relationship != nil {
		// a list's implied "indicates" relationship: the SQLite store
		// folds it into its indicator and lists no source of its own. It
		// came with the indicator's first import; a later list naming the
		// same indicator may have implied it again (a latent claim) or
		// implied another actor, which the interfaces cannot tell apart,
		// so only the first is replayed
		if srcs, err = from.ObjectSources(ctx, vers[0].Relationship.SourceRef); err != nil {
			return err
		}
		if len(srcs) > 1 {
			sort.SliceStable(srcs, func(i, j int) bool { return srcs[i].ID < srcs[j].ID })
			srcs = srcs[:1]
		}
	}
	if len(vers) == 0 || len(srcs) == 0 {
		p.unsourced++
		return nil
	}
	sort.SliceStable(srcs, func(i, j int) bool { return srcs[i].ID < srcs[j].ID })
	last := len(srcs) - 1
	for k, s := range srcs {
		switch {
		case k < last && k < len(vers):
			p.objects[s.ID] = append(p.objects[s.ID], vers[k])
		case k < last:
			p.objects[s.ID] = append(p.objects[s.ID], vers[len(vers)-1])
		case k < len(vers):
			p.objects[s.ID] = append(p.objects[s.ID], vers[k:]...)
		default:
			p.objects[s.ID] = append(p.objects[s.ID], vers[len(vers)-1])
		}
	}
	return nil
}

// assignLists gives each warninglist to a source. Warninglists carry no
// source in the interfaces; a source's summary counts its objects and its
// warninglists, so the surplus over the objects assigned to it says how
// many lists it asserted. Lists go, in the order the store lists them, to
// the first source with room left, else to the last source.
func (p *plan) assignLists(ctx context.Context, from store.IntelReader) error {
	lists, err := from.Warninglists(ctx)
	if err != nil || len(lists) == 0 {
		return err
	}
	room := make([]int, len(p.sources))
	for i, s := range p.sources {
		room[i] = s.Objects - countDistinct(p.objects[s.Source.ID])
	}
	for _, w := range lists {
		i := len(p.sources) - 1
		for j := range room {
			if room[j] > 0 {
				i = j
				break
			}
		}
		if i < 0 {
			break // no source at all: nothing to import them under
		}
		room[i]--
		id := p.sources[i].Source.ID
		p.lists[id] = append(p.lists[id], w)
	}
	return nil
}

// countDistinct counts the objects a source asserts: one per id, however
// many of its versions it puts.
func countDistinct(objs []*intel.Object) int {
	seen := map[string]bool{}
	for _, o := range objs {
		seen[o.ID] = true
	}
	return len(seen)
}
