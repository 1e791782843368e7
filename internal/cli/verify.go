package cli

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/sign"
	"github.com/whodunit-project/whodunit/internal/verify"
)

func newVerifyCmd(app *App) *cobra.Command {
	var pub, logs string
	c := &cobra.Command{
		Use:   "verify REPORT [--pub NAME.pub] [--logs DIR]",
		Short: "Check a report.json without trusting its sender: signature, every assessment redone, cited records",
		Long: `Check a report.json: with --pub, its detached signature (REPORT.sig) and
that the report names that key; every campaign's assessment redone from the
evidence and methodology inside the report (weights from their factors, the
operators' time zone from the human-driven events, scores, likelihoods,
estimative words, confidence, sensitivity, what would change the answer);
that every indicator the evidence names is carried as imported; and with
--logs, every cited record found by its file's SHA-256 at its offset and line.

Exit 0: verified. Exit 1: not verified, with the reason (the campaign and
the figure that differs). Exit 2: the report, signature or key is unreadable.`,
		Example: `  whodunit verify case-42/report.json --pub soc-2026.pub
  whodunit verify report.json --pub soc-2026.pub --logs /var/log/zeek --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opt := verify.Options{Report: args[0], LogsDir: logs}
			if pub != "" {
				k, err := sign.LoadPublicKey(pub)
				if err != nil {
					return &ExitCodeError{Code: ExitUsage, Err: fmt.Errorf("--pub: %w", err)}
				}
				opt.PublicKey = k
			}
			res, err := verify.File(opt)
			if errors.Is(err, verify.ErrUnreadable) {
				return &ExitCodeError{Code: ExitUsage, Err: err}
			}
			if err != nil {
				return err
			}
			return app.printVerdict(res, opt.PublicKey)
		},
	}
	c.Flags().StringVar(&pub, "pub", "", "the sender's public key (PEM): check the signature")
	c.Flags().StringVar(&logs, "logs", "", "directory of the original logs: check each cited record")
	return c
}

func (app *App) printVerdict(res *verify.Result, pub ed25519.PublicKey) error {
	if app.JSON {
		if err := app.printJSON(res); err != nil {
			return err
		}
	} else {
		for _, c := range res.Checks {
			mark := "ok  "
			if !c.OK {
				mark = "FAIL"
			}
			fmt.Fprintf(app.Stdout, "%s %s: %s\n", mark, c.Name, c.Detail)
		}
		verdict := "verified"
		if !res.Verified {
			verdict = "NOT verified: " + res.Reason
		} else if pub == nil {
			verdict += " (recomputation only: no --pub, signature not checked)"
		}
		fmt.Fprintf(app.Stdout, "%s: %s\n", res.Report, verdict)
	}
	if !res.Verified {
		return &ExitCodeError{Code: ExitError}
	}
	return nil
}
