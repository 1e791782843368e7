package hunt

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/report"
)

// WriteReports writes every report format into dir (report.html, .md,
// .json, .stix.json and the sightings CSV), each atomically, and returns
// the paths written.
func WriteReports(dir string, data *report.Data) ([]string, error) {
	var written []string
	for _, f := range report.Formats {
		path := filepath.Join(dir, ReportName(f, data))
		if err := fileio.WriteAtomic(path, func(w io.Writer) error { return report.Render(f, w, data) }); err != nil {
			return written, fmt.Errorf("writing %s: %w", path, err)
		}
		written = append(written, path)
	}
	return written, nil
}

// ReportName is the file name of one report format in a report directory.
func ReportName(format string, data *report.Data) string {
	if format != "csv" {
		return "report" + report.Extension(format)
	}
	if data.CSVName != "" {
		return data.CSVName
	}
	return "sightings.csv"
}
