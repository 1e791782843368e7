// Package taxii serves the store over TAXII 2.1: discovery, one API root,
// its collections (intel, findings, inbox and operator-defined subsets),
// objects, manifests, versions and status resources. Objects are served
// from the STIX each version was stored with, one store page query per
// page, and only to keys whose TLP ceiling covers them.
package taxii

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

// Store is what the server reads and writes.
type Store interface {
	store.ObjectPager
	store.KeyStore
	store.StatusStore
	hunt.ImportTarget
	SightingsPage(ctx context.Context, q store.SightingQuery, after store.Cursor, limit int) (store.SightingPage, error)
	Analysis(ctx context.Context, id string) (*store.Analysis, error)
	store.ObjectDeleter
	ObjectSources(ctx context.Context, id string) ([]intel.Source, error)
}

// Defaults of Config.
const (
	DefaultAPIRoot  = "whodunit"
	DefaultMaxPage  = 1000
	DefaultMaxBody  = 64 << 20
	DefaultMaxDepth = 64
	// StatusLifetime is how long a POST's status resource is kept; the
	// specification asks for at least 24 hours.
	StatusLifetime = 48 * time.Hour
	// maxReads bounds the store pages one response reads when the TLP
	// filter leaves pages short.
	maxReads = 8
)

// Config describes the server.
type Config struct {
	Title, Description, Contact string
	APIRoot                     string       // path segment of the one API root
	Collections                 []Collection // DefaultCollections when nil
	DefaultTLP                  tlp.Level    // for objects without a TLP marking; Amber when Unmarked
	MaxPage                     int          // the largest limit served
	MaxBody                     int64        // the largest POST body
	MaxDepth                    int          // the deepest JSON nesting a POST may have
	// CursorKey signs next tokens; every instance in front of one store
	// must share it (see CursorKeyFromStore).
	CursorKey []byte
	Log       *slog.Logger
	Now       func() time.Time
}

// Server is the TAXII 2.1 http.Handler.
type Server struct {
	st   Store
	cfg  Config
	mux  *http.ServeMux
	cols []Collection
}

// New builds the handler.
func New(st Store, cfg Config) (*Server, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	cols := cfg.Collections
	if cols == nil {
		cols = DefaultCollections()
	}
	if err := checkCollections(cols); err != nil {
		return nil, err
	}
	s := &Server{st: st, cfg: cfg, cols: cols, mux: http.NewServeMux()}
	s.routes()
	return s, nil
}

func (c *Config) fill() error {
	if c.APIRoot == "" {
		c.APIRoot = DefaultAPIRoot
	}
	if !validSegment(c.APIRoot) || c.APIRoot == "taxii2" {
		return fmt.Errorf("api root %q: want letters, digits, '-' or '_', not taxii2", c.APIRoot)
	}
	if c.Title == "" {
		c.Title = "whodunit"
	}
	if c.DefaultTLP == tlp.Unmarked {
		c.DefaultTLP = tlp.Amber
	}
	if c.MaxPage <= 0 {
		c.MaxPage = DefaultMaxPage
	}
	if c.MaxBody <= 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.MaxDepth <= 0 {
		c.MaxDepth = DefaultMaxDepth
	}
	if len(c.CursorKey) < 16 {
		return errors.New("cursor key: want at least 16 bytes")
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

func validSegment(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
		if !ok {
			return false
		}
	}
	return true
}

func (s *Server) routes() {
	root := "/" + s.cfg.APIRoot
	col := root + "/collections/{col}"
	s.handle("GET /taxii2/{$}", s.discovery)
	s.handle("GET "+root+"/{$}", s.apiRoot)
	s.handle("GET "+root+"/collections/{$}", s.collections)
	s.handle("GET "+col+"/{$}", s.collection)
	s.handle("GET "+col+"/objects/{$}", s.getObjects)
	s.handle("POST "+col+"/objects/{$}", s.postObjects)
	s.handle("GET "+col+"/objects/{obj}/{$}", s.getObject)
	s.handle("DELETE "+col+"/objects/{obj}/{$}", s.deleteObject)
	s.handle("GET "+col+"/objects/{obj}/versions/{$}", s.versions)
	s.handle("GET "+col+"/manifest/{$}", s.manifest)
	s.handle("GET "+root+"/status/{status}/{$}", s.status)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := s.authenticate(w, r); ok {
			writeError(w, http.StatusNotFound, "not found", "there is no TAXII resource at this path")
		}
	})
}

// ServeHTTP implements http.Handler. Paths that are not clean or lack
// the trailing slash every TAXII URL has are answered here: the mux
// would answer them with an HTML redirect.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case !cleanPath(p):
		if _, ok := s.authenticate(w, r); ok {
			writeError(w, http.StatusNotFound, "not found", "TAXII paths have no empty, '.' or '..' segments")
		}
	case !strings.HasSuffix(p, "/"):
		if _, ok := s.authenticate(w, r); ok {
			w.Header().Set("Location", (&url.URL{Path: p + "/", RawQuery: r.URL.RawQuery}).String())
			writeError(w, http.StatusPermanentRedirect, "moved", "TAXII URLs end in '/'")
		}
	default:
		s.mux.ServeHTTP(w, r)
	}
}

// cleanPath reports whether p is what path.Clean makes of it, apart
// from a trailing slash.
func cleanPath(p string) bool {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}
