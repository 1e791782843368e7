package taxiiclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func fastClient() *Client {
	c := New()
	c.Backoff, c.MaxBackoff = time.Millisecond, 4*time.Millisecond
	return c
}

// A server that fails twice with 503 is asked three times; a 404 once.
func TestRetriesTransientOnly(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		switch {
		case strings.Contains(r.URL.Path, "missing"):
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"title":"not found","description":"no such collection"}`))
		case n <= 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.Header().Set("X-TAXII-Date-Added-Last", "2026-12-02T00:00:00.000Z")
			_, _ = w.Write([]byte(`{"more":false,"objects":[{"type":"indicator","id":"indicator--1"}]}`))
		}
	}))
	defer srv.Close()
	c := fastClient()
	p, err := c.Objects(context.Background(), srv.URL+"/root/", "c1", Query{Limit: 10})
	if err != nil || len(p.Objects) != 1 || p.DateAddedLast != "2026-12-02T00:00:00.000Z" || calls.Load() != 3 {
		t.Fatalf("page %+v err %v after %d calls", p, err, calls.Load())
	}
	calls.Store(10)
	_, err = c.Objects(context.Background(), srv.URL+"/root/", "missing", Query{})
	var te *Error
	if !errors.As(err, &te) || te.Status != 404 || te.Description != "no such collection" || calls.Load() != 11 {
		t.Fatalf("404: %v (%d calls)", err, calls.Load())
	}
}

// Retries stop after Retries; the last error is returned.
func TestRetriesGiveUp(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	c := fastClient()
	c.Retries = 2
	_, err := c.Collections(context.Background(), srv.URL)
	var te *Error
	if !errors.As(err, &te) || te.Status != http.StatusBadGateway || calls.Load() != 3 {
		t.Fatalf("%v after %d calls", err, calls.Load())
	}
}

// Answers are bounded; the limit is named.
func TestBodyBounded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"objects":[` + strings.Repeat(`{},`, 1000) + `{}]}`))
	}))
	defer srv.Close()
	c := fastClient()
	c.MaxBody = 100
	if _, err := c.Objects(context.Background(), srv.URL, "c", Query{}); err == nil || !strings.Contains(err.Error(), "larger than 100 bytes") {
		t.Fatalf("err %v", err)
	}
}

// A discovery URL resolves to its default API root, relative or absolute;
// an API root URL is taken as it is.
func TestAPIRoot(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/taxii2/":
			_, _ = w.Write([]byte(`{"title":"x","default":"/api1/","api_roots":["/api1/","/api2/"]}`))
		case "/two/":
			_, _ = w.Write([]byte(`{"title":"x","api_roots":["/api1/","/api2/"]}`))
		default:
			_, _ = w.Write([]byte(`{"title":"root","versions":["application/taxii+json;version=2.1"]}`))
		}
	}))
	defer srv.Close()
	c := fastClient()
	ctx := context.Background()
	if r, err := c.APIRoot(ctx, srv.URL+"/taxii2"); err != nil || r != srv.URL+"/api1/" {
		t.Fatalf("discovery: %q %v", r, err)
	}
	if r, err := c.APIRoot(ctx, srv.URL+"/api2/"); err != nil || r != srv.URL+"/api2/" {
		t.Fatalf("root: %q %v", r, err)
	}
	if _, err := c.APIRoot(ctx, srv.URL+"/two/"); err == nil || !strings.Contains(err.Error(), "no default") {
		t.Fatalf("two roots: %v", err)
	}
}

// A syntax error in an answer names its byte offset.
func TestDecodeErrorOffset(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"objects":[{"type":}]}`))
	}))
	defer srv.Close()
	if _, err := fastClient().Objects(context.Background(), srv.URL, "c", Query{}); err == nil || !strings.Contains(err.Error(), "offset 21") {
		t.Fatalf("err %v", err)
	}
}
