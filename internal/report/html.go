package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
)

//go:embed report.html.tmpl
var htmlSource string

//go:embed report.css
var cssSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{"n": thousands}).Parse(htmlSource))

// RenderHTML writes the report as one self-contained HTML file: styles and
// charts inline, no scripts, no external requests; it prints cleanly.
func RenderHTML(w io.Writer, d *Data) error {
	if err := d.Validate(); err != nil {
		return err
	}
	v := buildView(d, true)
	data := struct {
		*view
		CSS template.CSS
	}{v, template.CSS(cssSource)}
	if err := htmlTemplate.Execute(w, data); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	return nil
}
