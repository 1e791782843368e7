package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// runPatternCLI runs whodunit with args through Main.
func runPatternCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runMain(args...)
}

func TestPatternValidateCLI(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string // substring
	}{
		{"valid", []string{"pattern", "validate", "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']"}, 0, "valid\n", ""},
		{"missing bracket", []string{"pattern", "validate", "[file:size = 1280"}, 1, "", "line 1, column 18: expected ']'"},
		{"bad unit", []string{"pattern", "validate", "[file:size = 1] WITHIN 5 HOURS"}, 1, "", "line 1, column 26: expected SECONDS"},
		{"negative count", []string{"pattern", "validate", "[file:size = 1] REPEATS -2 TIMES"}, 1, "", "line 1, column 25: REPEATS needs a positive count"},
		{"malformed hash", []string{"pattern", "validate", "[file:hashes.MD5 = 'f00']"}, 1, "", "line 1, column 20: 'f00' is not a valid MD5 hash"},
		{"duplicate qualifier", []string{"pattern", "validate", "[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS"}, 1, "", "duplicate WITHIN qualifier"},
		{"strict catches mixed set", []string{"pattern", "validate", "--strict", "[a:b IN (1, true)]"}, 1, "", "IN set mixes"},
		{"strict reports not evaluable as invalid", []string{"pattern", "validate", "--strict", "[domain-name:value MATCHES '((a{100}){100}){100}']"}, 1, "", "invalid pattern: valid STIX, but not evaluable here: line 1, column 28"},
		{"grammar accepts mixed set, evaluator does not", []string{"pattern", "validate", "[a:b IN (1, true)]"}, 1,
			"valid, but not evaluable here: line 1, column 13: IN set mixes integer and boolean values: a set holds values of one type (integers and floats may mix)\n", "pattern cannot be evaluated here"},
		{"nested repeats valid but not evaluable", []string{"pattern", "validate", "[domain-name:value MATCHES '((a{100}){100}){100}']"}, 1,
			"valid, but not evaluable here: line 1, column 28: MATCHES '((a{100}){100}){100}': invalid regular expression: invalid repeat count: `{100}`\n", "pattern cannot be evaluated here"},
		{"no argument", []string{"pattern", "validate"}, 2, "", "accepts 1 arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runPatternCLI(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			if stdout != tt.wantStdout {
				t.Errorf("stdout (-want +got):\n%s", cmp.Diff(tt.wantStdout, stdout))
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.wantStderr)
			}
		})
	}
}

const cliObservations = `[
 {"type": "bundle", "id": "bundle--1", "objects": [
  {"type": "observed-data", "id": "observed-data--a", "number_observed": 1,
   "first_observed": "2020-01-01T00:00:00Z", "last_observed": "2020-01-01T00:00:00Z",
   "object_refs": ["network-traffic--1", "ipv4-addr--1"]},
  {"type": "network-traffic", "id": "network-traffic--1", "dst_ref": "ipv4-addr--1", "dst_port": 443, "protocols": ["tcp"]},
  {"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "198.51.100.7"}]},
 {"type": "observed-data", "id": "observed-data--b", "number_observed": 1,
  "first_observed": "2020-01-01T00:00:30Z", "last_observed": "2020-01-01T00:00:30Z",
  "objects": {"0": {"type": "domain-name", "value": "evil.example"}}}
]`

func TestPatternMatchCLI(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "obs.json")
	if err := os.WriteFile(file, []byte(cliObservations), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`[{"type": "observed-data"`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"match", []string{"pattern", "match", "--pattern", "[network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24']", file}, 0, "true\n", ""},
		{"no match", []string{"pattern", "match", "--pattern", "[domain-name:value = 'good.example']", file}, 0, "false\n", ""},
		{"followedby within", []string{"pattern", "match", "--pattern", "([ipv4-addr:value = '198.51.100.7'] FOLLOWEDBY [domain-name:value = 'evil.example']) WITHIN 60 SECONDS", file}, 0, "true\n", ""},
		{"invalid pattern", []string{"pattern", "match", "--pattern", "[domain-name:value = ", file}, 1, "", "invalid pattern: line 1, column 22: expected a literal"},
		{"cannot evaluate", []string{"pattern", "match", "--pattern", "[domain-name:value MATCHES '(a)\\\\1']", file}, 1, "", "back-reference"},
		{"missing file", []string{"pattern", "match", "--pattern", "[a:b = 1]", filepath.Join(dir, "nope.json")}, 2, "", "cannot read"},
		{"unparseable file", []string{"pattern", "match", "--pattern", "[a:b = 1]", bad}, 2, "", "observations"},
		{"no pattern", []string{"pattern", "match", file}, 2, "", "--pattern is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runPatternCLI(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			if stdout != tt.wantStdout {
				t.Errorf("stdout (-want +got):\n%s", cmp.Diff(tt.wantStdout, stdout))
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.wantStderr)
			}
		})
	}
}

func TestPatternMatchCLIJSON(t *testing.T) {
	file := filepath.Join(t.TempDir(), "obs.json")
	if err := os.WriteFile(file, []byte(cliObservations), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runPatternCLI(t, "--json", "pattern", "match", "--pattern",
		"[ipv4-addr:value = '198.51.100.7'] AND [domain-name:value = 'evil.example']", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got struct {
		Matched      bool     `json:"matched"`
		ObservedData []string `json:"observed_data"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	want := []string{"observed-data--a", "observed-data--b"}
	if !got.Matched || !cmp.Equal(got.ObservedData, want) {
		t.Errorf("got %+v, want matched with %v", got, want)
	}
}
