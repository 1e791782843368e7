package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/cli"
	"github.com/whodunit-project/whodunit/internal/scenario"
	"github.com/whodunit-project/whodunit/internal/sign"
	"github.com/whodunit-project/whodunit/internal/verify"
)

// signedDemoReport writes the demo's report.json and STIX bundle signed
// with a new key into a temporary directory; it returns the directory and
// the key pair's name.
func signedDemoReport(t *testing.T) (dir, key string) {
	t.Helper()
	_, db := demoDB(t)
	dir = t.TempDir()
	key = filepath.Join(dir, "analyst")
	if _, stderr, code := runCLI(t, "keygen", "--out", key); code != 0 {
		t.Fatalf("keygen exit %d: %s", code, stderr)
	}
	for _, f := range []string{"json", "stix"} {
		out := filepath.Join(dir, "report."+f)
		if _, stderr, code := runCLI(t, "--db", db, "report", "--format", f, "--sign", key+".key", "-o", out); code != 0 {
			t.Fatalf("report --format %s --sign exit %d: %s", f, code, stderr)
		}
	}
	return dir, key
}

// verdict runs verify --json and decodes its verdict.
func verdict(t *testing.T, args ...string) (verify.Result, int, string) {
	t.Helper()
	stdout, stderr, code := runCLI(t, append([]string{"--json", "verify"}, args...)...)
	var res verify.Result
	if code != 2 {
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatalf("verify --json printed no JSON (%v):\n%s\n%s", err, stdout, stderr)
		}
	}
	return res, code, stderr
}

// TestVerifyDemoRoundTrip signs the demo's report, verifies it (also
// against the original logs), and checks that a one-byte edit of each
// section fails with a reason naming it.
func TestVerifyDemoRoundTrip(t *testing.T) {
	// heavy and independent: runs beside the rest of the package
	t.Parallel()
	dir, key := signedDemoReport(t)
	rep, pub := filepath.Join(dir, "report.json"), key+".pub"
	res, code, stderr := verdict(t, rep, "--pub", pub, "--logs", filepath.Join(examplesDir, "telemetry"))
	if code != 0 || !res.Verified {
		t.Fatalf("signed demo report: exit %d, %+v\n%s", code, res, stderr)
	}
	if n := countChecks(res, "campaign "); n != 5 {
		t.Errorf("%d campaigns recomputed, want the demo's 5", n)
	}
	stixSig, err := sign.LoadSignature(filepath.Join(dir, "report.stix.sig"))
	if err != nil {
		t.Fatal(err)
	}
	stix, _ := os.ReadFile(filepath.Join(dir, "report.stix"))
	pk, _ := sign.LoadPublicKey(pub)
	if err := stixSig.Verify(pk, stix); err != nil {
		t.Errorf("STIX bundle signature: %v", err)
	}
	orig, err := os.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, old, new string
		resign         bool
		reason         string // the verdict's reason contains it
	}{
		{"evidence weight unsigned", `"weight": 0.439`, `"weight": 0.438`, false, "signature: signature does not verify"},
		{"evidence weight", `"weight": 0.439`, `"weight": 0.438`, true, "attribution.evidence[0].weight: the report says 0.438, recomputed 0.439"},
		{"evidence factor", `"confidence": 0.75,`, `"confidence": 0.76,`, true, "attribution.evidence[0].weight: the report says 0.439, recomputed 0.445"},
		{"methodology weight", `"beta": 2.5,`, `"beta": 2.6,`, true, "attribution.hypotheses[0].likelihood"},
		{"conclusion", `"estimate": "likely"`, `"estimate": "likelY"`, true, "attribution.estimate: the report says \"likelY\", recomputed \"likely\""},
		{"methodology version", `"methodology_version": "whodunit-attribution/1"`, `"methodology_version": "whodunit-attribution/0"`, true, "report made by methodology version whodunit-attribution/0"},
		{"intelligence", `"pattern_type": "stix",`, `"pattern_type": "stix", "confidence": 90,`, true, "intelligence: campaign "},
		{"cited record", `\t001dd76872d80801692ff942308c64e6\t`, `\t001dd76872d80801692ff942308c64e7\t`, true, "records: campaign C-78d8b1b941"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !bytes.Contains(orig, []byte(tc.old)) {
				t.Fatalf("the demo report has no %s", tc.old)
			}
			d := t.TempDir()
			bad := filepath.Join(d, "report.json")
			os.WriteFile(bad, bytes.Replace(orig, []byte(tc.old), []byte(tc.new), 1), 0o644)
			sigArgs := []string{"--pub", pub}
			if tc.resign {
				priv, _ := sign.LoadPrivateKey(key + ".key")
				if _, err := sign.SignFile(priv, bad); err != nil {
					t.Fatal(err)
				}
			} else {
				copyFile(t, rep+".sig", bad+".sig")
			}
			res, code, _ := verdict(t, append([]string{bad, "--logs", filepath.Join(examplesDir, "telemetry")}, sigArgs...)...)
			if code != 1 || res.Verified || !strings.Contains(res.Reason, tc.reason) {
				t.Errorf("exit %d, reason %q; want exit 1 and a reason with %q", code, res.Reason, tc.reason)
			}
		})
	}
	t.Run("signature", func(t *testing.T) {
		d := t.TempDir()
		copyFile(t, rep, filepath.Join(d, "report.json"))
		s, _ := os.ReadFile(rep + ".sig")
		i := bytes.Index(s, []byte(`"signature": "`)) + len(`"signature": "`)
		s[i] ^= 'A' ^ 'B'
		if s[i] == '"' {
			s[i] = 'C'
		}
		os.WriteFile(filepath.Join(d, "report.json.sig"), s, 0o644)
		res, code, _ := verdict(t, filepath.Join(d, "report.json"), "--pub", pub)
		if code != 1 || !strings.HasPrefix(res.Reason, "signature:") {
			t.Errorf("changed signature: exit %d, reason %q", code, res.Reason)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		d := t.TempDir()
		os.WriteFile(filepath.Join(d, "report.json"), orig[:len(orig)/2], 0o644)
		if _, code, stderr := verdict(t, filepath.Join(d, "report.json")); code != 2 || !strings.Contains(stderr, "unreadable") {
			t.Errorf("truncated report: exit %d, %s", code, stderr)
		}
	})
}

