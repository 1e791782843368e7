// Package formats is the registry of intelligence importers: every format
// whodunit reads, in the order their content sniffs are tried. It mirrors
// telemetry/formats, so that the CLI, the server and the workers import
// through the same list.
package formats

import (
	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/flat"
	"github.com/whodunit-project/whodunit/internal/intel/misp"
	"github.com/whodunit-project/whodunit/internal/intel/openioc"
	"github.com/whodunit-project/whodunit/internal/intel/stix"
	"github.com/whodunit-project/whodunit/internal/intel/warninglist"
	"github.com/whodunit-project/whodunit/internal/pattern"
)

// Importers lists the file formats in sniffing order: the most specific
// first, plain lists (which accept almost anything) last.
func Importers() []intel.Importer {
	list := []intel.Importer{
		stix.Importer{Observables: STIXObservables},
		misp.Importer{},
		misp.GalaxyImporter{},
		warninglist.Importer{},
		openioc.Importer{},
	}
	return append(list, flat.Importers()...)
}

// DirImporters lists the formats that take a directory whole.
func DirImporters() []intel.DirImporter { return []intel.DirImporter{misp.FeedImporter{}} }

// Names lists every format name --format accepts, files first.
func Names() []string {
	var names []string
	for _, im := range Importers() {
		names = append(names, im.Name())
	}
	for _, d := range DirImporters() {
		names = append(names, d.Name())
	}
	return names
}

// Service returns an import service over every format that writes through
// tx. Warninglists are imported first in any one call, so that indicators
// imported with them are flagged.
func Service(tx intel.Transactor) *intel.ImportService {
	return &intel.ImportService{Importers: Importers(), DirImporters: DirImporters(), Limits: fileio.DefaultLimits, Tx: tx,
		First: []string{warninglist.Importer{}.Name()}}
}

// STIXObservables extracts the simple observables of a STIX pattern so the
// matcher's lookup tables can hold them; other patterns go to the evaluator.
// A pattern the evaluator cannot run is an error (the indicator is skipped
// with the reason), not an indicator the scan would drop.
func STIXObservables(p string) ([]intel.Observable, bool, error) {
	prog, err := pattern.Prepare(p, pattern.ParseOptions{})
	if err != nil {
		return nil, false, err
	}
	obs, ok := prog.Pattern().Observables()
	return obs, ok, nil
}
