package cli

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
)

func TestReportFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // "" = no usage error expected from the flags
	}{
		{[]string{"--format", "pdf"}, `--format: unknown format "pdf"`},
		{[]string{"--format", "html", "--tlp", "purple"}, `--tlp: unknown level "purple"`},
		{[]string{"--format", "stix", "--tlp", "white"}, ""},
		{[]string{"--format", "markdown", "--tlp", "TLP:AMBER+STRICT"}, ""},
	} {
		var out, errb bytes.Buffer
		app := &App{Stdout: &out, Stderr: &errb, DBPath: filepath.Join(t.TempDir(), "missing", "x.db")}
		cmd := newReportCmd(app)
		cmd.SetArgs(tc.args)
		cmd.SetOut(&out)
		cmd.SetErr(&errb)
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		err := cmd.ExecuteContext(context.Background())
		var ue *UsageError
		isUsage := errors.As(err, &ue)
		if tc.want != "" {
			if !isUsage || err.Error()[:len(tc.want)] != tc.want {
				t.Errorf("%v: error %v, want usage error %q", tc.args, err, tc.want)
			}
		} else if isUsage {
			t.Errorf("%v: unexpected usage error %v", tc.args, err)
		}
	}
}

func TestParseReportTLP(t *testing.T) {
	for in, want := range map[string]string{"clear": "clear", "WHITE": "clear", "tlp:green": "green", " Amber+Strict ": "amber+strict"} {
		got, err := parseReportTLP(in)
		if err != nil || got != want {
			t.Errorf("parseReportTLP(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if got, err := parseReportTLP("red"); err == nil {
		t.Errorf("parseReportTLP(red) = %q: red never leaves", got)
	}
}
