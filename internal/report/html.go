package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
)

//go:embed report.html.tmpl
var htmlSource string

//go:embed report.css
var cssSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{"n": number, "wbr": breakAtDots}).Parse(htmlSource))

// number writes any integer with thousands separators.
func number(v any) string {
	switch n := v.(type) {
	case int:
		return thousands(int64(n))
	case int64:
		return thousands(n)
	}
	return fmt.Sprint(v)
}

// MinBreakLength is the length from which a value may break after its
// dots: long domain names wrap at a label boundary, not mid-label.
const MinBreakLength = 24

// breakAtDots escapes s and lets a long one wrap after each dot.
func breakAtDots(s string) template.HTML {
	esc := template.HTMLEscapeString(s)
	if len(s) < MinBreakLength {
		return template.HTML(esc)
	}
	return template.HTML(strings.ReplaceAll(esc, ".", ".<wbr>"))
}

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
