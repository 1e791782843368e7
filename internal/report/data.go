package report

import (
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
)

// Data is what the renderers draw from: the report.json document and the
// records behind it.
type Data struct {
	Doc        *Document
	Sightings  []match.Sighting         // all sightings of the run
	Indicators map[string]*intel.Object // every indicator seen, by id
	Actors     map[string]*intel.Object // actor objects by id
	Org        string                   // reporting organisation for the STIX identity
	TLP        string                   // clear, green, amber, amber+strict, red
}
