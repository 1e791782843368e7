// Package cli builds the whodunit command line. It is the only package that
// wires the others together; one file per command.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/termsafe"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// App carries what every command shares: output streams and global flags.
type App struct {
	Stdout, Stderr io.Writer
	Stdin          io.Reader
	DBPath         string
	JSON           bool
	Quiet          bool
	Log            *slog.Logger
	cpuProfile     string
	stopProfile    func()
	diskHinted     bool // diskHint said its piece
}

// UsageError marks a command-line mistake (exit code 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// usagef returns a UsageError.
func usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// ExitError carries a specific exit code with an optional message already printed.
type ExitCodeError struct {
	Code int
	Err  error
}

func (e *ExitCodeError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}
func (e *ExitCodeError) Unwrap() error { return e.Err }

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// Diagnostics quote file content and names from intelligence: a
	// control character in them is shown, never obeyed by the terminal.
	stderr = termsafe.NewWriter(stderr)
	app := &App{Stdout: stdout, Stderr: stderr, Stdin: stdin}
	root := newRoot(app)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ce *ExitCodeError
	if errors.As(err, &ce) {
		if ce.Err != nil {
			fmt.Fprintln(stderr, "whodunit:", ce.Err)
			app.diskHint(ce.Err)
		}
		return ce.Code
	}
	fmt.Fprintln(stderr, "whodunit:", err)
	app.diskHint(err)
	var ue *UsageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	return ExitError
}

func newRoot(app *App) *cobra.Command {
	root := &cobra.Command{
		Use:   "whodunit",
		Short: "Find cyber-espionage in your own telemetry and say who is most likely behind it",
		Long: `whodunit matches network telemetry against threat intelligence, finds
command-and-control that no indicator names yet, groups findings into
campaigns and weighs which actor is most likely behind each.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if !app.JSON {
				// text output prints names from telemetry and intel (a DNS
				// query with \x1b[…): escaped here, once, for every command;
				// JSON is escaped by its encoder
				app.Stdout = termsafe.NewWriter(app.Stdout)
			}
			level := slog.LevelInfo
			if app.Quiet {
				level = slog.LevelError
				if !app.JSON {
					// -q silences all but errors (the exit code answers);
					// --json output was asked for and still comes
					app.Stdout = io.Discard
				}
			}
			app.Log = slog.New(slog.NewTextHandler(app.Stderr, &slog.HandlerOptions{Level: level}))
			if app.cpuProfile != "" {
				f, err := os.Create(app.cpuProfile)
				if err != nil {
					return err
				}
				if err := pprof.StartCPUProfile(f); err != nil {
					f.Close()
					return err
				}
				app.stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
			}
			return nil
		},
		PersistentPostRun: func(cmd *cobra.Command, args []string) {
			if app.stopProfile != nil {
				app.stopProfile()
			}
		},
	}
	defaultDB := os.Getenv("WHODUNIT_DB")
	if defaultDB == "" {
		defaultDB = "whodunit.db"
	}
	pf := root.PersistentFlags()
	pf.StringVar(&app.DBPath, "db", defaultDB, "database: a file (embedded SQLite) or a PostgreSQL DSN, postgres://user@host/db (env WHODUNIT_DB)")
	pf.BoolVar(&app.JSON, "json", false, "machine-readable JSON output")
	pf.BoolVarP(&app.Quiet, "quiet", "q", false, "print nothing but errors (the exit code answers; --json output still comes)")
	pf.StringVar(&app.cpuProfile, "cpuprofile", "", "write a CPU profile of the command to this file")
	_ = pf.MarkHidden("cpuprofile")
	root.SetFlagErrorFunc(flagError)
	for _, c := range commands(app) {
		root.AddCommand(c)
	}
	// cobra reports unknown commands and bad arguments as plain errors; make
	// them usage errors.
	wrapArgs(root)
	return root
}

// wrapArgs turns argument-validation failures into usage errors, recursively.
func wrapArgs(c *cobra.Command) {
	if c.Args != nil {
		orig := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := orig(cmd, args); err != nil {
				return &UsageError{Err: err}
			}
			return nil
		}
	} else if c.HasSubCommands() {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0])
			}
			return nil
		}
		if c.RunE == nil && c.Run == nil {
			c.RunE = func(cmd *cobra.Command, args []string) error {
				cmd.SetOut(cmd.ErrOrStderr())
				_ = cmd.Help()
				return &ExitCodeError{Code: ExitUsage}
			}
		}
	}
	for _, s := range c.Commands() {
		wrapArgs(s)
	}
}

// unknownCommand is the usage error for a mistyped subcommand, with the
// commands it is closest to.
func unknownCommand(cmd *cobra.Command, name string) error {
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(name); len(s) > 0 {
		return usagef("unknown command %q for %q; did you mean %s?", name, cmd.CommandPath(), strings.Join(s, " or "))
	}
	return usagef("unknown command %q for %q (see %s --help)", name, cmd.CommandPath(), cmd.CommandPath())
}

// printJSON writes v as indented JSON on stdout.
func (app *App) printJSON(v any) error {
	enc := json.NewEncoder(app.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// errorf prints an error that does not end the command (one file of
// several) on stderr, with the prefix every error has; --quiet keeps it.
func (app *App) errorf(format string, args ...any) {
	fmt.Fprintf(app.Stderr, "whodunit: "+format+"\n", args...)
}

// infof prints a progress or summary line on stderr unless --quiet.
func (app *App) infof(format string, args ...any) {
	if !app.Quiet {
		fmt.Fprintf(app.Stderr, format+"\n", args...)
	}
}
