// Package server is the HTTP server whodunit serves through: listening
// (loopback unless told otherwise, TLS when given a certificate), timeouts
// against slow clients, bounded bodies, graceful shutdown, and an audit
// record of every request in the store and in the log.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/whodunit-project/whodunit/internal/store"
)

// DefaultListen is the address served when none is given: loopback only.
const DefaultListen = "127.0.0.1:8470"

// Config describes one server.
type Config struct {
	Listen          string // host:port; DefaultListen when empty
	TLSCert, TLSKey string // both or neither
	Handler         http.Handler
	Audit           store.AuditLog // nil: log only
	Log             *slog.Logger
	MaxBody         int64 // bound of every request body; 64 MiB when 0
	// Timeouts; the defaults suit TAXII pages of 1,000 objects.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	ShutdownTimeout                                           time.Duration
	// Ready, when set, is called with the address listened on.
	Ready func(addr net.Addr)
}

func (c *Config) fill() error {
	if c.Handler == nil {
		return errors.New("server: no handler")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("server: --tls-cert and --tls-key go together")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.ReadHeaderTimeout, 10*time.Second)
	def(&c.ReadTimeout, 60*time.Second)
	def(&c.WriteTimeout, 120*time.Second)
	def(&c.IdleTimeout, 120*time.Second)
	def(&c.ShutdownTimeout, 30*time.Second)
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.MaxBody <= 0 {
		c.MaxBody = 64 << 20
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Run serves until ctx is done, then stops accepting, lets in-flight
// requests finish (up to ShutdownTimeout) and returns. Closing the store
// is the caller's, after Run returns.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.fill(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	if !IsLoopback(ln.Addr()) && cfg.TLSCert == "" {
		cfg.Log.Warn("serving beyond loopback without TLS: keys and intelligence cross the network in clear text (give --tls-cert and --tls-key)", "addr", ln.Addr().String())
	}
	srv := &http.Server{
		Handler:           cfg.wrap(cfg.Handler),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(cfg.Log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if cfg.Ready != nil {
		cfg.Ready(ln.Addr())
	}
	done := make(chan error, 1)
	go func() {
		if cfg.TLSCert != "" {
			done <- srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			done <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	cfg.Log.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// IsLoopback reports whether addr is on the loopback interface only.
func IsLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// wrap adds the bounded body and the audit record around h.
func (c *Config) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, note := withNote(r.Context())
		r = r.WithContext(ctx)
		r.Body = http.MaxBytesReader(w, r.Body, c.MaxBody)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		c.audit(r, note, rec.status, time.Since(start), start)
	})
}

// audit writes the request to the log and the store. The store write
// uses its own context: a client that hung up is audited too.
func (c *Config) audit(r *http.Request, n *Note, status int, took time.Duration, at time.Time) {
	e := store.AuditEntry{At: at.UTC(), Key: n.Key, Remote: r.RemoteAddr, Method: r.Method,
		Path: r.URL.RequestURI(), Status: status, Objects: n.Objects, Took: took}
	c.Log.Info("request", "key", e.Key, "remote", e.Remote, "method", e.Method, "path", e.Path,
		"status", e.Status, "objects", e.Objects, "took", e.Took)
	if c.Audit == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Audit.PutAudit(ctx, e); err != nil {
		c.Log.Error("audit: storing the request", "err", err, "path", e.Path)
	}
}

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
