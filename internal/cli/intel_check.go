package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
)

func newIntelCheckCmd(app *App) *cobra.Command {
	var typ string
	c := &cobra.Command{
		Use:   "check VALUE...|-",
		Short: "Say which indicators and which warninglists a value hits (exit 0 on a hit, 1 on none)",
		Long: `Say which indicators (with the matcher's own semantics: subdomains, CIDR
ranges, URL forms) and which warninglists each value hits, with the actors
the indicators point to, the sources that assert them and how often they
were sighted. "-" reads the values from standard input, one a line (blank
lines and # comments skipped). Exit 0 when some value hits an indicator,
1 when none does, 2 for a value that cannot be checked.`,
		Example: `  whodunit intel check 8.8.8.8
  whodunit intel check www.hugesoft.org
  whodunit intel check --type ja3 e7d705a3286e19ea42f587b344ee6865
  cut -f1 suspects.tsv | whodunit intel check -`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return app.intelCheck(cmd.Context(), args, typ)
		},
	}
	c.Flags().StringVar(&typ, "type", "", "value type when it cannot be guessed (ja3, ja3s, …)")
	return c
}

func (app *App) intelCheck(ctx context.Context, args []string, typ string) error {
	var t intel.ValueType
	if typ != "" {
		var err error
		if t, err = intel.ParseValueType(typ); err != nil {
			return usagef("--type: %v", err)
		}
	}
	values, err := app.checkValues(args)
	if err != nil {
		return err
	}
	db, err := app.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	out, err := hunt.Check(ctx, db, values, t)
	if errors.Is(err, hunt.ErrUncheckable) {
		return usagef("%v", err)
	}
	if err != nil {
		return err
	}
	if app.JSON {
		err = app.printJSON(out)
	} else {
		printCheck(app.Stdout, out)
	}
	if err == nil && !anyHit(out) {
		return &ExitCodeError{Code: ExitError}
	}
	return err
}

// checkValues is the arguments, or the lines of standard input for "-".
func (app *App) checkValues(args []string) ([]string, error) {
	if len(args) != 1 || args[0] != "-" {
		return args, nil
	}
	var values []string
	sc := bufio.NewScanner(app.Stdin)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			values = append(values, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading values from standard input: %w", err)
	}
	if len(values) == 0 {
		return nil, usagef("no values on standard input")
	}
	return values, nil
}

func anyHit(results []hunt.CheckResult) bool {
	for _, r := range results {
		if len(r.Indicators) > 0 {
			return true
		}
	}
	return false
}

func printCheck(w io.Writer, results []hunt.CheckResult) {
	for _, r := range results {
		fmt.Fprintf(w, "%s (%s)\n", r.Value, r.Type)
		if len(r.Indicators) == 0 {
			fmt.Fprintln(w, "  indicators: none")
		}
		for _, f := range checkFacts(r.Indicators) {
			printCheckFact(w, f)
		}
		if len(r.Warninglists) == 0 {
			fmt.Fprintln(w, "  warninglists: none")
		}
		for _, l := range r.Warninglists {
			fmt.Fprintf(w, "  warninglist: %s\n", l)
		}
	}
}

// checkFact is one indicator value with every indicator record that
// states it: the same fact from two feeds is one entry.
type checkFact struct {
	typ, value      string
	records         []hunt.CheckHit
	actors, sources []string
}

func checkFacts(hits []hunt.CheckHit) []*checkFact {
	var facts []*checkFact
	at := map[string]*checkFact{}
	for _, h := range hits {
		k := h.Type + "\x00" + h.Value
		f := at[k]
		if f == nil {
			f = &checkFact{typ: h.Type, value: h.Value}
			at[k] = f
			facts = append(facts, f)
		}
		f.records = append(f.records, h)
		f.actors = appendNew(f.actors, h.Actors...)
		f.sources = appendNew(f.sources, h.Sources...)
	}
	return facts
}

func appendNew(list []string, more ...string) []string {
	for _, m := range more {
		if !slices.Contains(list, m) {
			list = append(list, m)
		}
	}
	return list
}

func printCheckFact(w io.Writer, f *checkFact) {
	actors := "no actor"
	if len(f.actors) > 0 {
		actors = strings.Join(f.actors, ", ")
	}
	fmt.Fprintf(w, "  indicator %s %s\n    actors: %s; sources: %s\n", f.typ, f.value, actors, strings.Join(f.sources, ", "))
	for _, h := range f.records {
		fmt.Fprintf(w, "    record %s %q (%s): sighted %d×\n", h.Indicator, h.Name, strings.Join(h.Sources, ", "), h.Sightings)
	}
}
