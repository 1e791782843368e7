package eval

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/whodunit-project/whodunit/internal/behavior"
)

// Definitions is printed above the table.
const Definitions = `series: source→destination address (DNS tunnel: source→registered domain; DGA: source host).
malicious series: most of its labelled records are labelled Malicious.
detected: score ≥ threshold and not suppressed; several detections of one series count once.
precision = detected malicious series / detected series.
recall(all) over every malicious address pair; recall(assessable) over outbound malicious pairs with ≥ MinCheckins records.
A pair counts as found when a detection names it, or a DGA detection names its source host (by either of its addresses).
lowered/suppressed: findings whose raw score reached the threshold and that a known-benign list or network brought below it.
disputed: labels the traffic contradicts (listed per dataset); counted as labelled, and set aside in precision*/recall*.`

// WriteTable prints the per-dataset precision / recall table.
func WriteTable(w io.Writer, results []*Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "dataset\tevents\tseries\tmalicious\tassessable\tdetected\tTP\tFP\tprecision\trecall(all)\trecall(assessable)\tlowered/suppressed\tdisputed\tprecision*\trecall*\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.2f\t%.2f\t%.2f\t%d\t%d\t%.2f\t%.2f\t\n",
			r.Dataset.Name, r.Events, r.Series, r.MaliciousSeries, r.Assessable, r.DetectedSeries, r.TruePositives,
			len(r.FalsePos), r.Precision(), r.Recall(), r.RecallAssessable(), len(r.Lowered),
			len(r.Dataset.Disputed), r.PrecisionUndisputed(), r.RecallUndisputed())
	}
	tw.Flush()
}

// WriteDetails prints, per dataset, what was found, missed, wrongly flagged
// and lowered by the known-benign lists, with the reasons.
func WriteDetails(w io.Writer, results []*Result) {
	for _, r := range results {
		fmt.Fprintf(w, "\n== %s: %s\n   labels: %s\n", r.Dataset.Name, r.Dataset.About, r.Dataset.LabelRule)
		if r.Dataset.Note != "" {
			fmt.Fprintf(w, "   note: %s\n", r.Dataset.Note)
		}
		for _, d := range r.Dataset.Disputed {
			fmt.Fprintf(w, "   disputed label: %s\n", d)
		}
		if r.BadRecords > 0 {
			fmt.Fprintf(w, "   %d bad records skipped\n", r.BadRecords)
		}
		if n := r.AnalyzerSts.NoSource; n > 0 {
			fmt.Fprintf(w, "   %d connection records in which the local host sent nothing (backscatter) not counted as contacts\n", n)
		}
		section(w, "found (malicious, detected)", r.Found)
		if len(r.Missed) > 0 {
			fmt.Fprintln(w, "   missed (assessable malicious series):")
			for _, m := range r.Missed {
				fmt.Fprintln(w, "     -", m)
			}
		}
		section(w, "false positives", r.FalsePos)
		section(w, "lowered below the threshold or suppressed (raw score ≥ threshold)", r.Lowered)
	}
}

func section(w io.Writer, title string, fs []Finding) {
	if len(fs) == 0 {
		return
	}
	fmt.Fprintf(w, "   %s:\n", title)
	for _, f := range fs {
		d := f.Detection
		fmt.Fprintf(w, "     - %-16s %s  score %.2f (raw %.2f)%s  [%s]\n", d.Analytic, f.Unit, d.Score, d.RawScore, nameOf(d), f.Labels)
		if f.Disputed != "" {
			fmt.Fprintln(w, "         disputed label (see above)")
		}
		if len(d.SrcAliases) > 0 {
			fmt.Fprintf(w, "         same host as %v\n", d.SrcAliases)
		}
		if s := summary(d); s != "" {
			fmt.Fprintf(w, "         %s\n", s)
		}
		for _, m := range d.Modifiers {
			fmt.Fprintf(w, "         modifier %s ×%.2g: %s\n", m.Name, m.Factor, m.Reason)
		}
	}
}

func nameOf(d behavior.Detection) string {
	if d.Dst.IsValid() && d.DstName != "" {
		return " " + d.DstName
	}
	return ""
}

// WriteTargets prints whether each dataset met its target.
func WriteTargets(w io.Writer, ts []Target) {
	fmt.Fprintln(w, "targets:")
	for _, t := range ts {
		v := "met"
		if !t.Met {
			v = "NOT MET"
		}
		fmt.Fprintf(w, "  %s %-7s %s — %s\n", t.Dataset, v, t.Goal, t.Detail)
	}
}

// summary picks the key facts of a finding.
func summary(d behavior.Detection) string {
	var keep []string
	for _, f := range d.Facts {
		switch {
		case strings.HasPrefix(f, "interval median"), strings.HasPrefix(f, "connected "),
			strings.Contains(f, "distinct registered domains failed"), strings.Contains(f, "records in one"),
			strings.Contains(f, "distinct subdomains"), strings.HasPrefix(f, "destination in AS"):
			keep = append(keep, f)
		}
	}
	return strings.Join(keep, "; ")
}
