package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"
)

// CSVHeader names the columns of RenderCSV.
var CSVHeader = []string{"time", "campaign", "indicator_id", "indicator", "type", "field", "value", "direction",
	"src_ip", "src_port", "dst_ip", "dst_port", "kind", "file", "line", "offset", "uid", "suppressed", "warninglist", "snapshot"}

// RenderCSV writes every sighting, one row each, in time order, with the
// campaign it belongs to ("" when none), for spreadsheets.
func RenderCSV(w io.Writer, d *Data) error {
	if err := d.Validate(); err != nil {
		return err
	}
	campaign := make([]string, len(d.Sightings))
	for i := range d.Doc.Campaigns {
		c := &d.Doc.Campaigns[i]
		for _, si := range d.sightingsOf(c) {
			if campaign[si] == "" {
				campaign[si] = c.ID
			}
		}
	}
	idx := make([]int, len(d.Sightings))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return d.Sightings[idx[a]].Time.Before(d.Sightings[idx[b]].Time) })
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("report: csv: %w", err)
	}
	addr := func(s string) string {
		if s == "invalid IP" {
			return ""
		}
		return s
	}
	port := func(p uint16) string {
		if p == 0 {
			return ""
		}
		return strconv.Itoa(int(p))
	}
	for _, i := range idx {
		s := &d.Sightings[i]
		tm := ""
		if !s.Time.IsZero() {
			tm = s.Time.UTC().Format(time.RFC3339Nano)
		}
		rec := []string{tm, campaign[i], s.IndicatorID, csvSafe(s.Indicator), string(s.Type), s.Field, csvSafe(s.Value), s.Direction,
			addr(s.SrcIP.String()), port(s.SrcPort), addr(s.DstIP.String()), port(s.DstPort), s.Kind.String(), csvSafe(s.File),
			strconv.FormatInt(s.Line, 10), strconv.FormatInt(s.Offset, 10), s.UID, strconv.FormatBool(s.Suppressed), s.Warninglist, s.Snapshot}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("report: csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report: csv: %w", err)
	}
	return nil
}

// csvSafe defuses values that spreadsheets would run as formulas: the
// values come from adversary-controlled traffic (URLs, user agents).
func csvSafe(s string) string {
	if s != "" {
		switch s[0] {
		case '=', '+', '-', '@', '\t', '\r':
			return "'" + s
		}
	}
	return s
}
