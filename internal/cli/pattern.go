package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/pattern"
)

// newPatternCmd is "whodunit pattern": validate STIX 2.1 patterns and match
// them against observed-data.
func newPatternCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pattern",
		Short: "Validate STIX 2.1 patterns and match them against observed data",
	}
	cmd.AddCommand(newPatternValidateCmd(app), newPatternMatchCmd(app))
	return cmd
}

func newPatternValidateCmd(app *App) *cobra.Command {
	var strict bool
	cmd := &cobra.Command{
		Use:   "validate PATTERN",
		Short: "Check a STIX 2.1 pattern; print valid, or the error and where it is",
		Long: `Check a STIX 2.1 pattern against the grammar and the rules of the
reference validator (duplicate qualifiers, hash values that do not fit
their algorithm, non-positive WITHIN and REPEATS), then compile it the way
intel import and scan do (IN sets of one type, CIDR operands, regular
expressions Go's RE2 can run, real dates). Prints "valid" and exits 0; a
pattern that breaks the grammar prints the error with its line and column
on stderr and exits 1; a valid pattern that cannot be evaluated here prints
"valid, but not evaluable here: …" and exits 1 — import skips such an
indicator and says why. --strict reports the latter as invalid.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			prog, err := pattern.Prepare(args[0], pattern.ParseOptions{})
			if err != nil {
				return app.patternInvalid(err, strict)
			}
			if app.JSON {
				return app.printJSON(map[string]any{"valid": true, "evaluable": true, "canonical": prog.Pattern().String()})
			}
			fmt.Fprintln(app.Stdout, "valid")
			return nil
		},
	}
	cmd.Flags().BoolVar(&strict, "strict", false, "report a pattern that cannot be evaluated here as invalid")
	return cmd
}

// patternInvalid reports a pattern Prepare refused: a grammar error, or
// (unless strict) a valid pattern this evaluator cannot run.
func (app *App) patternInvalid(err error, strict bool) error {
	notEvaluable := errors.Is(err, pattern.ErrNotEvaluable) && !strict
	if app.JSON {
		out := map[string]any{"valid": notEvaluable, "evaluable": false, "error": err.Error()}
		var pe *pattern.Error
		if errors.As(err, &pe) {
			out["line"], out["column"], out["message"] = pe.Line, pe.Column, pe.Msg
		}
		if jerr := app.printJSON(out); jerr != nil {
			return jerr
		}
	}
	if notEvaluable {
		var pe *pattern.Error
		if errors.As(err, &pe) {
			err = pe // the position and message; "valid" is said already
		}
		if !app.JSON {
			fmt.Fprintf(app.Stdout, "valid, but not evaluable here: %v\n", err)
		}
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("pattern cannot be evaluated here: %w", err)}
	}
	return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("invalid pattern: %w", err)}
}

func newPatternMatchCmd(app *App) *cobra.Command {
	var src string
	cmd := &cobra.Command{
		Use:   "match --pattern PATTERN FILE",
		Short: "Match a STIX 2.1 pattern against observed-data; print true or false",
		Long: `Match a pattern against FILE, a JSON array of STIX bundles and/or
observed-data objects (2.1 object_refs or the 2.0 embedded objects
dictionary), as the reference matcher takes them. FILE may be gzip
compressed; "-" reads standard input. Prints true or false and exits 0;
exits 1 when the pattern is invalid or cannot be evaluated against the
data; exits 2 when FILE cannot be read. With --json, also prints the ids of
the observed-data of the first matching binding.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("pattern") {
				return usagef("--pattern is required")
			}
			p, err := pattern.ParseWith(src, pattern.Lenient)
			if err != nil {
				return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("invalid pattern: %w", err)}
			}
			prog, err := pattern.Compile(p)
			if err != nil {
				return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("pattern cannot be evaluated: %w", err)}
			}
			data, err := readObservationFile(args[0])
			if err != nil {
				return &ExitCodeError{Code: ExitUsage, Err: err}
			}
			obs, err := pattern.LoadObservations(data)
			if err != nil {
				return &ExitCodeError{Code: ExitUsage, Err: fmt.Errorf("%s: %w", args[0], err)}
			}
			matched, ids, err := prog.Match(obs)
			if err != nil {
				return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("cannot evaluate the pattern against %s: %w", args[0], err)}
			}
			if app.JSON {
				if ids == nil {
					ids = []string{}
				}
				return app.printJSON(map[string]any{"matched": matched, "observed_data": ids})
			}
			fmt.Fprintln(app.Stdout, matched)
			return nil
		},
	}
	cmd.Flags().StringVar(&src, "pattern", "", "the STIX pattern to match (required)")
	return cmd
}

// readObservationFile reads FILE (or standard input for "-") with a size
// bound.
func readObservationFile(path string) ([]byte, error) {
	in, err := fileio.Open(path, fileio.DefaultLimits)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	defer in.Close()
	data, err := io.ReadAll(io.LimitReader(in.R, pattern.MaxObservationBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	if len(data) > pattern.MaxObservationBytes {
		return nil, fmt.Errorf("cannot read %s: larger than %d bytes", path, pattern.MaxObservationBytes)
	}
	return data, nil
}
