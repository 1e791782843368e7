//go:build race

package faulttest

// The child is the test binary, so under the race detector it runs many
// times slower: kill once, in the middle, to keep the suite's time sane.
func init() { killPoints = []float64{0.6} }
