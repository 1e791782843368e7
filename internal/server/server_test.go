package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

// start runs a server on a loopback port and returns its address and a
// function that stops it and returns Run's error.
func start(t *testing.T, cfg Config) (string, func() error) {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	addrs := make(chan string, 1)
	cfg.Ready = func(a net.Addr) { addrs <- a.String() }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	select {
	case a := <-addrs:
		var once sync.Once
		var err error
		stop := func() error { once.Do(func() { cancel(); err = <-done }); return err }
		t.Cleanup(func() { _ = stop() })
		return a, stop
	case err := <-done:
		cancel()
		t.Fatal(err)
	}
	return "", nil
}

// A request in flight when shutdown begins is answered in full.
func TestGracefulShutdown(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "finished")
	})
	addr, stop := start(t, Config{Handler: h})
	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{string(b), err}
	}()
	<-entered
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	// the listener closes at once: a new connection is refused
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	r := <-got
	if r.err != nil || r.body != "finished" {
		t.Fatalf("in-flight request: %q %v", r.body, r.err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// A client that sends its headers slowly is cut off.
func TestSlowClientHeaderTimeout(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	addr, _ := start(t, Config{Handler: h, ReadHeaderTimeout: 100 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	// never finish the headers: the server must close the connection
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server kept a slow client's connection open")
	}
	if strings.Contains(string(b), "200 OK") {
		t.Fatalf("slow request answered: %q", b)
	}
}

// Bodies above MaxBody fail to read in the handler.
func TestBodyBounded(t *testing.T) {
	var readErr error
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, readErr = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusRequestEntityTooLarge)
	})
	addr, _ := start(t, Config{Handler: h, MaxBody: 100})
	resp, err := http.Post("http://"+addr+"/", "text/plain", bytes.NewReader(make([]byte, 1000)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var mb *http.MaxBytesError
	if !errors.As(readErr, &mb) {
		t.Fatalf("reading an oversized body: %v", readErr)
	}
}

// Every request is audited in the store and the log, with the key and
// object count the handler noted.
func TestAudit(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var logBuf safeBuffer
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := NoteFrom(r.Context()); n != nil && r.URL.Path == "/ok" {
			n.Key, n.Objects = "partner", 7
		}
		if r.URL.Path != "/ok" {
			w.WriteHeader(http.StatusNotFound)
		}
	})
	addr, stop := start(t, Config{Handler: h, Audit: db, Log: slog.New(slog.NewTextHandler(&logBuf, nil))})
	for _, p := range []string{"/ok?limit=3", "/missing"} {
		resp, err := http.Get("http://" + addr + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var got []store.AuditEntry
	if err := db.Audit(context.Background(), store.AuditQuery{}, func(e store.AuditEntry) error {
		got = append(got, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("audit: %+v", got)
	}
	a, b := got[0], got[1]
	if a.Key != "partner" || a.Objects != 7 || a.Status != 200 || a.Path != "/ok?limit=3" || a.Method != "GET" || !strings.HasPrefix(a.Remote, "127.0.0.1:") {
		t.Fatalf("first entry: %+v", a)
	}
	if b.Key != "" || b.Status != 404 || b.Path != "/missing" {
		t.Fatalf("second entry: %+v", b)
	}
	if !strings.Contains(logBuf.String(), "key=partner") || !strings.Contains(logBuf.String(), "status=404") {
		t.Fatalf("log: %s", logBuf.String())
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:1": true, "[::1]:1": true, "0.0.0.0:1": false, "192.0.2.1:1": false, "[::]:1": false} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if IsLoopback(a) != want {
			t.Errorf("%s: %v", addr, !want)
		}
	}
}

func TestConfigRefusesHalfTLS(t *testing.T) {
	err := Run(context.Background(), Config{Handler: http.NotFoundHandler(), TLSCert: "c.pem"})
	if err == nil || !strings.Contains(err.Error(), "tls") {
		t.Fatalf("cert without key: %v", err)
	}
}

type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
