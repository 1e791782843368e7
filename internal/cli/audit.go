package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/store"
)

// auditJSON is one entry of audit --json: a request the server answered
// or, interleaved by time, an analyst's verdict (Kind "verdict").
type auditJSON struct {
	Kind    string    `json:"kind"` // "request" or "verdict"
	Seq     int64     `json:"seq"`
	At      time.Time `json:"at"`
	Key     string    `json:"key"`
	Remote  string    `json:"remote"`
	Method  string    `json:"method"`
	Path    string    `json:"path"`
	Status  int       `json:"status"`
	Objects int       `json:"objects"`
	TookMS  float64   `json:"took_ms"`
	// Verdict is the decision recorded, for a verdict entry.
	Verdict *store.Verdict `json:"verdict,omitempty"`
}

func newAuditCmd(app *App) *cobra.Command {
	var q store.AuditQuery
	var since string
	c := &cobra.Command{
		Use:   "audit [--key NAME] [--since T] [--limit N]",
		Short: "List the requests 'whodunit serve' answered and the analysts' verdicts",
		Long: `audit lists the audit trail of 'whodunit serve', oldest first: when, which
key (empty when none was accepted), from where, the method and path, the
status answered, how many objects were served or received, and how long it
took. The analysts' verdicts (false positive, confirmed, reopened, notes,
actor joins undone or made) are interleaved by time as VERDICT lines: what
was decided about which finding, by which key, with the note. --key keeps
one key's requests and verdicts. --since takes RFC 3339
(2026-12-01T09:00:00Z) or a date; --limit keeps the newest N entries.`,
		Example: `  whodunit audit --key cert-b --since 2026-12-01
  whodunit audit --limit 50 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if since != "" {
				t, err := parseSince(since)
				if err != nil {
					return usagef("--since: %v", err)
				}
				q.Since = t
			}
			if q.Limit < 0 {
				return usagef("--limit must not be negative")
			}
			return app.audit(cmd.Context(), q)
		},
	}
	f := c.Flags()
	f.StringVar(&q.Key, "key", "", "only requests made with the key of this name")
	f.StringVar(&since, "since", "", "only requests at or after this time (RFC 3339 or YYYY-MM-DD, UTC)")
	f.IntVar(&q.Limit, "limit", 0, "only the newest N entries (0 = all)")
	return c
}

func parseSince(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor YYYY-MM-DD", s)
	}
	return t, nil
}

func (app *App) audit(ctx context.Context, q store.AuditQuery) error {
	db, err := app.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	log, ok := db.(store.AuditLog)
	if !ok {
		return fmt.Errorf("this store keeps no audit trail")
	}
	out := []auditJSON{}
	err = log.Audit(ctx, q, func(e store.AuditEntry) error {
		out = append(out, auditJSON{Kind: "request", Seq: e.Seq, At: e.At.UTC(), Key: e.Key, Remote: e.Remote, Method: e.Method,
			Path: e.Path, Status: e.Status, Objects: e.Objects, TookMS: float64(e.Took.Microseconds()) / 1000})
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading the audit trail: %w", err)
	}
	if vs, ok := db.(store.VerdictStore); ok {
		if out, err = withVerdicts(ctx, vs, q, out); err != nil {
			return err
		}
	}
	if app.JSON {
		return app.printJSON(out)
	}
	return app.printAudit(out)
}

// withVerdicts merges the verdicts matching q's key and time into the
// requests by time (a verdict after the request that recorded it, which
// the middleware logs when the answer is sent), keeping the newest Limit.
func withVerdicts(ctx context.Context, vs store.VerdictStore, q store.AuditQuery, out []auditJSON) ([]auditJSON, error) {
	all, err := vs.Verdicts(ctx, store.VerdictQuery{})
	if err != nil {
		return nil, fmt.Errorf("reading the verdicts: %w", err)
	}
	for i := range all {
		v := all[i]
		if (q.Key != "" && v.By != q.Key) || v.At.Before(q.Since) {
			continue
		}
		out = append(out, auditJSON{Kind: "verdict", Seq: v.Seq, At: v.At.UTC(), Key: v.By, Method: "VERDICT", Verdict: &v})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[len(out)-q.Limit:]
	}
	return out, nil
}

// oneLine keeps a note on its row of the table; stdout escapes the rest.
var oneLine = strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`)

func (app *App) printAudit(out []auditJSON) error {
	tw := tabwriter.NewWriter(app.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tAT\tKEY\tREMOTE\tMETHOD\tSTATUS\tOBJECTS\tTOOK\tPATH")
	for _, e := range out {
		key := e.Key
		if key == "" {
			key = "-"
		}
		if v := e.Verdict; v != nil {
			what := v.Kind + " " + v.Target + ": " + v.Decision
			if v.Note != "" {
				what += " (" + v.Note + ")"
			}
			fmt.Fprintf(tw, "v%d\t%s\t%s\t-\tVERDICT\t-\t-\t-\t%s\n", e.Seq, e.At.Format("2006-01-02T15:04:05.000Z"), key, oneLine.Replace(what))
			continue
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%.1fms\t%s\n", e.Seq, e.At.Format("2006-01-02T15:04:05.000Z"),
			key, e.Remote, e.Method, e.Status, e.Objects, e.TookMS, e.Path)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	app.infof("%d entries", len(out))
	return nil
}
