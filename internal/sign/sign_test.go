package sign_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/sign"
)

// TestCanonicalRFC8785 checks the examples of RFC 8785 (numbers, string
// escapes, member order by UTF-16 code units).
func TestCanonicalRFC8785(t *testing.T) {
	for in, want := range map[string]string{
		`[333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001, -0, 1e21, 1e20, 0.000001, 1e-7, -5e-324, 9007199254740993]`: `[333333333.3333333,1e+30,4.5,0.002,1e-27,0,1e+21,100000000000000000000,0.000001,1e-7,-5e-324,9007199254740992]`,
		`"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/"`:                             `"€$\u000f\nA'B\"\\\\\"/"`,
		`{"\u20ac":1,"\r":2,"\ufb33":3,"1":4,"\ud83d\ude00":5,"\u0080":6,"\u00f6":7}`: "{\"\\r\":2,\"1\":4,\"\u0080\":6,\"ö\":7,\"€\":1,\"😀\":5,\"\ufb33\":3}",
		"{ \"b\" : [ true , null ],\n \"a\": {\"<&>\": \"x\"} }":                      `{"a":{"<&>":"x"},"b":[true,null]}`,
	} {
		got, err := sign.Canonical([]byte(in))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if string(got) != want {
			t.Errorf("Canonical(%s)\n got %s\nwant %s", in, got, want)
		}
	}
	for _, bad := range []string{``, `{`, `{"a":1} {}`, `1e400`} {
		if _, err := sign.Canonical([]byte(bad)); err == nil {
			t.Errorf("Canonical(%q) accepted", bad)
		}
	}
}

// TestSignAndVerify writes a key pair, signs, and checks that another
// indentation verifies while a changed byte, another key or a changed
// signature does not.
func TestSignAndVerify(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "analyst")
	pub, err := sign.KeyPair(name)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(name + ".key"); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode: %v %v", st.Mode(), err)
	}
	if _, err := sign.KeyPair(name); err == nil {
		t.Fatal("KeyPair overwrote an existing key")
	}
	priv, err := sign.LoadPrivateKey(name + ".key")
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := sign.LoadPublicKey(name + ".pub")
	if err != nil || !loaded.Equal(pub) {
		t.Fatalf("public key: %v", err)
	}
	doc := []byte(`{"weight": 0.30, "actor": "APT1"}`)
	s, err := sign.Sign(priv, doc)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := sign.ParseSignature(s.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if err := parsed.Verify(pub, []byte("{\n  \"actor\": \"APT1\",\n  \"weight\": 0.3\n}\n")); err != nil {
		t.Errorf("reindented document: %v", err)
	}
	if err := parsed.Verify(pub, []byte(`{"weight": 0.31, "actor": "APT1"}`)); !errors.Is(err, sign.ErrBadSignature) {
		t.Errorf("changed weight: %v", err)
	}
	other, _ := sign.KeyPair(filepath.Join(dir, "other"))
	if err := parsed.Verify(other, doc); !errors.Is(err, sign.ErrWrongKey) {
		t.Errorf("other key: %v", err)
	}
	// another first character (a fixed "A" is no change one time in 64)
	first := "A"
	if parsed.Signature[0] == 'A' {
		first = "B"
	}
	parsed.Signature = first + parsed.Signature[1:]
	if err := parsed.Verify(pub, doc); !errors.Is(err, sign.ErrBadSignature) {
		t.Errorf("changed signature: %v", err)
	}
	if _, err := sign.LoadPrivateKey(name + ".pub"); err == nil {
		t.Error("a public key loaded as a private key")
	}
}

func FuzzCanonical(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x"]}`, `1e30`, `"\u0000"`, `{"\ud83d\ude00":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := sign.Canonical(b)
		if err != nil {
			return
		}
		// The canonical form is a fixed point.
		c2, err := sign.Canonical(c)
		if err != nil || string(c2) != string(c) {
			t.Fatalf("Canonical(%q) = %q, then %q (%v)", b, c, c2, err)
		}
	})
}
