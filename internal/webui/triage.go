package webui

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/store"
)

// triageQuery is the detections list's sort, filters and page, read from
// the query string that both the page and the API take.
type triageQuery struct {
	Sort     string  `json:"sort"`  // score, analytic, host, destination, first_seen, count
	Order    string  `json:"order"` // desc or asc
	Analytic string  `json:"analytic,omitempty"`
	Host     string  `json:"host,omitempty"`        // the source address, exactly
	Dst      string  `json:"destination,omitempty"` // part of the destination name or address
	MinScore float64 `json:"min_score"`
	All      bool    `json:"all"` // below the threshold and suppressed ones too
	Page     int     `json:"page"`
}

var triageSorts = store.DetectionSorts

const maxFilterLen = 256

// parseTriage reads the query; a value it does not know is an error that
// names the parameter, never a silent default.
func parseTriage(v url.Values) (triageQuery, error) {
	q := triageQuery{Sort: "score", Order: "desc", Page: 1}
	for name, vals := range v {
		if len(vals) != 1 {
			return q, fmt.Errorf("parameter %q: given %d times, want once", name, len(vals))
		}
		if len(vals[0]) > maxFilterLen {
			return q, fmt.Errorf("parameter %q: longer than %d bytes", name, maxFilterLen)
		}
		if err := q.set(name, strings.TrimSpace(vals[0])); err != nil {
			return q, fmt.Errorf("parameter %q: %w", name, err)
		}
	}
	return q, nil
}

func (q *triageQuery) set(name, val string) error {
	var err error
	switch name {
	case "sort":
		if !slices.Contains(triageSorts, val) {
			return fmt.Errorf("%q is not one of %s", val, strings.Join(triageSorts, ", "))
		}
		q.Sort = val
	case "order":
		if val != "asc" && val != "desc" {
			return fmt.Errorf("%q is not asc or desc", val)
		}
		q.Order = val
	case "analytic":
		q.Analytic = val
	case "host":
		q.Host = val
	case "destination":
		q.Dst = val
	case "min_score":
		q.MinScore, err = strconv.ParseFloat(val, 64)
		if err == nil && (q.MinScore < 0 || q.MinScore > 1 || q.MinScore != q.MinScore) {
			err = fmt.Errorf("%q is not between 0 and 1", val)
		}
	case "all":
		q.All, err = strconv.ParseBool(val)
	case "page":
		q.Page, err = strconv.Atoi(val)
		if err == nil && (q.Page < 1 || q.Page > 1_000_000) {
			err = fmt.Errorf("%q is not a page number", val)
		}
	default:
		return fmt.Errorf("unknown parameter")
	}
	return err
}

// triaged is one page of the filtered, sorted list.
type triaged struct {
	Query    triageQuery          `json:"query"`
	Total    int                  `json:"total"` // matching the filters, all pages
	Pages    int                  `json:"pages"`
	Items    []behavior.Detection `json:"items"`
	PageSize int                  `json:"page_size"`
	// Decisions are the verdicts in force on the page's items, by id.
	Decisions map[string]store.Verdict `json:"decisions"`
}

// storeQuery is q as the store runs it: the page of size items, the
// threshold of what counts unless All.
func (q triageQuery) storeQuery(threshold float64, size int) store.DetectionQuery {
	return store.DetectionQuery{Above: !q.All, Threshold: threshold, MinScore: q.MinScore, Analytic: q.Analytic,
		Host: q.Host, Dst: q.Dst, Sort: q.Sort, Desc: q.Order == "desc", Offset: (q.Page - 1) * size, Limit: size}
}
