// Package hunt is whodunit's pipeline as a library: the use cases that the
// command line, the server, the scan workers and the watcher all run.
//
//   - Import: intelligence files into a store, one transaction per file,
//     indicators flagged with the warninglists they are on.
//   - Scan: the matcher snapshot from the store, telemetry through the scan
//     engine, the behaviour analytics, sightings and detections stored.
//   - Analyse: the store's findings correlated into campaigns, each
//     attributed, assembled into the report data.
//
// Each takes a context, an options struct and an optional progress
// callback, and asks the store only for the methods it uses. Nothing here
// prints, parses flags or chooses exit codes: callers do.
package hunt

import (
	"log/slog"
	"time"
)

// Stage names a step of the pipeline in progress reports.
type Stage string

// The stages, in pipeline order.
const (
	StageImport   Stage = "import"
	StageCompile  Stage = "compile"
	StageScan     Stage = "scan"
	StageBehavior Stage = "behaviour"
	StageStore    Stage = "store"
	StageAnalyse  Stage = "analyse"
)

// Progress is one step done or started; Done and Total count the stage's
// own unit (files, indicators, campaigns) when it has one.
type Progress struct {
	Stage  Stage
	Detail string
	Done   int
	Total  int
	Took   time.Duration // set when the step has finished
}

// ProgressFunc receives progress; nil discards it. It is called from the
// goroutine that runs the use case.
type ProgressFunc func(Progress)

func (f ProgressFunc) report(p Progress) {
	if f != nil {
		f(p)
	}
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
