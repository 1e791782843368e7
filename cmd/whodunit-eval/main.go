// Command whodunit-eval runs the behavioural analytics over the labelled
// Stratosphere Zeek captures and prints precision and recall per dataset
// (make eval). It needs the shared data directory:
//
//	whodunit-eval [-data ../shared/data] [-details] [-allowlist FILE]
//	              [-no-warninglists] [-no-vendor-lists] [-no-geo]
//
// The exit status is 1 when the data cannot be read, and 3 when a target
// is not met (so that make eval fails on a regression).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/behavior/eval"
	"github.com/whodunit-project/whodunit/internal/geo"
)

type options struct {
	data, allow                    string
	details, noWL, noVendor, noGeo bool
}

func main() {
	data := flag.String("data", filepath.Join("..", "shared", "data"), "shared data directory")
	details := flag.Bool("details", true, "list found, missed, false and lowered series per dataset")
	allow := flag.String("allowlist", "", "user allowlist applied with the warninglists")
	noWL := flag.Bool("no-warninglists", false, "do not apply the MISP warninglists")
	noVendor := flag.Bool("no-vendor-lists", false, "do not apply the project's vendor service and network lists")
	noGeo := flag.Bool("no-geo", false, "do not look destinations' autonomous systems up (the vendor-network rules need them)")
	flag.Parse()
	met, err := run(options{data: *data, allow: *allow, details: *details, noWL: *noWL, noVendor: *noVendor, noGeo: *noGeo})
	if err != nil {
		fmt.Fprintln(os.Stderr, "whodunit-eval:", err)
		os.Exit(1)
	}
	if !met {
		os.Exit(3)
	}
}

func run(o options) (bool, error) {
	data, details, allow, noWL := o.data, o.details, o.allow, o.noWL
	root := filepath.Join(data, "telemetry", "zeek", "stratosphere")
	if _, err := os.Stat(root); err != nil {
		return false, fmt.Errorf("labelled captures not found: %w", err)
	}
	var sets []behavior.Benign
	if !noWL {
		wl, err := eval.LoadWarninglists(filepath.Join(data, "intel", "misp-warninglists"))
		if err != nil {
			return false, err
		}
		sets = append(sets, wl)
	}
	if allow != "" {
		al, err := behavior.LoadAllowlist(allow)
		if err != nil {
			return false, err
		}
		sets = append(sets, al)
	}
	cfg := behavior.DefaultConfig()
	if o.noVendor {
		cfg.VendorServices, cfg.Networks = nil, nil
	}
	if !o.noGeo {
		db, err := geo.Default()
		if err != nil {
			return false, err
		}
		cfg.Locator = db
	}
	var results []*eval.Result
	for _, ds := range eval.Datasets() {
		r, err := eval.Run(root, ds, cfg, behavior.Chain(sets...))
		if err != nil {
			return false, fmt.Errorf("dataset %s: %w", ds.Name, err)
		}
		results = append(results, r)
	}
	fmt.Printf("behavioural analytics on labelled Stratosphere captures, threshold %.2f", cfg.Threshold)
	if !noWL {
		fmt.Print(", with MISP warninglists")
	}
	if !o.noVendor {
		fmt.Print(", the project's vendor lists")
	}
	if !o.noGeo {
		fmt.Print(", autonomous systems from the embedded geo data")
	}
	if allow != "" {
		fmt.Printf(", with allowlist %s", allow)
	}
	fmt.Println()
	fmt.Println(eval.Definitions)
	fmt.Println()
	eval.WriteTable(os.Stdout, results)
	fmt.Println()
	targets := eval.CheckTargets(results)
	eval.WriteTargets(os.Stdout, targets)
	if details {
		eval.WriteDetails(os.Stdout, results)
	}
	met := true
	for _, t := range targets {
		met = met && t.Met
	}
	return met, nil
}
