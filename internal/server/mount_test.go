package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TAXII prefixes reach TAXII, every other path the interface; a prefix
// the interface reserves is refused.
func TestMount(t *testing.T) {
	named := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, name) })
	}
	h, err := Mount(named("ui"), []string{"api", "login"}, named("taxii"), "taxii2", "whodunit")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/taxii2/": "taxii", "/whodunit/collections/": "taxii", "/": "ui",
		"/api/v1/overview": "ui", "/login": "ui", "/whodunitx/": "ui",
		"//taxii2/": "taxii", "/taxii2": "taxii", "/./whodunit/../whodunit/": "taxii"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Body.String() != want {
			t.Errorf("%s reached %q, want %q", path, w.Body.String(), want)
		}
	}
	if _, err := Mount(named("ui"), []string{"api"}, named("taxii"), "taxii2", "API"); err == nil {
		t.Error("an API root named like a reserved path was accepted")
	}
}
