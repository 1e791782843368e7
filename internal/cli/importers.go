package cli

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

// importers lists the intelligence formats in sniffing order: the most
// specific first, plain lists (which accept almost anything) last.
func importers() []intel.Importer {
	list := []intel.Importer{
		stix.Importer{Observables: stixObservables},
		misp.Importer{},
		misp.GalaxyImporter{},
		warninglist.Importer{},
		openioc.Importer{},
	}
	return append(list, flat.Importers()...)
}

func dirImporters() []intel.DirImporter { return []intel.DirImporter{misp.FeedImporter{}} }

func importService(tx intel.Transactor) *intel.ImportService {
	return &intel.ImportService{Importers: importers(), DirImporters: dirImporters(), Limits: fileio.DefaultLimits, Tx: tx,
		First: []string{warninglist.Importer{}.Name()}}
}

// stixObservables extracts the simple observables of a STIX pattern so the
// matcher's lookup tables can hold them; other patterns go to the evaluator.
func stixObservables(p string) ([]intel.Observable, bool, error) {
	pat, err := pattern.Parse(p)
	if err != nil {
		return nil, false, err
	}
	obs, ok := pat.Observables()
	return obs, ok, nil
}
