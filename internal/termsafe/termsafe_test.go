package termsafe

import (
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text\twith tab\n", "plain text\twith tab\n"},
		{"evil\x1b[31m.example", `evil\x1b[31m.example`},
		{"\x1b]0;owned\x07title", `\x1b]0;owned\x07title`},
		{"shown\rhidden", `shown\x0dhidden`},
		{"del\x7f nul\x00", `del\x7f nul\x00`},
		{"c1 \u009b31m csi", `c1 \u009b31m csi`},
		{"bad utf-8 \x9b\xff", `bad utf-8 \x9b\xff`},
		{"Comment Crew — 北京 ✓ \ufffd", "Comment Crew — 北京 ✓ \ufffd"},
	}
	for _, tt := range tests {
		if got := String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWriter(t *testing.T) {
	var b strings.Builder
	w := NewWriter(&b)
	in := "name\tcount\nevil\x1b[2J.example\t3\n"
	n, err := w.Write([]byte(in))
	if err != nil || n != len(in) {
		t.Fatalf("Write = %d, %v; want %d", n, err, len(in))
	}
	if want := "name\tcount\nevil\\x1b[2J.example\t3\n"; b.String() != want {
		t.Errorf("wrote %q, want %q", b.String(), want)
	}
}
