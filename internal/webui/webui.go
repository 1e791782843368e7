// Package webui is the analysts' web interface of `whodunit serve`:
// server-rendered pages (overview, campaign, detections triage) and the
// JSON API under /api/v1/ that the pages' script and other scripts use.
// A browser signs in with an API key into a server-side session; every
// page and answer is limited to what the key's TLP ceiling allows.
package webui

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/whodunit-project/whodunit/internal/apikey"
	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

// Store is what the interface reads.
type Store interface {
	apikey.KeyGetter
	Object(ctx context.Context, id string) (*intel.Object, error)
	FindByName(ctx context.Context, name string, types ...string) ([]*intel.Object, error)
	Relationships(ctx context.Context, id string) ([]*intel.Object, error)
	Names(ctx context.Context, id string) ([]store.NameRecord, error)
	ActorLinks(ctx context.Context) ([]store.ActorLink, error)
	report.ObjectLister
	ObjectsPage(ctx context.Context, q store.PageQuery, after store.Cursor, limit int) (store.ObjectPage, error)
	Analysis(ctx context.Context, id string) (*store.Analysis, error)
	Sightings(ctx context.Context, q store.SightingQuery, fn func(*match.Sighting) error) error
	// The detections and the verdicts, which re-apply to them.
	hunt.VerdictDetectionStore
	store.VerdictStore
	// The intelligence page imports and lists; jobs scan and analyse.
	store.Store
	Subscriptions(ctx context.Context) ([]store.Subscription, error)
	// The overview finds the key's previous visit in the audit trail.
	Audit(ctx context.Context, q store.AuditQuery, fn func(store.AuditEntry) error) error
}

// Config describes the interface.
type Config struct {
	// DefaultTLP is the level of what carries no marking: the findings
	// (the server's own telemetry) and unmarked intelligence. Amber when
	// Unmarked, as for TAXII.
	DefaultTLP tlp.Level
	// Secure marks the session cookie Secure (serving under TLS).
	Secure     bool
	SessionTTL time.Duration // 8 hours when 0
	PageSize   int           // detections per page; 50 when 0
	Log        *slog.Logger
	Now        func() time.Time
	// MaxUpload bounds an intelligence file uploaded for import; 32 MiB
	// when 0.
	MaxUpload int64
	// JobsRoot is the directory under which jobs may scan server-side
	// paths; "" turns jobs off.
	JobsRoot string
}

// UI is the http.Handler of the pages and the API.
type UI struct {
	st       Store
	cfg      Config
	sessions *sessions
	mux      *http.ServeMux
	routes   []string // API patterns, for the OpenAPI check
	jobs     *jobs
}

// New builds the handler.
func New(st Store, cfg Config) (*UI, error) {
	if st == nil {
		return nil, errors.New("webui: no store")
	}
	if cfg.DefaultTLP == tlp.Unmarked {
		cfg.DefaultTLP = tlp.Amber
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 8 * time.Hour
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 50
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = 32 << 20
	}
	jr, err := newJobs(cfg.JobsRoot)
	if err != nil {
		return nil, err
	}
	u := &UI{st: st, cfg: cfg, sessions: newSessions(cfg.SessionTTL, cfg.Now), mux: http.NewServeMux(), jobs: jr}
	u.register()
	return u, nil
}

func (u *UI) register() {
	u.mux.HandleFunc("GET /static/{file}", u.static)
	u.mux.HandleFunc("GET /login", u.loginForm)
	u.mux.HandleFunc("POST /login", u.login)
	u.page("POST /logout", u.logout)
	u.page("GET /{$}", u.overviewPage)
	u.page("GET /campaigns/{id}", u.campaignPage)
	u.page("GET /detections", u.detectionsPage)
	u.page("POST /verdicts", u.verdictForm)
	u.page("GET /search", u.searchPage)
	u.page("GET /actors/{id}", u.actorPage)
	u.api("GET /api/v1/overview", u.overviewAPI)
	u.api("GET /api/v1/campaigns/{id}", u.campaignAPI)
	u.api("GET /api/v1/detections", u.detectionsAPI)
	u.api("GET /api/v1/search", u.searchAPI)
	u.api("GET /api/v1/actors/{id}", u.actorAPI)
	u.api("GET /api/v1/verdicts", u.verdictsAPI)
	u.api("POST /api/v1/verdicts", u.verdictAPI)
	u.page("GET /intel", u.intelPage)
	u.page("POST /intel/import", u.importForm)
	u.api("GET /api/v1/intel", u.intelAPI)
	u.api("POST /api/v1/intel/import", u.importAPI)
	u.page("GET /jobs", u.jobsPage)
	u.page("POST /jobs", u.startJobForm)
	u.page("POST /jobs/upload", u.jobRedirect(u.startUploadJob))
	u.page("POST /jobs/analyse", u.jobRedirect(u.startAnalysisJob))
	u.page("GET /jobs/{id}", u.jobPage)
	u.page("POST /jobs/{id}/cancel", u.jobRedirect(u.stopJob))
	u.api("GET /api/v1/jobs", u.jobsAPI)
	u.api("POST /api/v1/jobs", u.startJobAPI)
	u.api("POST /api/v1/jobs/upload", u.jobAnswer(u.startUploadJob))
	u.api("POST /api/v1/jobs/analyse", u.jobAnswer(u.startAnalysisJob))
	u.api("GET /api/v1/jobs/{id}", u.jobAPI)
	u.api("POST /api/v1/jobs/{id}/cancel", u.jobAnswer(u.stopJob))
	u.api("GET /api/v1/jobs/{id}/events", u.jobEvents)
	u.mux.HandleFunc("/", u.notFound)
}

// APIRoutes lists the method and path of every API route, as the OpenAPI
// document must describe them.
func (u *UI) APIRoutes() []string { return append([]string(nil), u.routes...) }

// ServeHTTP sets the security headers of every answer, then routes.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	u.mux.ServeHTTP(w, r)
}

// Reserved are the first path segments the interface serves; a TAXII API
// root must not take one.
var Reserved = []string{"api", "static", "login", "logout", "campaigns", "detections", "verdicts", "search", "actors", "intel", "jobs"}
