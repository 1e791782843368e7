package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/apikey"
	"github.com/whodunit-project/whodunit/internal/server"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/taxii"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

func newDemoCmd(app *App) *cobra.Command {
	var examples, out, listen string
	var serve bool
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run everything whodunit does on the sample data shipped in examples/",
		Long: `Run the whole pipeline on the sample data in examples/ (see
examples/README.md for what it is and where it comes from) into a fresh
embedded database under --out, write the reports there, and print what was
found. It is 'whodunit hunt' over examples/intel and examples/telemetry.

With --serve it then serves the web interface on the demo's database, on
loopback, and prints its address and a key made for this run to sign in
with (SIGINT stops it).`,
		Example: `  whodunit demo
  whodunit demo --serve`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			intelDir := filepath.Join(examples, "intel")
			if _, err := os.Stat(intelDir); err != nil {
				return usagef("sample data not found at %s (run from the repository root or pass --examples)", intelDir)
			}
			// examples/intel/actors/NAME/ holds feeds whose indicators all
			// belong to actor NAME (like --actor-intel NAME=DIR).
			f := &huntFlags{out: out, logs: []string{filepath.Join(examples, "telemetry")}, tlp: "clear", org: "whodunit demo"}
			if assets := filepath.Join(examples, "assets.csv"); fileExists(assets) {
				f.assets = assets
			}
			entries, err := os.ReadDir(intelDir)
			if err != nil {
				return err
			}
			for _, e := range entries {
				p := filepath.Join(intelDir, e.Name())
				if e.Name() == "actors" && e.IsDir() {
					actors, err := os.ReadDir(p)
					if err != nil {
						return err
					}
					for _, a := range actors {
						if a.IsDir() {
							f.actorIntel = append(f.actorIntel, a.Name()+"="+filepath.Join(p, a.Name()))
						}
					}
					continue
				}
				f.intel = append(f.intel, p)
			}
			if err := app.hunt(ctx, f, false); err != nil || !serve {
				return err
			}
			return app.serveDemo(ctx, listen)
		},
	}
	c.Flags().StringVar(&examples, "examples", "examples", "directory of the sample data")
	c.Flags().StringVar(&out, "out", "whodunit-demo", "directory for the demo's database and reports")
	c.Flags().BoolVar(&serve, "serve", false, "then serve the web interface on the results (loopback) with a key made for this run")
	c.Flags().StringVar(&listen, "listen", server.DefaultListen, "address to serve on with --serve (host:port)")
	return c
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// serveDemo stores a key for this run in the demo's database and serves
// it, printing where and the key.
func (app *App) serveDemo(ctx context.Context, listen string) error {
	db, err := app.openStore(ctx)
	if err != nil {
		return err
	}
	keys, ok := db.(store.KeyStore)
	if !ok {
		db.Close()
		return fmt.Errorf("the store at %s keeps no keys", app.DBPath)
	}
	name := "demo-" + time.Now().UTC().Format("20060102T150405")
	k, text, err := apikey.New(name, tlp.Ceiling{Max: tlp.AmberStrict, Internal: true}, true, []string{"*"}, []string{"*"}, time.Now())
	if err == nil {
		err = keys.PutKey(ctx, k)
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("making the demo's key: %w", err)
	}
	o := serveOptions{listen: listen, defaultTLP: "amber", apiRoot: taxii.DefaultAPIRoot, org: "whodunit demo", maxPage: taxii.DefaultMaxPage,
		ready: func(a net.Addr) {
			fmt.Fprintf(app.Stdout, "\nThe web interface: http://%s/\nSign in with the key %s (made for this run; SIGINT stops the server).\n", a, text)
		}}
	return runServe(ctx, app, o)
}
