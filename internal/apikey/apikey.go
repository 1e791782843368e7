// Package apikey makes, checks and reads the server's API keys. A key is
// shown once when made and stored only as a digest of its secret part; the
// public part (its ID) finds the record, so checking a key is one lookup
// and one constant-time comparison.
package apikey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

// ErrUnauthorized is what every refused key wraps, whatever was wrong with
// it, so that no answer tells a guesser which part to change.
var ErrUnauthorized = errors.New("unauthorized")

// The key text is Prefix, the ID (idLen hex digits), "_" and the secret
// (secretBytes bytes, unpadded base64url). The prefix lets secret scanners
// and people recognise a leaked key.
const (
	Prefix      = "whodunit_"
	idBytes     = 8
	idLen       = 2 * idBytes
	secretBytes = 32 // 256 bits
	secretLen   = 43 // base64url without padding of 32 bytes
	maxNameLen  = 100
)

// KeyGetter finds a key by its ID; store.KeyStore is one.
type KeyGetter interface {
	Key(ctx context.Context, id string) (store.APIKey, error)
}

// New makes a key: the record to store and the text to show once. The
// ceiling must be one a key may hold (clear to amber+strict, amber+strict
// only for internal keys).
func New(name string, ceiling tlp.Ceiling, admin bool, read, write []string, now time.Time) (store.APIKey, string, error) {
	if err := checkName("key name", name); err != nil {
		return store.APIKey{}, "", err
	}
	if _, err := tlp.ParseCeiling(ceiling.Max.String(), ceiling.Internal); err != nil {
		return store.APIKey{}, "", fmt.Errorf("key %q: ceiling: %w", name, err)
	}
	r, err := collections(read)
	if err != nil {
		return store.APIKey{}, "", fmt.Errorf("key %q: read: %w", name, err)
	}
	w, err := collections(write)
	if err != nil {
		return store.APIKey{}, "", fmt.Errorf("key %q: write: %w", name, err)
	}
	buf := make([]byte, idBytes+secretBytes)
	if _, err := rand.Read(buf); err != nil {
		return store.APIKey{}, "", fmt.Errorf("key %q: random: %w", name, err)
	}
	id := hex.EncodeToString(buf[:idBytes])
	secret := buf[idBytes:]
	k := store.APIKey{
		ID: id, Name: name, Hash: digest(id, secret),
		TLPMax: ceiling.Max.String(), Internal: ceiling.Internal, Admin: admin,
		Read: r, Write: w, Created: now.UTC(),
	}
	return k, Prefix + id + "_" + base64.RawURLEncoding.EncodeToString(secret), nil
}

// digest is SHA-256 over the ID and the secret. A fast hash is right here,
// unlike for passwords: the secret is 256 bits from crypto/rand, so there
// is no dictionary to try and a stolen digest cannot be reversed by any
// search, slow hash or not; and a fast check keeps every request cheap.
// The ID is included so a digest cannot be moved to another record.
func digest(id string, secret []byte) []byte {
	h := sha256.New()
	h.Write([]byte(id))
	h.Write([]byte{0})
	h.Write(secret)
	return h.Sum(nil)
}

// Authenticate returns the valid key whose text was presented. Every
// refusal wraps ErrUnauthorized with the same message; a store that fails
// for another reason is reported as such, so that an outage is not
// mistaken for a bad key.
func Authenticate(ctx context.Context, keys KeyGetter, presented string) (store.APIKey, error) {
	id, secret, ok := split(presented)
	if !ok {
		return store.APIKey{}, unauthorized()
	}
	k, err := keys.Key(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.APIKey{}, unauthorized()
	}
	if err != nil {
		return store.APIKey{}, fmt.Errorf("apikey: looking the key up: %w", err)
	}
	match := subtle.ConstantTimeCompare(digest(id, secret), k.Hash) == 1
	if !match || k.ID != id || !k.Revoked.IsZero() {
		return store.APIKey{}, unauthorized()
	}
	return k, nil
}

func unauthorized() error { return fmt.Errorf("apikey: %w", ErrUnauthorized) }

// split takes a key text apart; false when it is not one.
func split(s string) (id string, secret []byte, ok bool) {
	rest, found := strings.CutPrefix(s, Prefix)
	if !found || len(rest) != idLen+1+secretLen || rest[idLen] != '_' {
		return "", nil, false
	}
	id = rest[:idLen]
	if _, err := hex.DecodeString(id); err != nil || strings.ToLower(id) != id {
		return "", nil, false
	}
	secret, err := base64.RawURLEncoding.Strict().DecodeString(rest[idLen+1:])
	if err != nil || len(secret) != secretBytes {
		return "", nil, false
	}
	return id, secret, true
}

// checkName refuses names that would not print on one line or are empty.
func checkName(what, s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("%s is empty", what)
	}
	if len(s) > maxNameLen {
		return fmt.Errorf("%s %.20q… is longer than %d bytes", what, s, maxNameLen)
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == unicode.ReplacementChar }); i >= 0 {
		return fmt.Errorf("%s %q has a control or invalid character at byte %d", what, s, i)
	}
	return nil
}

// collections trims, checks and de-duplicates collection ids and aliases.
func collections(in []string) ([]string, error) {
	var out []string
	for _, c := range in {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if err := checkName("collection", c); err != nil {
			return nil, err
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}
