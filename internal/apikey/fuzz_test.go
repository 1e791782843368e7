package apikey_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/whodunit-project/whodunit/internal/apikey"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

// FuzzFromRequest sends any Authorization header: FromRequest never
// panics, and what it returns is in the header (Bearer) or decodes from
// it (Basic), never longer than the header allows.
func FuzzFromRequest(f *testing.F) {
	_, text, err := apikey.New("seed", tlp.Ceiling{Max: tlp.Green}, false, nil, nil, now)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"Bearer " + text, "Basic " + basic("taxii:"+text), "Basic " + basic(text), "bearer", "Basic ====", "Digest x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := &http.Request{Header: http.Header{"Authorization": {header}}}
		got := apikey.FromRequest(r)
		if len(got) > len(header) {
			t.Fatalf("%q gave a longer key %q", header, got)
		}
		if _, err := apikey.Authenticate(context.Background(), noKeys{}, got); !errors.Is(err, apikey.ErrUnauthorized) {
			t.Fatalf("%q authenticated against no keys: %v", got, err)
		}
	})
}

// FuzzAuthenticate: no presented text opens a store that holds one key
// except that key's own text.
func FuzzAuthenticate(f *testing.F) {
	k, text, err := apikey.New("seed", tlp.Ceiling{Max: tlp.Green}, false, nil, nil, now)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(text[:len(text)-1] + "B")
	f.Add(apikey.Prefix + k.ID + "_")
	f.Fuzz(func(t *testing.T, presented string) {
		_, err := apikey.Authenticate(context.Background(), oneKey{k}, presented)
		if (err == nil) != (presented == text) {
			t.Fatalf("%q: %v", presented, err)
		}
	})
}

// BenchmarkAuthenticate is the cost of checking a key, without the store.
func BenchmarkAuthenticate(b *testing.B) {
	k, text, err := apikey.New("bench", tlp.Ceiling{Max: tlp.Green}, false, nil, nil, now)
	if err != nil {
		b.Fatal(err)
	}
	keys := oneKey{k}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := apikey.Authenticate(context.Background(), keys, text); err != nil {
			b.Fatal(err)
		}
	}
}
