// Package tlptest holds the property test of the TLP rules on every way
// out of whodunit: every kind of marking against every ceiling, through
// tlp.Of and Ceiling.Allows, every export format and the report.
package tlptest
