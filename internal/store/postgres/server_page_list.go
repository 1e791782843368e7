package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

// Shaped indicators are paged beside the objects rows: their part of a
// page query ranges over list_indicators_added, and a shape's modified
// and source_id stand for the row's version and source.

// listPageCols are objectPageCols for list_indicators l joined with its
// shape sh; data is NULL, the object is rebuilt from the shape.
const listPageCols = "l.added, l.id, sh.modified, NULL::bytea, l.raw, l.shape, l.type, l.value, l.port, l.lists"

// listPagePart is the part of a page query that reads list rows; ok is
// false when f can match none.
func listPagePart(f pageFilter, from store.ObjectPosition, p *params, n int) (string, bool) {
	if len(f.q.Types) > 0 && !slices.Contains(f.q.Types, intel.TypeIndicator) {
		return "", false
	}
	vc := listVersionConds(f.vf, p)
	if vc == nil {
		return "", false
	}
	conds := append(pageCommon(f, from, p, "l", "sh.modified"), vc...)
	if f.sources != nil {
		// a list row's one source is its shape's
		conds = append(conds, "sh.source_id = ANY("+p.add(f.sources)+")")
	}
	return "(SELECT " + listPageCols + " FROM list_indicators l JOIN indicator_shapes sh ON sh.id = l.shape" + whereClause(conds) +
		fmt.Sprintf(" ORDER BY l.added, l.id LIMIT %d)", n), true
}

// listVersionConds is the version filter on list rows: nil when none can
// match, empty when all do. A list row is its indicator's one version,
// so the first and the last of it.
func listVersionConds(vf store.VersionFilter, p *params) []string {
	if vf.All || vf.Last || vf.First {
		return []string{}
	}
	if len(vf.Times) > 0 {
		return []string{"sh.modified = ANY(" + p.add(fmtTimes(vf)) + ")"}
	}
	return nil
}

// pageListObjects rebuilds the shaped indicators among got; nil at the
// index of every other row.
func (s *Store) pageListObjects(ctx context.Context, q querier, got []pageScan) ([]*intel.Object, error) {
	out := make([]*intel.Object, len(got))
	var rows []listRow
	var at []int
	for i := range got {
		if got[i].row.shape != 0 {
			rows = append(rows, got[i].row)
			at = append(at, i)
		}
	}
	if len(rows) == 0 {
		return out, nil
	}
	objs, err := s.listObjects(ctx, q, rows)
	if err != nil {
		return nil, err
	}
	for j, o := range objs {
		out[at[j]] = o
	}
	return out, nil
}
