// Command whodunit-eval runs the behavioural analytics over the labelled
// Stratosphere Zeek captures and prints precision and recall per dataset
// (make eval). It needs the shared data directory:
//
//	whodunit-eval [-data ../shared/data] [-details] [-allowlist FILE]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/behavior/eval"
)

func main() {
	data := flag.String("data", filepath.Join("..", "shared", "data"), "shared data directory")
	details := flag.Bool("details", true, "list found, missed, false and lowered series per dataset")
	allow := flag.String("allowlist", "", "user allowlist applied with the warninglists")
	noWL := flag.Bool("no-warninglists", false, "do not apply the MISP warninglists")
	flag.Parse()
	if err := run(*data, *details, *allow, *noWL); err != nil {
		fmt.Fprintln(os.Stderr, "whodunit-eval:", err)
		os.Exit(1)
	}
}

func run(data string, details bool, allow string, noWL bool) error {
	root := filepath.Join(data, "telemetry", "zeek", "stratosphere")
	if _, err := os.Stat(root); err != nil {
		return fmt.Errorf("labelled captures not found: %w", err)
	}
	var sets []behavior.Benign
	if !noWL {
		wl, err := eval.LoadWarninglists(filepath.Join(data, "intel", "misp-warninglists"))
		if err != nil {
			return err
		}
		sets = append(sets, wl)
	}
	if allow != "" {
		al, err := behavior.LoadAllowlist(allow)
		if err != nil {
			return err
		}
		sets = append(sets, al)
	}
	cfg := behavior.DefaultConfig()
	var results []*eval.Result
	for _, ds := range eval.Datasets() {
		r, err := eval.Run(root, ds, cfg, behavior.Chain(sets...))
		if err != nil {
			return fmt.Errorf("dataset %s: %w", ds.Name, err)
		}
		results = append(results, r)
	}
	fmt.Printf("behavioural analytics on labelled Stratosphere captures, threshold %.2f", cfg.Threshold)
	if !noWL {
		fmt.Print(", with MISP warninglists")
	}
	if allow != "" {
		fmt.Printf(", with allowlist %s", allow)
	}
	fmt.Println()
	fmt.Println(eval.Definitions)
	fmt.Println()
	eval.WriteTable(os.Stdout, results)
	if details {
		eval.WriteDetails(os.Stdout, results)
	}
	return nil
}
