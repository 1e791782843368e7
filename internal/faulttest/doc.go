// Package faulttest holds the fault-injection tests of the whole program:
// the command line is run as a child process and killed with SIGKILL at
// points spread over an import and a scan, and the store is checked
// afterwards — intact, each import all or nothing, no sighting lost or
// doubled once the work is run again. It has no code of its own.
package faulttest
