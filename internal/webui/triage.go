package webui

import (
	"cmp"
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

var triageSorts = []string{"score", "analytic", "host", "destination", "first_seen", "count"}

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

// apply filters, sorts and pages dets (which it may reorder).
func (q triageQuery) apply(dets []behavior.Detection, threshold float64, size int) triaged {
	kept := slices.DeleteFunc(dets, func(d behavior.Detection) bool { return !q.keeps(&d, threshold) })
	slices.SortStableFunc(kept, func(a, b behavior.Detection) int {
		c := q.compare(&a, &b)
		if c == 0 {
			c = cmp.Compare(a.ID, b.ID) // a stable order across pages
		}
		return c
	})
	t := triaged{Query: q, Total: len(kept), PageSize: size, Pages: (len(kept) + size - 1) / size,
		Items: []behavior.Detection{}, Decisions: map[string]store.Verdict{}}
	from := (q.Page - 1) * size
	if from < len(kept) {
		t.Items = kept[from:min(from+size, len(kept))]
	}
	return t
}

func (q triageQuery) keeps(d *behavior.Detection, threshold float64) bool {
	switch {
	case !q.All && (d.Suppressed || d.Score < threshold):
		return false
	case d.Score < q.MinScore:
		return false
	case q.Analytic != "" && !strings.EqualFold(d.Analytic, q.Analytic):
		return false
	case q.Host != "" && d.Src.String() != q.Host:
		return false
	case q.Dst != "" && !strings.Contains(strings.ToLower(destination(d)), strings.ToLower(q.Dst)):
		return false
	}
	return true
}

func (q triageQuery) compare(a, b *behavior.Detection) int {
	var c int
	switch q.Sort {
	case "analytic":
		c = cmp.Compare(a.Analytic, b.Analytic)
	case "host":
		c = a.Src.Compare(b.Src)
	case "destination":
		c = cmp.Compare(destination(a), destination(b))
	case "first_seen":
		c = a.FirstSeen.Compare(b.FirstSeen)
	case "count":
		c = cmp.Compare(a.Count, b.Count)
	default:
		c = cmp.Compare(a.Score, b.Score)
	}
	if q.Order == "desc" {
		c = -c
	}
	return c
}

// destination is how a detection's destination is shown: name, address
// and port as known.
func destination(d *behavior.Detection) string {
	s := d.DstName
	if d.Dst.IsValid() {
		if s != "" {
			s += " "
		}
		s += d.Dst.String()
	}
	if d.DstPort != 0 {
		s += ":" + strconv.Itoa(int(d.DstPort))
	}
	return s
}
