package scan

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// WriteText prints the end-of-scan summary for people: totals on one line,
// then one line per file with bad records or an error, with the first
// errors indented below it.
func (s Summary) WriteText(w io.Writer) error {
	secs := s.Duration.Seconds()
	rate := ""
	if secs > 0 {
		rate = fmt.Sprintf(", %s/s", formatBytes(int64(float64(s.DataBytes)/secs)))
	}
	skipped := ""
	if s.SkippedFiles > 0 {
		skipped = fmt.Sprintf(" (%d skipped)", s.SkippedFiles)
	}
	_, err := fmt.Fprintf(w, "scanned %d files%s, %s in %.1fs%s: %d events, %d sightings, %d suppressed, %d bad records\n",
		len(s.Files)-s.SkippedFiles, skipped, formatBytes(s.DataBytes), secs, rate, s.Events, s.Sightings, s.Suppressed, s.BadRecords)
	if err != nil {
		return err
	}
	if len(s.SuppressedBy) > 0 {
		lists := make([]string, 0, len(s.SuppressedBy))
		for l := range s.SuppressedBy {
			lists = append(lists, l)
		}
		sort.Strings(lists)
		parts := make([]string, len(lists))
		for i, l := range lists {
			parts[i] = fmt.Sprintf("%s %d", l, s.SuppressedBy[l])
		}
		fmt.Fprintf(w, "suppressed by warninglist: %s\n", strings.Join(parts, ", "))
	}
	for _, f := range s.Files {
		if f.Err == "" && f.BadRecords == 0 {
			continue
		}
		if f.BadRecords > 0 {
			fmt.Fprintf(w, "%s: %d bad records\n", f.Path, f.BadRecords)
		}
		if f.Err != "" {
			fmt.Fprintf(w, "error: %s\n", f.Err)
		}
		for _, e := range f.Errors {
			fmt.Fprintf(w, "  %s\n", e)
		}
		if n := f.BadRecords - int64(len(f.Errors)); n > 0 && len(f.Errors) > 0 {
			fmt.Fprintf(w, "  … and %d more\n", n)
		}
	}
	return nil
}
