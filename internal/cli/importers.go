package cli

import (
	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/stix"
)

// importers lists the intelligence formats in sniffing order: the most
// specific first, plain lists (which accept almost anything) last.
func importers() []intel.Importer {
	return []intel.Importer{
		stix.Importer{Observables: stixObservables},
	}
}

func dirImporters() []intel.DirImporter { return nil }

func importService(tx intel.Transactor) *intel.ImportService {
	return &intel.ImportService{Importers: importers(), DirImporters: dirImporters(), Limits: fileio.DefaultLimits, Tx: tx}
}

// stixObservables extracts simple observables from a STIX pattern.
var stixObservables stix.ObservablesFunc
