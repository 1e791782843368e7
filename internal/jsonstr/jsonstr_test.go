package jsonstr_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/jsonstr"
)

// HTML is encoding/json's output; without it the text still decodes to s
// (bad UTF-8 as U+FFFD) and leaves <, > and & alone.
func check(t *testing.T, s string) {
	t.Helper()
	want, _ := json.Marshal(s)
	if got := jsonstr.Append(nil, s, jsonstr.HTML); !bytes.Equal(got, want) {
		t.Fatalf("HTML mode wrote %s, encoding/json %s", got, want)
	}
	plain := jsonstr.Append(nil, s, 0)
	var back string
	if err := json.Unmarshal(plain, &back); err != nil {
		t.Fatalf("plain mode wrote %s: %v", plain, err)
	}
	if wantBack := strings.ToValidUTF8(s, "\ufffd"); back != wantBack && !invalidRuns(s) {
		t.Fatalf("plain mode %s decodes to %q, want %q", plain, back, wantBack)
	}
	if strings.ContainsAny(s, "<>&") && !bytes.ContainsAny(plain, "<>&") {
		t.Fatalf("plain mode escaped <, > or &: %s", plain)
	}
}

// invalidRuns: ToValidUTF8 replaces a run of bad bytes once, Append each.
func invalidRuns(s string) bool { return strings.ToValidUTF8(s, "") != s }

func TestAppend(t *testing.T) {
	for _, s := range []string{"", "plain", "a\"b\\c", "\x00\b\f\n\r\t\x1f\x7f", "<a href=\"x\">&</a>", "é日本", "\u2028\u2029", "\xff\xfe ok", "\xe2\x80"} {
		check(t, s)
	}
	if got := string(jsonstr.Append(nil, "\b\f<", 0)); got != `"\u0008\u000c<"` {
		t.Errorf("plain mode wrote %s", got)
	}
}

func FuzzAppend(f *testing.F) {
	f.Add("a<b>&\"\\\x00\u2028\xff")
	f.Fuzz(check)
}
