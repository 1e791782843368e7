package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

func newShareCmd(app *App) *cobra.Command {
	c := &cobra.Command{
		Use:   "share",
		Short: "Send findings to a partner's TAXII 2.1 server",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	c.AddCommand(newSharePushCmd(app))
	return c
}

type pushFlags struct {
	remoteFlags
	campaign, tlp, defaultTLP string
	sources                   []string
	all                       bool
	batch                     int
}

func newSharePushCmd(app *App) *cobra.Command {
	var f pushFlags
	c := &cobra.Command{
		Use:   "push URL --collection ID [--campaign C] [--tlp L]",
		Short: "Post our sightings of a partner's indicators to its collection, and wait for its status",
		Long: `push sends stored sightings to a TAXII 2.1 collection as STIX sightings of
their indicators: the indicator, the time and the field, never the values
or the hosts seen. By default only sightings of indicators pulled from the
same server go (its subscriptions, see 'intel pull'), so a producer learns
where its intelligence was seen; --source picks sources, --all sends every
sighting. --campaign keeps those of one campaign of the latest analysis.
A sighting is as sensitive as its indicator (unmarked: --default-tlp);
what --tlp does not cover is withheld and counted, and TLP:RED never leaves.
Each envelope's status is polled until the server has processed it.`,
		Example: `  whodunit share push https://cert.example/taxii2/ --collection inbox --tlp amber`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opt, err := f.options(args[0])
			if err != nil {
				return err
			}
			return app.push(cmd.Context(), opt, f)
		},
	}
	f.register(c)
	fl := c.Flags()
	fl.StringVar(&f.campaign, "campaign", "", "only the sightings of this campaign of the latest analysis")
	fl.StringVar(&f.tlp, "tlp", "amber", "the most restrictive TLP that may be sent: clear, green, amber")
	fl.StringVar(&f.defaultTLP, "default-tlp", "amber", "TLP of indicators without a marking")
	fl.StringSliceVar(&f.sources, "source", nil, "only sightings of indicators these sources asserted (default: the subscriptions to this URL)")
	fl.BoolVar(&f.all, "all", false, "every sighting, whoever's indicator it is")
	fl.IntVar(&f.batch, "batch", 500, "sightings per envelope")
	return c
}

func (f *pushFlags) options(url string) (hunt.PushOptions, error) {
	if f.collection == "" {
		return hunt.PushOptions{}, usagef("--collection is required")
	}
	ceiling, err := tlp.ParseCeiling(f.tlp, false)
	if err != nil {
		return hunt.PushOptions{}, usagef("--tlp: %v", err)
	}
	dflt, err := tlp.Parse(f.defaultTLP)
	if err != nil {
		return hunt.PushOptions{}, usagef("--default-tlp: %v", err)
	}
	if f.all && len(f.sources) > 0 {
		return hunt.PushOptions{}, usagef("--all and --source exclude each other")
	}
	client, err := f.client()
	if err != nil {
		return hunt.PushOptions{}, err
	}
	return hunt.PushOptions{Client: client, URL: url, Collection: f.collection, Sources: f.sources,
		Campaign: f.campaign, Ceiling: ceiling, DefaultTLP: dflt, Batch: f.batch}, nil
}

func (app *App) push(ctx context.Context, opt hunt.PushOptions, f pushFlags) error {
	db, err := app.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if !f.all && len(opt.Sources) == 0 {
		if opt.Sources, err = subscribedSources(ctx, db, opt); err != nil {
			return err
		}
	}
	res, err := hunt.Push(ctx, db, opt)
	if err != nil {
		return fmt.Errorf("pushing to %s: %w", opt.URL, err)
	}
	if app.JSON {
		return app.printJSON(res)
	}
	fmt.Fprintf(app.Stdout, "%d sighting(s) sent of %d read; %d withheld by TLP (above %s); the server took %d, refused %d\n",
		res.Sent, res.Considered, res.Withheld, opt.Ceiling, res.Succeeded, res.Failed)
	for _, d := range res.Failures {
		fmt.Fprintf(app.Stderr, "  refused: %s: %s\n", d.ID, d.Message)
	}
	if res.Failed > 0 {
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("the server refused %d sighting(s)", res.Failed)}
	}
	return nil
}

// subscribedSources are the names of the subscriptions pulled from the
// server at opt.URL (the same API root).
func subscribedSources(ctx context.Context, db any, opt hunt.PushOptions) ([]string, error) {
	subs, ok := db.(hunt.PullTarget)
	if !ok {
		return nil, errors.New("this store keeps no subscriptions: give --source or --all")
	}
	root, err := opt.Client.APIRoot(ctx, opt.URL)
	if err != nil {
		return nil, err
	}
	list, err := subs.Subscriptions(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range list {
		if s.URL == root {
			names = append(names, s.Name)
		}
	}
	if len(names) == 0 {
		return nil, usagef("nothing was pulled from %s: give --source NAME or --all", root)
	}
	return names, nil
}
