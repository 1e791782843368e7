package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/apikey"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

func newAPIKeyCmd(app *App) *cobra.Command {
	c := &cobra.Command{
		Use:   "apikey",
		Short: "Create, list and revoke the API keys 'whodunit serve' accepts",
		Long: `An API key opens 'whodunit serve' to one partner: it names the collections
the partner may read and write, and the most restrictive TLP marking it may
receive (--tlp-max). TLP:RED is never served; TLP:AMBER+STRICT only to
--internal keys, those of the organisation running the server. A key is
shown once, when created, and stored only as a digest.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	c.AddCommand(newAPIKeyCreateCmd(app), newAPIKeyListCmd(app), newAPIKeyRevokeCmd(app))
	return c
}

type apikeyFlags struct {
	tlpMax, read, write string
	internal, admin     bool
}

func newAPIKeyCreateCmd(app *App) *cobra.Command {
	var f apikeyFlags
	c := &cobra.Command{
		Use:   "create NAME --tlp-max LEVEL [--read C,...] [--write C,...] [--internal] [--admin]",
		Short: "Make a key and print it once on stdout",
		Long: `create makes a key for NAME and prints it on stdout, once: it is stored only
as a digest and cannot be shown again (revoke it and make another if it is
lost). --read and --write take collection ids or aliases, "*" for all.`,
		Example: `  whodunit apikey create cert-b --tlp-max green --read intel,findings --write inbox
  whodunit apikey create soc --tlp-max amber+strict --internal --read '*' --admin`,
		Args: keyArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error { return app.createKey(cmd.Context(), args[0], f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.tlpMax, "tlp-max", "", "most restrictive TLP the key may receive: clear, green, amber, amber+strict (needs --internal)")
	fl.StringVar(&f.read, "read", "", "collections the key may read (ids or aliases, comma-separated; * = all)")
	fl.StringVar(&f.write, "write", "", "collections the key may write")
	fl.BoolVar(&f.internal, "internal", false, "the key belongs to the organisation running the server (may receive TLP:AMBER+STRICT)")
	fl.BoolVar(&f.admin, "admin", false, "the key may manage keys and read the audit trail")
	return c
}

// keyArgs is cobra.ExactArgs with a usage error that names the argument.
func keyArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %s (see %s --help)", cmd.CommandPath(), what, cmd.CommandPath())
		}
		return nil
	}
}

func (app *App) createKey(ctx context.Context, name string, f apikeyFlags) error {
	if f.tlpMax == "" {
		return usagef("--tlp-max is required: clear, green, amber or amber+strict")
	}
	ceiling, err := tlp.ParseCeiling(f.tlpMax, f.internal)
	if err != nil {
		return usagef("--tlp-max: %v", err)
	}
	if app.Quiet && !app.JSON {
		return usagef("--quiet would discard the key, which is shown only once")
	}
	k, text, err := apikey.New(name, ceiling, f.admin, splitKeyList(f.read), splitKeyList(f.write), time.Now())
	if err != nil {
		return usagef("%v", err)
	}
	db, err := app.createStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	keys, err := keyStore(db)
	if err != nil {
		return err
	}
	if err := keys.PutKey(ctx, k); err != nil {
		if errors.Is(err, store.ErrExists) {
			return fmt.Errorf("a valid key named %q exists already (revoke it first, or choose another name)", name)
		}
		return fmt.Errorf("storing key %q: %w", name, err)
	}
	app.errorf("warning: the key for %q is shown now and never again; keep it somewhere safe", name)
	if app.JSON {
		return app.printJSON(struct {
			keyJSON
			Key string `json:"key"`
		}{toKeyJSON(k), text})
	}
	_, err = fmt.Fprintln(app.Stdout, text)
	return err
}

// splitKeyList reads a comma-separated flag value.
func splitKeyList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// keyStore is the store's key role; both stores have it.
func keyStore(db store.Store) (store.KeyStore, error) {
	ks, ok := db.(store.KeyStore)
	if !ok {
		return nil, fmt.Errorf("this store keeps no API keys")
	}
	return ks, nil
}

// keyJSON is one key of apikey list --json: everything but the digest.
type keyJSON struct {
	Name     string     `json:"name"`
	ID       string     `json:"id"`
	TLPMax   string     `json:"tlp_max"`
	Internal bool       `json:"internal"`
	Admin    bool       `json:"admin"`
	Read     []string   `json:"read"`
	Write    []string   `json:"write"`
	Created  time.Time  `json:"created"`
	Revoked  *time.Time `json:"revoked,omitempty"`
}

func toKeyJSON(k store.APIKey) keyJSON {
	j := keyJSON{Name: k.Name, ID: k.ID, TLPMax: k.TLPMax, Internal: k.Internal, Admin: k.Admin,
		Read: keyNonNil(k.Read), Write: keyNonNil(k.Write), Created: k.Created.UTC()}
	if !k.Revoked.IsZero() {
		r := k.Revoked.UTC()
		j.Revoked = &r
	}
	return j
}

func keyNonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func newAPIKeyListCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the keys, revoked ones too (never their secrets or digests)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return app.listKeys(cmd.Context()) },
	}
}

func (app *App) listKeys(ctx context.Context) error {
	db, err := app.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	ks, err := keyStore(db)
	if err != nil {
		return err
	}
	keys, err := ks.Keys(ctx)
	if err != nil {
		return err
	}
	out := make([]keyJSON, 0, len(keys))
	for _, k := range keys {
		out = append(out, toKeyJSON(k))
	}
	if app.JSON {
		return app.printJSON(out)
	}
	tw := tabwriter.NewWriter(app.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tID\tTLP-MAX\tINTERNAL\tADMIN\tREAD\tWRITE\tCREATED\tREVOKED")
	for _, k := range out {
		revoked := "-"
		if k.Revoked != nil {
			revoked = k.Revoked.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.Name, k.ID, k.TLPMax, keyYesNo(k.Internal), keyYesNo(k.Admin),
			keyListOrDash(k.Read), keyListOrDash(k.Write), k.Created.Format(time.RFC3339), revoked)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	app.infof("%d key(s)", len(out))
	return nil
}

func keyYesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func keyListOrDash(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ",")
}

func newAPIKeyRevokeCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke the valid key named NAME: the server refuses it from the next request on",
		Args:  keyArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := app.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			ks, err := keyStore(db)
			if err != nil {
				return err
			}
			if err := ks.RevokeKey(cmd.Context(), args[0], time.Now()); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("no valid key named %q (see 'whodunit apikey list')", args[0])
				}
				return err
			}
			app.infof("revoked key %q", args[0])
			return nil
		},
	}
}
