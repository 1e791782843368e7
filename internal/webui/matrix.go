package webui

import (
	"fmt"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/report"
)

// matrix is the evidence × hypothesis table of a campaign: one row per
// evidence item, one column per hypothesis (the report's first
// MaxMatrixColumns), the cell of the hypothesis the item bears on
// holding its weight and the records it cites.
type matrix struct {
	Hypotheses []attribute.Hypothesis
	Rows       []matrixRow
}

type matrixRow struct {
	Index    int
	Evidence *report.Evidence
	Cells    []matrixCell
}

type matrixCell struct {
	Weight  string // "" when the item does not bear on this hypothesis
	Against bool
	Records []attribute.SightingRef
	More    int // records behind the item that the run did not cite
}

func buildMatrix(c *report.Campaign) matrix {
	hs := c.Attribution.Hypotheses
	if len(hs) > report.MaxMatrixColumns {
		hs = hs[:report.MaxMatrixColumns]
	}
	m := matrix{Hypotheses: hs}
	for i := range c.Attribution.Evidence {
		e := &c.Attribution.Evidence[i]
		row := matrixRow{Index: i, Evidence: e, Cells: make([]matrixCell, len(hs))}
		for j, h := range hs {
			if h.ID != e.SupportsID {
				continue
			}
			sign := "+"
			if e.Against {
				sign = "−"
			}
			row.Cells[j] = matrixCell{Weight: fmt.Sprintf("%s%.2f", sign, e.Weight), Against: e.Against,
				Records: e.Sightings, More: max(0, e.Count-len(e.Sightings))}
		}
		m.Rows = append(m.Rows, row)
	}
	return m
}