func countChecks(res verify.Result, prefix string) int {
	n := 0
	for _, c := range res.Checks {
		if strings.HasPrefix(c.Name, prefix) && c.OK {
			n++
		}
	}
	return n
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyInAnotherProcess verifies the signed demo report in a second
// process that has only the report, its signature and the public key.
func TestVerifyInAnotherProcess(t *testing.T) {
	// heavy and independent: runs beside the rest of the package
	t.Parallel()
	dir, key := signedDemoReport(t)
	alone := t.TempDir()
	for _, f := range []string{"report.json", "report.json.sig"} {
		copyFile(t, filepath.Join(dir, f), filepath.Join(alone, f))
	}
	copyFile(t, key+".pub", filepath.Join(alone, "sender.pub"))
	cmd := exec.Command(os.Args[0], "-test.run=^TestVerifyHelperProcess$")
	cmd.Dir = alone
	cmd.Env = append(os.Environ(), "WHODUNIT_VERIFY_HELPER=verify report.json --pub sender.pub")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "report.json: verified") {
		t.Fatalf("second process: %v\n%s", err, out)
	}
}

// TestVerifyHelperProcess is the second process of TestVerifyInAnotherProcess.
func TestVerifyHelperProcess(t *testing.T) {
	args := os.Getenv("WHODUNIT_VERIFY_HELPER")
	if args == "" {
		t.Skip("runs only as the helper process")
	}
	os.Exit(cli.Main(context.Background(), strings.Fields(args), strings.NewReader(""), os.Stdout, os.Stderr))
}

// TestVerifyHuntScenario hunts a generated scenario with --sign and
// verifies the report against the generated logs; a one-byte change to a
// log makes the check fail.
func TestVerifyHuntScenario(t *testing.T) {
	// heavy and independent: runs beside the rest of the package
	t.Parallel()
	needShared(t)
	if testing.Short() {
		t.Skip("end-to-end scenario")
	}
	dir := t.TempDir()
	apt1 := filepath.Join(sharedData, "intel", "apt1")
	logs := filepath.Join(dir, "logs")
	if _, err := scenario.Generate(scenario.Spec{
		Background: filepath.Join(sharedData, "telemetry", "zeek", "wrccdc-2018"), Out: logs,
		Seed: 7, Days: 14, Files: []string{"dns", "ssl"}, MaxBackgroundLines: 5000,
		Actors: []scenario.Actor{{Name: "APT1", Domains: []string{"msnhome.org", "aoldaily.com"}, IPs: []string{"223.166.12.34"},
			UTCOffset: 8, Victims: 2, Sessions: 40, Beacon: 15 * time.Minute, Jitter: 0.3}},
	}); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "k")
	runCLI(t, "keygen", "--out", key)
	out := filepath.Join(dir, "out")
	if stdout, stderr, code := runCLI(t, "hunt", "--out", out, "--sign", key+".key", "--actor-intel", "APT1="+apt1, "--logs", logs); code != 0 {
		t.Fatalf("hunt --sign exit %d\n%s\n%s", code, stdout, stderr)
	}
	rep := filepath.Join(out, "report.json")
	res, code, stderr := verdict(t, rep, "--pub", key+".pub", "--logs", logs)
	if code != 0 || countChecks(res, "campaign ") == 0 {
		t.Fatalf("scenario report: exit %d %+v\n%s", code, res, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "report.stix.json.sig")); err != nil {
		t.Errorf("no STIX signature: %v", err)
	}
	// Change one byte of a cited log: the file's hash no longer matches.
	var cited string
	var doc struct {
		Campaigns []struct {
			Attribution struct {
				Evidence []struct {
					Sightings []struct{ File string } `json:"sightings"`
				} `json:"evidence"`
			} `json:"attribution"`
		} `json:"campaigns"`
	}
	b, _ := os.ReadFile(rep)
	json.Unmarshal(b, &doc)
	for _, c := range doc.Campaigns {
		for _, e := range c.Attribution.Evidence {
			for _, s := range e.Sightings {
				cited = s.File
			}
		}
	}
	if cited == "" {
		t.Fatal("the scenario report cites no record")
	}
	data, _ := os.ReadFile(cited)
	data[len(data)-2] ^= 1
	os.WriteFile(cited, data, 0o644)
	res, code, _ = verdict(t, rep, "--pub", key+".pub", "--logs", logs)
	if code != 1 || !strings.HasPrefix(res.Reason, "records:") {
		t.Errorf("edited log: exit %d, reason %q", code, res.Reason)
	}
}
