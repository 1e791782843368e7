package apikey_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/apikey"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/postgres"
	"github.com/whodunit-project/whodunit/internal/store/postgres/pgtest"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

type keyStore interface {
	store.KeyStore
	Close() error
}

var now = time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)

func openSQLite(t *testing.T) keyStore {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openPostgres(t *testing.T) keyStore {
	db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestKeys(t *testing.T) {
	for name, open := range map[string]func(*testing.T) keyStore{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) { testKeys(t, open(t)) })
	}
}

// testKeys makes a key, stores it, and checks that exactly its own text
// opens it, until it is revoked.
func testKeys(t *testing.T, db keyStore) {
	ctx := context.Background()
	k, text, err := apikey.New("CERT-B", tlp.Ceiling{Max: tlp.Green}, false, []string{"intel", " intel ", ""}, []string{"inbox"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(text, apikey.Prefix+k.ID+"_") || strings.Contains(text, string(k.Hash)) {
		t.Fatalf("key text %q does not carry the id %q", text, k.ID)
	}
	if k.TLPMax != "green" || k.Internal || k.Admin || len(k.Read) != 1 || k.Read[0] != "intel" || !k.Created.Equal(now) {
		t.Fatalf("record %+v", k)
	}
	if err := db.PutKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	got, err := apikey.Authenticate(ctx, db, text)
	if err != nil || got.Name != "CERT-B" || got.ID != k.ID {
		t.Fatalf("own text: %+v, %v", got, err)
	}
	_, other, _ := apikey.New("other", tlp.Ceiling{Max: tlp.Clear}, false, nil, nil, now)
	forged := text[:len(text)-4] + flip(text[len(text)-4:])
	for _, bad := range []string{"", "whodunit_", text + "A", text[:len(text)-1], other, forged, strings.ToUpper(text), "Bearer " + text} {
		_, err := apikey.Authenticate(ctx, db, bad)
		if !errors.Is(err, apikey.ErrUnauthorized) || err.Error() != "apikey: unauthorized" {
			t.Errorf("%q: %v, want the one unauthorized error", bad, err)
		}
	}
	if err := db.RevokeKey(ctx, "CERT-B", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := apikey.Authenticate(ctx, db, text); !errors.Is(err, apikey.ErrUnauthorized) {
		t.Fatalf("revoked key accepted: %v", err)
	}
}

// flip changes every character of s while keeping it base64url.
func flip(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
	}
	return string(b)
}

func TestNewRefuses(t *testing.T) {
	cases := []struct {
		name string
		c    tlp.Ceiling
		read []string
	}{
		{"", tlp.Ceiling{Max: tlp.Green}, nil},
		{"a\nb", tlp.Ceiling{Max: tlp.Green}, nil},
		{"ok", tlp.Ceiling{Max: tlp.Red, Internal: true}, nil},
		{"ok", tlp.Ceiling{Max: tlp.AmberStrict}, nil},
		{"ok", tlp.Ceiling{}, nil},
		{"ok", tlp.Ceiling{Max: tlp.Amber}, []string{"in\nbox"}},
	}
	for _, c := range cases {
		if _, _, err := apikey.New(c.name, c.c, false, c.read, nil, now); err == nil {
			t.Errorf("New(%q, %+v, %q) accepted", c.name, c.c, c.read)
		}
	}
}

// TestNewIsRandom: two keys never share an id or a secret.
func TestNewIsRandom(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		k, text, err := apikey.New("x", tlp.Ceiling{Max: tlp.Clear}, false, nil, nil, now)
		if err != nil {
			t.Fatal(err)
		}
		secret := text[len(apikey.Prefix)+len(k.ID)+1:]
		if seen[k.ID] || seen[secret] {
			t.Fatal("a key repeated")
		}
		seen[k.ID], seen[secret] = true, true
	}
}

func TestFromRequest(t *testing.T) {
	const key = "whodunit_0123456789abcdef_secret"
	cases := map[string]string{
		"Bearer " + key:                 key,
		"bearer   " + key + " ":         key,
		"Basic " + basic("anyone:"+key): key,
		"Basic " + basic(":"+key):       key,
		"Basic " + basic("u:p:"+key):    "p:" + key, // only the first colon splits
		"Basic " + basic(key):           "",
		"Basic !!!":                     "",
		"Token " + key:                  "",
		"Bearer":                        "",
		"":                              "",
	}
	for header, want := range cases {
		r, _ := http.NewRequest("GET", "http://127.0.0.1/taxii2/", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		if got := apikey.FromRequest(r); got != want {
			t.Errorf("%q: %q, want %q", header, got, want)
		}
	}
	r, _ := http.NewRequest("GET", "http://127.0.0.1/taxii2/", nil)
	r.Header.Add("Authorization", "Bearer a")
	r.Header.Add("Authorization", "Bearer b")
	if got := apikey.FromRequest(r); got != "" {
		t.Fatalf("two Authorization headers gave %q", got)
	}
}

func TestAccess(t *testing.T) {
	k := store.APIKey{Read: []string{"intel", "91a7b528-80eb-42ed-a74d-c6fbd5a26116"}, Write: []string{"*"}, TLPMax: "amber"}
	if !apikey.CanRead(k, "365fed99-08fa-fdcd-a1b3-fb247eb41d01", "intel") || !apikey.CanRead(k, "91a7b528-80eb-42ed-a74d-c6fbd5a26116") {
		t.Fatal("a granted collection refused")
	}
	if apikey.CanRead(k, "findings") || apikey.CanRead(k) || apikey.CanRead(k, "") {
		t.Fatal("an ungranted collection allowed")
	}
	if !apikey.CanWrite(k, "inbox") {
		t.Fatal(`"*" did not grant writing`)
	}
	if c := apikey.Ceiling(k); c != (tlp.Ceiling{Max: tlp.Amber}) {
		t.Fatalf("ceiling %v", c)
	}
	k.Revoked = now
	if apikey.CanWrite(k, "inbox") || apikey.Ceiling(k).Allows(tlp.Clear) {
		t.Fatal("a revoked key still has access")
	}
	for _, bad := range []string{"", "red", "purple"} {
		c := apikey.Ceiling(store.APIKey{TLPMax: bad})
		for l := tlp.Unmarked; l <= tlp.Red; l++ {
			if c.Allows(l) {
				t.Errorf("stored ceiling %q allows %v", bad, l)
			}
		}
	}
	strict := apikey.Ceiling(store.APIKey{TLPMax: "amber+strict"})
	if strict.Allows(tlp.AmberStrict) || !strict.Allows(tlp.Amber) {
		t.Fatal("amber+strict on a key that is not internal")
	}
}

// basic encodes user:password as HTTP Basic does (RFC 7617).
func basic(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
