package apikey

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strings"

	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

// FromRequest is the key a request presents: "Authorization: Bearer KEY",
// or HTTP Basic with the key as the password and any user name (what
// common TAXII clients send). "" when there is none, or more than one
// Authorization header, since which one counts would be a guess.
func FromRequest(r *http.Request) string {
	if r == nil {
		return ""
	}
	vals := r.Header.Values("Authorization")
	if len(vals) != 1 {
		return ""
	}
	scheme, cred, ok := strings.Cut(strings.TrimSpace(vals[0]), " ")
	if !ok {
		return ""
	}
	cred = strings.TrimSpace(cred)
	switch strings.ToLower(scheme) {
	case "bearer":
		return cred
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return ""
		}
		_, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return ""
		}
		return pass
	}
	return ""
}

// CanRead reports whether k may read the collection known by any of the
// names given (its id and its alias); "*" grants every collection.
func CanRead(k store.APIKey, collection ...string) bool { return grants(k, k.Read, collection) }

// CanWrite is CanRead for adding objects.
func CanWrite(k store.APIKey, collection ...string) bool { return grants(k, k.Write, collection) }

func grants(k store.APIKey, list, names []string) bool {
	if !k.Revoked.IsZero() {
		return false
	}
	if slices.Contains(list, "*") {
		return true
	}
	for _, n := range names {
		if n != "" && slices.Contains(list, n) {
			return true
		}
	}
	return false
}

// nothing is a ceiling level below Unmarked: it allows no object at all.
const nothing tlp.Level = -1

// Ceiling is the most k may receive. A stored ceiling that does not parse
// (or says red) allows nothing rather than guessing.
func Ceiling(k store.APIKey) tlp.Ceiling {
	l, err := tlp.Parse(k.TLPMax)
	if err != nil || l == tlp.Red || !k.Revoked.IsZero() {
		return tlp.Ceiling{Max: nothing}
	}
	return tlp.Ceiling{Max: l, Internal: k.Internal}
}
