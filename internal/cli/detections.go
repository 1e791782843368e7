package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/hunt"
)

func behaviorThreshold() float64 { return behavior.DefaultConfig().Threshold }

func newDetectionsCmd(app *App) *cobra.Command {
	var all bool
	var allowlist string
	var limit int
	c := &cobra.Command{
		Use:   "detections",
		Short: "List behavioural findings (beacons, long connections, DNS tunnels, DGA, strobes) by score, with their explanation",
		Long: `List behavioural findings by score (above the threshold and not suppressed,
unless --all). --allowlist re-applies an allowlist (and the warninglists in
the store) to the findings already stored and stores the result, so
allowlist changes take effect without rescanning.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			db, err := app.openStore(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			dets, err := app.detections(ctx, db, allowlist)
			if err != nil {
				return err
			}
			sort.SliceStable(dets, func(i, j int) bool { return dets[i].Score > dets[j].Score })
			th := behaviorThreshold()
			var shown []behavior.Detection
			for _, d := range dets {
				if !all && (d.Suppressed || d.Score < th) {
					continue
				}
				shown = append(shown, d)
				if limit > 0 && len(shown) == limit {
					break
				}
			}
			if app.JSON {
				if shown == nil {
					shown = []behavior.Detection{}
				}
				return app.printJSON(shown)
			}
			for i := range shown {
				printDetection(app.Stdout, &shown[i])
			}
			app.infof("%d of %d findings shown (threshold %.2f; --all for every one)", len(shown), len(dets), th)
			return nil
		},
	}
	c.Flags().BoolVar(&all, "all", false, "include findings below the threshold and suppressed ones")
	c.Flags().StringVar(&allowlist, "allowlist", "", "re-apply this allowlist to the stored findings")
	c.Flags().IntVar(&limit, "limit", 0, "at most this many")
	return c
}

// detections loads the stored detections, first re-applying allowlist
// (a file path) when one is given.
func (app *App) detections(ctx context.Context, db hunt.DetectionStore, allowlist string) ([]behavior.Detection, error) {
	if allowlist == "" {
		return hunt.LoadDetections(ctx, db)
	}
	al, err := behavior.LoadAllowlist(allowlist)
	if err != nil {
		return nil, err
	}
	return hunt.ReapplyAllowlist(ctx, db, al)
}

func printDetection(w io.Writer, d *behavior.Detection) {
	dst := d.DstName
	if d.Dst.IsValid() {
		if dst != "" {
			dst += " "
		}
		dst += d.Dst.String()
	}
	if d.DstPort != 0 {
		dst += fmt.Sprintf(":%d", d.DstPort)
	}
	state := ""
	if d.Suppressed {
		state = "  [suppressed: " + d.SuppressedBy + "]"
	}
	fmt.Fprintf(w, "%.2f  %-16s %s → %s  (%d, %s – %s)%s\n", d.Score, d.Analytic, d.Src, dst, d.Count,
		d.FirstSeen.UTC().Format("2006-01-02 15:04"), d.LastSeen.UTC().Format("2006-01-02 15:04"), state)
	for _, f := range d.Facts {
		fmt.Fprintf(w, "      %s\n", f)
	}
	if len(d.Modifiers) > 0 {
		var m []string
		for _, x := range d.Modifiers {
			m = append(m, fmt.Sprintf("%s ×%.2f (%s)", x.Name, x.Factor, x.Reason))
		}
		fmt.Fprintf(w, "      modifiers: %s\n", strings.Join(m, "; "))
	}
}
