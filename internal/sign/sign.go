// Package sign makes whodunit's reports checkable by anyone who holds the
// sender's public key: Ed25519 key pairs in PEM (PKCS#8 private key, PKIX
// public key), key fingerprints, the canonical JSON form (RFC 8785) that is
// signed, and detached signature files.
package sign

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/whodunit-project/whodunit/internal/fileio"
)

// Algorithm and Canonicalization name what a signature file holds.
const (
	Algorithm        = "Ed25519"
	Canonicalization = "RFC 8785 JSON Canonicalization Scheme"
)

// ErrBadSignature is returned (wrapped) when a signature does not verify.
var ErrBadSignature = errors.New("signature does not verify")

// ErrWrongKey is returned (wrapped) when a signature names another key.
var ErrWrongKey = errors.New("signed by another key")

// maxKeyFile bounds a key or signature file: both are a few hundred bytes.
const maxKeyFile = 64 << 10

// KeyPair writes a new key pair to name.key (mode 0600) and name.pub, and
// refuses to overwrite either.
func KeyPair(name string) (ed25519.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	for _, p := range []string{name + ".key", name + ".pub"} {
		if _, err := os.Stat(p); err == nil {
			return nil, fmt.Errorf("%s exists: not overwriting a key", p)
		}
	}
	if err := writeNew(name+".key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), 0o600); err != nil {
		return nil, err
	}
	if err := writeNew(name+".pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		os.Remove(name + ".key")
		return nil, err
	}
	return pub, nil
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// readPEM reads the one PEM block of type typ in path.
func readPEM(path, typ string) ([]byte, error) {
	b, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != typ {
		return nil, fmt.Errorf("%s: not a PEM %q block", path, typ)
	}
	return blk.Bytes, nil
}

func readBounded(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > maxKeyFile {
		return nil, fmt.Errorf("%s: %d bytes, more than a key or signature file holds", path, st.Size())
	}
	return os.ReadFile(path)
}

// LoadPrivateKey reads an Ed25519 private key (PEM, PKCS#8).
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	der, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: a %T, not an Ed25519 key", path, k)
	}
	return priv, nil
}

// LoadPublicKey reads an Ed25519 public key (PEM, PKIX).
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	der, err := readPEM(path, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	return ParsePublicKey(der, path)
}

// ParsePublicKey parses a PKIX Ed25519 public key; name is for errors.
func ParsePublicKey(der []byte, name string) (ed25519.PublicKey, error) {
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: a %T, not an Ed25519 key", name, k)
	}
	return pub, nil
}

// Fingerprint names a public key: "SHA256:" and the hex SHA-256 of its
// PKIX encoding.
func Fingerprint(pub ed25519.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil { // an ed25519.PublicKey always marshals
		panic(err)
	}
	sum := sha256.Sum256(der)
	return "SHA256:" + hex.EncodeToString(sum[:])
}

// Signature is a detached signature file: what was signed, with which key,
// and the signature over the canonical form, in base64.
type Signature struct {
	Algorithm        string `json:"algorithm"`
	Canonicalization string `json:"canonicalization"`
	KeyFingerprint   string `json:"key_fingerprint"`
	Signature        string `json:"signature"`
}

// Sign signs the canonical form of the JSON document doc.
func Sign(priv ed25519.PrivateKey, doc []byte) (*Signature, error) {
	c, err := Canonical(doc)
	if err != nil {
		return nil, err
	}
	pub := priv.Public().(ed25519.PublicKey)
	return &Signature{Algorithm: Algorithm, Canonicalization: Canonicalization, KeyFingerprint: Fingerprint(pub),
		Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(priv, c))}, nil
}

// Marshal is the signature file's content.
func (s *Signature) Marshal() []byte {
	b, _ := json.MarshalIndent(s, "", "  ")
	return append(b, '\n')
}

// ParseSignature reads a signature file's content.
func ParseSignature(b []byte) (*Signature, error) {
	if len(b) > maxKeyFile {
		return nil, fmt.Errorf("signature file: %d bytes, too large", len(b))
	}
	var s Signature
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("signature file: %w", err)
	}
	if s.Algorithm != Algorithm || s.Canonicalization != Canonicalization {
		return nil, fmt.Errorf("signature file: algorithm %q over %q; want %s over %s", s.Algorithm, s.Canonicalization, Algorithm, Canonicalization)
	}
	if raw, err := base64.StdEncoding.DecodeString(s.Signature); err != nil || len(raw) != ed25519.SignatureSize {
		return nil, fmt.Errorf("signature file: the signature is not %d bytes of base64", ed25519.SignatureSize)
	}
	return &s, nil
}

// LoadSignature reads a signature file.
func LoadSignature(path string) (*Signature, error) {
	b, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	s, err := ParseSignature(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Verify checks s over the canonical form of doc with pub.
func (s *Signature) Verify(pub ed25519.PublicKey, doc []byte) error {
	if fp := Fingerprint(pub); fp != s.KeyFingerprint {
		return fmt.Errorf("%w: the signature names key %s, the public key is %s", ErrWrongKey, s.KeyFingerprint, fp)
	}
	c, err := Canonical(doc)
	if err != nil {
		return err
	}
	raw, err := base64.StdEncoding.DecodeString(s.Signature)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if !ed25519.Verify(pub, c, raw) {
		return ErrBadSignature
	}
	return nil
}

// SignFile signs the JSON file at path and writes path.sig atomically.
func SignFile(priv ed25519.PrivateKey, path string) (string, error) {
	doc, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s, err := Sign(priv, doc)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	out := path + ".sig"
	return out, fileio.WriteAtomic(out, func(w io.Writer) error {
		_, err := w.Write(s.Marshal())
		return err
	})
}
