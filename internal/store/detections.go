package store

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/whodunit-project/whodunit/internal/behavior"
)

// DetectionQuery selects, orders and pages stored detections the way an
// analyst's triage list does, so that a store answers a page without
// decoding every detection it holds.
type DetectionQuery struct {
	// Above keeps only the detections scoring at least Threshold that no
	// rule suppressed: the ones that count.
	Above     bool
	Threshold float64
	ID        string  // keeps the detection with this id
	MinScore  float64 // keeps scores at or above it
	Analytic  string  // keeps this analytic, ignoring ASCII case
	Host      string  // keeps this source address (as text), exactly
	// Dst keeps destinations whose shown form (behavior.Detection.
	// Destination) contains it, ignoring ASCII case.
	Dst string
	// Match keeps detections with this id, source address or destination
	// address, or this destination name ignoring ASCII case.
	Match string
	Sort  string // one of DetectionSorts; "" is "score"
	Desc  bool   // ties are broken by id, in the same direction
	// Offset skips that many; Limit caps the items (0: only the total;
	// at most MaxDetectionPage).
	Offset, Limit int
}

// DetectionSorts are the orders DetectionQuery.Sort knows.
var DetectionSorts = []string{"score", "analytic", "host", "destination", "first_seen", "count"}

// MaxDetectionPage is the most detections one DetectionsPage returns.
const MaxDetectionPage = 10_000

// DetectionPage is one page of a DetectionQuery.
type DetectionPage struct {
	Total int // matching the filters, all pages
	Items []behavior.Detection
}

// DetectionKeys are the columns a store keeps beside a detection's JSON
// so that DetectionQuery runs in SQL; DetectionKeysOf derives them.
type DetectionKeys struct {
	AnalyticFold string // the analytic in ASCII lower case
	Analytic     string
	Src          string // the source address as text ("" when none)
	SrcOrder     string // sorts bytewise as netip.Addr.Compare does
	Dst          string // Destination()
	DstFold      string // Destination() in ASCII lower case
	DstAddr      string // the destination address as text ("" when none)
	DstNameFold  string
	FirstSeen    string // fixed-width UTC, so text order is time order
	Count        int64
	Suppressed   int // 1 when suppressed
}

// DetectionKeysOf derives d's query columns.
func DetectionKeysOf(d *behavior.Detection) DetectionKeys {
	k := DetectionKeys{AnalyticFold: FoldASCII(d.Analytic), Analytic: d.Analytic, SrcOrder: addrOrder(d),
		Dst: d.Destination(), DstNameFold: FoldASCII(d.DstName), Count: d.Count,
		FirstSeen: d.FirstSeen.UTC().Format("2006-01-02T15:04:05.000000000Z")}
	k.DstFold = FoldASCII(k.Dst)
	if d.Src.IsValid() {
		k.Src = d.Src.String()
	}
	if d.Dst.IsValid() {
		k.DstAddr = d.Dst.String()
	}
	if d.Suppressed {
		k.Suppressed = 1
	}
	return k
}

// addrOrder is the source address as text that sorts like
// netip.Addr.Compare: no address, then IPv4, then IPv6, by bytes, then zone.
func addrOrder(d *behavior.Detection) string {
	a := d.Src
	switch {
	case !a.IsValid():
		return "0"
	case a.Is4():
		b := a.As4()
		return "1" + hex.EncodeToString(b[:])
	default:
		b := a.As16()
		return "2" + hex.EncodeToString(b[:]) + "%" + a.Zone()
	}
}

// FoldASCII lowers ASCII letters only, as SQL's lower() does everywhere.
func FoldASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// Check rejects a query no store should run.
func (q DetectionQuery) Check() error {
	switch {
	case q.Sort != "" && !slices.Contains(DetectionSorts, q.Sort):
		return fmt.Errorf("detections: unknown sort %q", q.Sort)
	case q.Offset < 0 || q.Limit < 0 || q.Limit > MaxDetectionPage:
		return fmt.Errorf("detections: offset %d, limit %d out of range", q.Offset, q.Limit)
	}
	return nil
}

// SQL is q's WHERE condition and ORDER BY list over the detections
// table's key columns, with its arguments; ph(n) writes the n-th
// placeholder (from 1) in the store's dialect.
func (q DetectionQuery) SQL(ph func(int) string) (where, order string, args []any) {
	var conds []string
	add := func(cond string, vals ...any) {
		for _, v := range vals {
			args = append(args, v)
			cond = strings.Replace(cond, "?", ph(len(args)), 1)
		}
		conds = append(conds, cond)
	}
	if q.Above {
		add("suppressed = 0 AND score >= ?", q.Threshold)
	}
	if q.ID != "" {
		add("id = ?", q.ID)
	}
	if q.MinScore > 0 {
		add("score >= ?", q.MinScore)
	}
	if q.Analytic != "" {
		add("analytic_fold = ?", FoldASCII(q.Analytic))
	}
	if q.Host != "" {
		add("src = ?", q.Host)
	}
	if q.Dst != "" {
		add(`dst_fold LIKE ? ESCAPE '\'`, "%"+escapeLike(FoldASCII(q.Dst))+"%")
	}
	if q.Match != "" {
		add("(id = ? OR src = ? OR dst_addr = ? OR dst_name_fold = ?)", q.Match, q.Match, q.Match, FoldASCII(q.Match))
	}
	where = "1 = 1"
	if len(conds) > 0 {
		where = strings.Join(conds, " AND ")
	}
	dir := " ASC"
	if q.Desc {
		dir = " DESC"
	}
	return where, sortColumn[q.Sort] + dir + ", id" + dir, args
}

var sortColumn = map[string]string{"": "score", "score": "score", "analytic": "analytic", "host": "src_order",
	"destination": "dst", "first_seen": "first_seen", "count": "series_count"}

// DetectionIndexes are the indexes a store keeps on its detections: one
// per order (walked either way, ties by id in the same direction, so a
// page needs no sort of the whole table) and one for what counts.
var DetectionIndexes = []string{
	"CREATE INDEX IF NOT EXISTS detections_score ON detections(score, id)",
	"CREATE INDEX IF NOT EXISTS detections_analytic ON detections(analytic, id)",
	"CREATE INDEX IF NOT EXISTS detections_src ON detections(src_order, id)",
	"CREATE INDEX IF NOT EXISTS detections_dst ON detections(dst, id)",
	"CREATE INDEX IF NOT EXISTS detections_first_seen ON detections(first_seen, id)",
	"CREATE INDEX IF NOT EXISTS detections_count ON detections(series_count, id)",
	"CREATE INDEX IF NOT EXISTS detections_above ON detections(suppressed, score)",
}

// escapeLike makes s match itself in a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// DetectionPlaceholderQ and DetectionPlaceholderDollar are the two
// placeholder dialects of the stores.
func DetectionPlaceholderQ(int) string        { return "?" }
func DetectionPlaceholderDollar(n int) string { return "$" + strconv.Itoa(n) }
