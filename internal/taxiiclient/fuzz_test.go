package taxiiclient

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzAnswers serves arbitrary bodies and statuses to every reading call:
// the client returns a page, a status or an error, and never panics.
func FuzzAnswers(f *testing.F) {
	f.Add(200, []byte(`{"more":true,"next":"abc","objects":[{"type":"indicator"}]}`))
	f.Add(200, []byte(`{"id":"s1","status":"complete","total_count":1,"success_count":1}`))
	f.Add(200, []byte(`{"default":"http://[::1]:0/x/","api_roots":[]}`))
	f.Add(200, []byte(`{"collections":[{"id":"c","alias":"intel","can_read":true}]}`))
	f.Add(503, []byte(`{"title":"busy"}`))
	f.Add(200, []byte(`{"objects":[`))
	f.Fuzz(func(t *testing.T, code int, body []byte) {
		if code < 200 || code > 599 {
			code = 200
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(code)
			_, _ = w.Write(body)
		}))
		defer srv.Close()
		c := New()
		c.Retries = 0
		ctx := context.Background()
		_, _ = c.Objects(ctx, srv.URL, "c", Query{AddedAfter: "x", Next: "y", Limit: 3})
		_, _ = c.Status(ctx, srv.URL, "s1")
		_, _ = c.Collection(ctx, srv.URL, "intel")
		_, _ = c.APIRoot(ctx, srv.URL)
		_, _ = c.Post(ctx, srv.URL, "c", nil)
	})
}
