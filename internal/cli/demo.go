package cli

import (
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

func newDemoCmd(app *App) *cobra.Command {
	var examples, out string
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run everything whodunit does on the sample data shipped in examples/",
		Long: `Run the whole pipeline on the sample data in examples/ (see
examples/README.md for what it is and where it comes from) into a fresh
embedded database under --out, write the reports there, and print what was
found. It is 'whodunit hunt' over examples/intel and examples/telemetry.`,
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
			return app.hunt(ctx, f, false)
		},
	}
	c.Flags().StringVar(&examples, "examples", "examples", "directory of the sample data")
	c.Flags().StringVar(&out, "out", "whodunit-demo", "directory for the demo's database and reports")
	return c
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
