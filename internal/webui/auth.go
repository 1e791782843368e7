package webui

import (
	"errors"
	"net/http"
	"strings"

	"github.com/whodunit-project/whodunit/internal/apikey"
	"github.com/whodunit-project/whodunit/internal/server"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

// Cookie names. The session cookie is the sign-in; the login cookie
// carries the token the login form must echo (a double submit), so that
// another site cannot sign a browser in under the attacker's key.
const (
	sessionCookie = "whodunit_session"
	loginCookie   = "whodunit_login"
	csrfField     = "csrf"
	csrfHeader    = "X-CSRF-Token"
	maxKeyLen     = 200
)

// caller is who asks: the key, and the session when a browser asks.
type caller struct {
	key     store.APIKey
	ceiling tlp.Ceiling
	sess    *session
}

// csrf is the token the pages put in their forms ("" for Bearer callers).
func (c *caller) csrf() string {
	if c.sess == nil {
		return ""
	}
	return c.sess.csrf
}

type handler func(w http.ResponseWriter, r *http.Request, c *caller)

// page registers a browser page: without a session it sends the browser
// to the login form.
func (u *UI) page(pattern string, h handler) {
	u.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c, status := u.identify(r)
		switch {
		case status == http.StatusUnauthorized && r.Method == http.MethodGet:
			http.Redirect(w, r, "/login", http.StatusSeeOther)
		case status != http.StatusOK:
			u.errorPage(w, status, http.StatusText(status))
		default:
			h(w, r, c)
		}
	})
}

// api registers a JSON route; failures are JSON errors.
func (u *UI) api(pattern string, h handler) {
	u.routes = append(u.routes, pattern)
	u.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c, status := u.identify(r)
		if status != http.StatusOK {
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="whodunit"`)
			}
			writeJSONError(w, status, http.StatusText(status))
			return
		}
		h(w, r, c)
	})
}

// identify authenticates a request: a Bearer (or Basic) key, which needs
// no CSRF token since a browser never adds one by itself, or else the
// session cookie, whose changes must carry the session's token.
func (u *UI) identify(r *http.Request) (*caller, int) {
	var c caller
	if presented := apikey.FromRequest(r); presented != "" {
		k, err := apikey.Authenticate(r.Context(), u.st, presented)
		if err != nil {
			return nil, u.authFailure(err)
		}
		c.key = k
	} else {
		ck, err := r.Cookie(sessionCookie)
		if err != nil {
			return nil, http.StatusUnauthorized
		}
		ss, ok := u.sessions.get(ck.Value)
		if !ok {
			return nil, http.StatusUnauthorized
		}
		k, err := u.st.Key(r.Context(), ss.keyID)
		if err != nil || !k.Revoked.IsZero() {
			u.sessions.end(ck.Value)
			return nil, http.StatusUnauthorized
		}
		c.key, c.sess = k, &ss
		if err := u.parseUpload(r); err != nil {
			u.note(r, k.Name)
			return nil, uploadStatus(err)
		}
		if changes(r.Method) && !ss.csrfOK(presentedCSRF(r)) {
			u.note(r, k.Name)
			return nil, http.StatusForbidden
		}
	}
	u.note(r, c.key.Name)
	c.ceiling = apikey.Ceiling(c.key)
	return &c, http.StatusOK
}

func (u *UI) authFailure(err error) int {
	if errors.Is(err, apikey.ErrUnauthorized) {
		return http.StatusUnauthorized
	}
	u.cfg.Log.Error("webui: authenticating", "err", err)
	return http.StatusInternalServerError
}

// note tells the audit middleware who asked.
func (u *UI) note(r *http.Request, name string) {
	if n := server.NoteFrom(r.Context()); n != nil {
		n.Key = name
	}
}

func changes(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// presentedCSRF is the token of a form field or of the header the
// pages' script sends.
func presentedCSRF(r *http.Request) string {
	if t := r.Header.Get(csrfHeader); t != "" {
		return t
	}
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data") {
		return r.PostFormValue(csrfField)
	}
	return ""
}

func (u *UI) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: u.cfg.Secure, SameSite: http.SameSiteStrictMode}
}

// loginForm shows the form with a fresh login token.
func (u *UI) loginForm(w http.ResponseWriter, r *http.Request) {
	tok, err := randomToken()
	if err != nil {
		u.errorPage(w, http.StatusInternalServerError, "no randomness")
		return
	}
	http.SetCookie(w, u.cookie(loginCookie, tok, 600))
	u.render(w, http.StatusOK, "login", loginView{layout: layout{Title: "Sign in", CSRF: tok}, Error: r.URL.Query().Get("failed") != ""})
}

// login checks the key of the form and opens a session.
func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	ck, err := r.Cookie(loginCookie)
	if err != nil || r.PostFormValue(csrfField) == "" || !(session{csrf: ck.Value}).csrfOK(r.PostFormValue(csrfField)) {
		u.errorPage(w, http.StatusForbidden, "the login form expired; reload it")
		return
	}
	presented := strings.TrimSpace(r.PostFormValue("key"))
	if len(presented) > maxKeyLen {
		presented = ""
	}
	k, err := apikey.Authenticate(r.Context(), u.st, presented)
	if err != nil {
		if status := u.authFailure(err); status != http.StatusUnauthorized {
			u.errorPage(w, status, http.StatusText(status))
			return
		}
		http.Redirect(w, r, "/login?failed=1", http.StatusSeeOther)
		return
	}
	u.note(r, k.Name)
	id, _, err := u.sessions.start(k.ID)
	if err != nil {
		u.errorPage(w, http.StatusInternalServerError, "no randomness")
		return
	}
	http.SetCookie(w, u.cookie(loginCookie, "", -1))
	http.SetCookie(w, u.cookie(sessionCookie, id, int(u.cfg.SessionTTL.Seconds())))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout ends the session (its CSRF token was checked by page).
func (u *UI) logout(w http.ResponseWriter, r *http.Request, c *caller) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		u.sessions.end(ck.Value)
	}
	http.SetCookie(w, u.cookie(sessionCookie, "", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
