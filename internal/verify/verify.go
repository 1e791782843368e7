// Package verify checks a whodunit report without trusting its sender: the
// detached signature over its canonical form, every assessment redone from
// the evidence and methodology inside the report, and, given the original
// logs, every cited record by its file's SHA-256, offset and line.
package verify

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/sign"
)

// MaxReport bounds the report read: far above any real report.json.
const MaxReport = 1 << 30

// ErrUnreadable is returned (wrapped) when the report, its signature or
// the public key cannot be read at all: nothing could be checked.
var ErrUnreadable = errors.New("unreadable")

// Options say what to check.
type Options struct {
	Report string // path of report.json; its signature is Report + ".sig"
	// PublicKey is the sender's public key; nil leaves the signature unchecked.
	PublicKey ed25519.PublicKey
	// LogsDir holds the original logs; "" leaves cited records unchecked
	// against them.
	LogsDir string
}

// Check is one thing verified, or not.
type Check struct {
	Name   string `json:"check"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Result is the verdict: Verified when every check passed; Reason is the
// first failure.
type Result struct {
	Report   string  `json:"report"`
	Verified bool    `json:"verified"`
	Reason   string  `json:"reason,omitempty"`
	Checks   []Check `json:"checks"`
}

func (r *Result) add(name string, err error, ok string) {
	c := Check{Name: name, OK: err == nil, Detail: ok}
	if err != nil {
		c.Detail = err.Error()
		if r.Reason == "" {
			r.Reason = name + ": " + c.Detail
		}
	}
	r.Checks = append(r.Checks, c)
}

// File verifies the report at opt.Report.
func File(opt Options) (*Result, error) {
	b, err := readReport(opt.Report)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreadable, err)
	}
	var sig []byte
	if opt.PublicKey != nil {
		if sig, err = os.ReadFile(opt.Report + ".sig"); err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("%w: %v", ErrUnreadable, err)
		}
	}
	return Bytes(opt, b, sig)
}

func readReport(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxReport+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > MaxReport {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, MaxReport)
	}
	return b, nil
}

// Parse reads report.json strictly enough that a verdict means something.
func Parse(b []byte) (*report.Document, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	var doc report.Document
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("report.json: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("report.json: data after the document")
	}
	return &doc, nil
}

// Bytes verifies a report given as bytes, with its signature file's
// content (nil when there is none).
func Bytes(opt Options, b, sig []byte) (*Result, error) {
	doc, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnreadable, opt.Report, err)
	}
	res := &Result{Report: opt.Report, Checks: []Check{}}
	res.add("signature", checkSignature(opt, doc, b, sig), signatureOK(opt, doc))
	if err := checkMethodology(doc); err != nil {
		res.add("methodology", err, "")
	} else {
		// Campaigns before the printed rules: a changed weight is named
		// by the figure it changes.
		for i := range doc.Campaigns {
			c := &doc.Campaigns[i]
			res.add("campaign "+c.ID, recheckCampaign(doc, c), recheckedText(c))
		}
		res.add("methodology", diff("methodology", doc.Methodology, attribute.Methodology(doc.MethodologyConfig)),
			fmt.Sprintf("version %s, configuration valid, the rules printed are those it renders", doc.MethodologyVersion))
	}
	res.add("intelligence", checkIntelligence(doc), fmt.Sprintf("%d indicator(s) carried as imported, every one the evidence names, with the confidence it was weighed with", len(doc.Intelligence)))
	if opt.LogsDir != "" {
		n, err := checkLogs(doc, opt.LogsDir)
		res.add("records", err, fmt.Sprintf("%d cited record(s) found in %s by file SHA-256, offset and line", n, opt.LogsDir))
	}
	res.Verified = res.Reason == ""
	return res, nil
}

func signatureOK(opt Options, doc *report.Document) string {
	if opt.PublicKey == nil {
		return "not checked: no public key given (--pub)"
	}
	return "Ed25519 over the RFC 8785 canonical form, key " + sign.Fingerprint(opt.PublicKey)
}

// checkSignature checks the detached signature when a key is given: the
// report must name that key, and the signature must verify.
func checkSignature(opt Options, doc *report.Document, b, sigFile []byte) error {
	if opt.PublicKey == nil {
		return nil
	}
	if sigFile == nil {
		return fmt.Errorf("no signature file %s.sig", opt.Report)
	}
	s, err := sign.ParseSignature(sigFile)
	if err != nil {
		return err
	}
	if err := s.Verify(opt.PublicKey, b); err != nil {
		return fmt.Errorf("%w: the report or its signature was changed after signing", err)
	}
	fp := sign.Fingerprint(opt.PublicKey)
	if doc.Signature == nil || doc.Signature.KeyFingerprint != fp {
		return fmt.Errorf("%w: the report does not name key %s", sign.ErrWrongKey, fp)
	}
	return nil
}

// checkMethodology refuses a methodology this code cannot redo, or a
// configuration that is not valid.
func checkMethodology(doc *report.Document) error {
	if !slices.Contains(attribute.SupportedMethodologies, doc.MethodologyVersion) {
		v := doc.MethodologyVersion
		if v == "" {
			v = "(none: made before reports carried their methodology)"
		}
		return fmt.Errorf("report made by methodology version %s; this whodunit can redo only %v: verify it with the whodunit that made it", v, attribute.SupportedMethodologies)
	}
	if err := doc.MethodologyConfig.Validate(); err != nil {
		return fmt.Errorf("methodology_config: %w", err)
	}
	return nil
}

func recheckedText(c *report.Campaign) string {
	a := c.Attribution
	return fmt.Sprintf("%d hypotheses, %d evidence item(s), %d human-driven event(s) recomputed: %q (%s confidence), same likelihoods, words, time-zone fit, sensitivity",
		len(a.Hypotheses), len(a.Evidence), len(c.HumanEvents), a.Estimate, a.Confidence)
}
