package webui

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"
)

// session is one signed-in browser: which key it stands for and the
// token every change it asks for must carry. Only a digest of the
// session id is kept, so a memory dump does not hand out live cookies.
type session struct {
	keyID   string
	csrf    string
	expires time.Time
}

// sessions keeps the signed-in browsers in memory; a restart signs
// everybody out, which is the safe failure.
type sessions struct {
	mu   sync.Mutex
	byID map[[32]byte]session
	ttl  time.Duration
	now  func() time.Time
}

func newSessions(ttl time.Duration, now func() time.Time) *sessions {
	return &sessions{byID: map[[32]byte]session{}, ttl: ttl, now: now}
}

// randomToken is 256 bits from crypto/rand, base64url.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// start opens a session for keyID and returns the cookie value.
func (s *sessions) start(keyID string) (string, session, error) {
	id, err := randomToken()
	if err != nil {
		return "", session{}, err
	}
	csrf, err := randomToken()
	if err != nil {
		return "", session{}, err
	}
	ss := session{keyID: keyID, csrf: csrf, expires: s.now().Add(s.ttl)}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	s.byID[sha256.Sum256([]byte(id))] = ss
	return id, ss, nil
}

// get returns the live session of a cookie value.
func (s *sessions) get(id string) (session, bool) {
	if id == "" || len(id) > 100 {
		return session{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h := sha256.Sum256([]byte(id))
	ss, ok := s.byID[h]
	if !ok {
		return session{}, false
	}
	if !s.now().Before(ss.expires) {
		delete(s.byID, h)
		return session{}, false
	}
	return ss, true
}

// end forgets the session of a cookie value.
func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, sha256.Sum256([]byte(id)))
}

// sweep drops expired sessions; called with mu held when one is added,
// so the map cannot grow with abandoned sessions.
func (s *sessions) sweep() {
	now := s.now()
	for h, ss := range s.byID {
		if !now.Before(ss.expires) {
			delete(s.byID, h)
		}
	}
}

// csrfOK compares a presented token with the session's in constant time.
func (ss session) csrfOK(presented string) bool {
	return presented != "" && subtle.ConstantTimeCompare([]byte(presented), []byte(ss.csrf)) == 1
}
