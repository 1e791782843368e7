package verify_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/sign"
	"github.com/whodunit-project/whodunit/internal/verify"
)

// demoReport is the demo's report.json as the cli golden pins it.
var demoReport = filepath.Join("..", "cli", "testdata", "golden", "demo-report.json")

func readDemo(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(demoReport)
	if err != nil {
		t.Fatal(err)
	}
	// The golden replaces what changes from run to run.
	return bytes.ReplaceAll(b, []byte(`"…"`), []byte(`"2026-01-02T03:04:05Z"`))
}

// TestDemoReportRecomputes redoes every assessment of the demo's report
// and signs and verifies it; a changed byte in a figure names it.
func TestDemoReportRecomputes(t *testing.T) {
	b := readDemo(t)
	dir := t.TempDir()
	pub, err := sign.KeyPair(filepath.Join(dir, "k"))
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := sign.LoadPrivateKey(filepath.Join(dir, "k.key"))
	// The golden is unsigned: name the key as --sign would, then sign.
	b = bytes.Replace(b, []byte(`"methodology_version"`), []byte(`"signature": {"algorithm": "Ed25519", "key_fingerprint": "`+sign.Fingerprint(pub)+`", "files": "detached"},
  "methodology_version"`), 1)
	s, err := sign.Sign(priv, b)
	if err != nil {
		t.Fatal(err)
	}
	res, err := verify.Bytes(verify.Options{Report: "demo", PublicKey: pub}, b, s.Marshal())
	if err != nil || !res.Verified {
		t.Fatalf("demo report: %v %+v", err, res)
	}
	edited := bytes.Replace(b, []byte(`"independent": 2`), []byte(`"independent": 3`), 1)
	res, err = verify.Bytes(verify.Options{Report: "demo"}, edited, nil)
	if err != nil || res.Verified || !strings.Contains(res.Reason, "attribution.hypotheses[0].independent: the report says 3, recomputed 2") {
		t.Errorf("edited independence: %v, reason %q", err, res.Reason)
	}
	res, _ = verify.Bytes(verify.Options{Report: "demo", PublicKey: pub}, edited, s.Marshal())
	if res.Verified || !errors.Is(errorsOf(res), sign.ErrBadSignature) && !strings.HasPrefix(res.Reason, "signature:") {
		t.Errorf("edited, signed before: reason %q", res.Reason)
	}
	other, _, _ := ed25519.GenerateKey(nil)
	res, _ = verify.Bytes(verify.Options{Report: "demo", PublicKey: other}, b, s.Marshal())
	if res.Verified || !strings.Contains(res.Reason, "signed by another key") {
		t.Errorf("another key: reason %q", res.Reason)
	}
}

func errorsOf(r *verify.Result) error { return errors.New(r.Reason) }

// TestUnreadable: what is not a report is unreadable, not "not verified".
func TestUnreadable(t *testing.T) {
	for _, b := range []string{"", "{", `{"campaigns": 3}`, `{} {}`} {
		if _, err := verify.Bytes(verify.Options{Report: "x"}, []byte(b), nil); !errors.Is(err, verify.ErrUnreadable) {
			t.Errorf("%q: err = %v", b, err)
		}
	}
	if _, err := verify.File(verify.Options{Report: filepath.Join(t.TempDir(), "none.json")}); !errors.Is(err, verify.ErrUnreadable) {
		t.Errorf("missing file: %v", err)
	}
}

// smallDemo is the demo's report cut to its campaigns of at most three
// items, without statistics or profiles: a seed small enough to mutate.
func smallDemo(t testing.TB) []byte {
	doc, err := verify.Parse(readDemo(t))
	if err != nil {
		t.Fatal(err)
	}
	var keep []report.Campaign
	for _, c := range doc.Campaigns {
		if len(c.Attribution.Evidence) <= 3 {
			keep = append(keep, c)
		}
	}
	doc.Campaigns, doc.Actors, doc.Statistics, doc.Actions = keep, nil, report.Statistics{}, report.Actions{}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := verify.Bytes(verify.Options{Report: "small"}, b, nil); err != nil || !res.Verified {
		t.Fatalf("the cut demo report does not verify: %v %+v", err, res)
	}
	return b
}

// FuzzVerify feeds verify hostile reports and signature files: it never
// panics, and what it calls verified recomputes.
func FuzzVerify(f *testing.F) {
	b := smallDemo(f)
	f.Add(b, []byte(nil))
	f.Add(bytes.Replace(b, []byte(`"beta":2.5`), []byte(`"beta":-1`), 1), []byte(`{"algorithm":"Ed25519"}`))
	f.Add([]byte(`{"methodology_version":"whodunit-attribution/1","campaigns":[{"id":"c","attribution":{"evidence":[{"kind":"technique"}]}}]}`), []byte(nil))
	pub, _, _ := ed25519.GenerateKey(nil)
	f.Fuzz(func(t *testing.T, report, sig []byte) {
		opt := verify.Options{Report: "fuzz.json"}
		if len(sig) > 0 {
			opt.PublicKey = pub
		}
		res, err := verify.Bytes(opt, report, sig)
		if err != nil {
			if !errors.Is(err, verify.ErrUnreadable) {
				t.Fatalf("error not marked unreadable: %v", err)
			}
			return
		}
		if res.Verified && opt.PublicKey != nil {
			t.Fatalf("verified with a key that signed nothing")
		}
	})
}

// BenchmarkVerifyDemo verifies the demo's report (five campaigns redone,
// no logs, no signature).
func BenchmarkVerifyDemo(b *testing.B) {
	rep := readDemo(b)
	b.SetBytes(int64(len(rep)))
	for b.Loop() {
		if res, err := verify.Bytes(verify.Options{Report: "demo"}, rep, nil); err != nil || !res.Verified {
			b.Fatal(err, res)
		}
	}
}
