package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

func newDemoCmd(app *App) *cobra.Command {
	var examples, out string
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run everything whodunit does on the sample data shipped in examples/",
		Long: `Run the whole pipeline on the sample data in examples/ (see
examples/README.md for what it is and where it comes from) into a fresh
embedded database under --out, and print what was found.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			intelDir := filepath.Join(examples, "intel")
			if _, err := os.Stat(intelDir); err != nil {
				return usagef("sample data not found at %s (run from the repository root or pass --examples)", intelDir)
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			app.DBPath = filepath.Join(out, "whodunit.db")
			for _, suffix := range []string{"", "-wal", "-shm"} {
				if err := os.Remove(app.DBPath + suffix); err != nil && !os.IsNotExist(err) {
					return err
				}
			}
			db, err := app.openStore(ctx)
			if err != nil {
				return err
			}
			defer db.Close()

			app.infof("== 1. Importing intelligence from %s", intelDir)
			results, err := app.importPaths(ctx, db, []string{intelDir}, "", intel.DefaultOptions())
			if err != nil {
				return err
			}
			quiet := app.JSON
			app.JSON = false
			if !quiet {
				if err := app.reportImport(results); err != nil {
					return err
				}
			}
			st, err := db.IntelStats(ctx)
			if err != nil {
				return err
			}
			if quiet {
				app.JSON = true
				return app.printJSON(map[string]any{"database": app.DBPath, "intel": st})
			}
			fmt.Fprintln(app.Stdout)
			app.infof("== 2. What the store knows")
			app.printStats(st)
			fmt.Fprintln(app.Stdout)
			app.infof("== 3. One actor, every name: intel show APT1")
			p, err := store.BuildProfile(ctx, db, "APT1")
			if err != nil {
				return err
			}
			printProfile(app.Stdout, p, false)
			fmt.Fprintf(app.Stdout, "\nDatabase: %s (try: whodunit --db %s intel show \"Comment Crew\")\n", app.DBPath, app.DBPath)
			return nil
		},
	}
	c.Flags().StringVar(&examples, "examples", "examples", "directory of the sample data")
	c.Flags().StringVar(&out, "out", "whodunit-demo", "directory for the demo's database and reports")
	return c
}
