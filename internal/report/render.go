package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Formats lists the output formats Render accepts.
var Formats = []string{"html", "md", "json", "stix", "csv"}

// Extension returns the file name extension of a format.
func Extension(format string) string {
	switch format {
	case "md":
		return ".md"
	case "stix":
		return ".stix.json"
	}
	return "." + format
}

// Render writes d in one of Formats.
func Render(format string, w io.Writer, d *Data) error {
	switch strings.ToLower(format) {
	case "html":
		return RenderHTML(w, d)
	case "md", "markdown":
		return RenderMarkdown(w, d)
	case "json":
		return RenderJSON(w, d)
	case "stix":
		return RenderSTIX(w, d)
	case "csv":
		return RenderCSV(w, d)
	}
	return fmt.Errorf("report: unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// RenderJSON writes report.json: the Document, indented.
func RenderJSON(w io.Writer, d *Data) error {
	if err := d.Validate(); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d.Doc); err != nil {
		return fmt.Errorf("report: json: %w", err)
	}
	return nil
}
