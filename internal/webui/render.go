package webui

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/behavior"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

var pages = template.Must(template.New("pages").Funcs(template.FuncMap{
	"stamp":   stamp,
	"date":    func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"pct":     func(x float64) string { return fmt.Sprintf("%.0f%%", 100*x) },
	"score":   func(x float64) string { return fmt.Sprintf("%.2f", x) },
	"dest":    func(d *behavior.Detection) string { return d.Destination() },
	"join":    strings.Join,
	"lastRef": func(i, n int) bool { return i == n-1 },
}).ParseFS(templateFS, "templates/*.tmpl"))

// render executes a page into a buffer first, so a failing template
// never sends half a page.
func (u *UI) render(w http.ResponseWriter, status int, name string, data any) {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		u.cfg.Log.Error("webui: rendering", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

func (u *UI) errorPage(w http.ResponseWriter, status int, msg string) {
	u.render(w, status, "error", struct {
		layout
		Message string
		Status  int
	}{layout{Title: http.StatusText(status)}, msg, status})
}

func (u *UI) notFound(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSONError(w, http.StatusNotFound, "no such API route")
		return
	}
	u.errorPage(w, http.StatusNotFound, "no such page")
}

// static serves the embedded script and style sheet.
func (u *UI) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := staticFS.ReadFile("static/" + path.Base(name))
	if err != nil || name != path.Base(name) {
		http.NotFound(w, r)
		return
	}
	switch path.Ext(name) {
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case ".svg":
		w.Header().Set("Content-Type", "image/svg+xml")
	}
	_, _ = w.Write(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encoding the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": msg, "status": status})
}
