//go:build race

package warninglist_test

// raceDetector: under it sync.Pool drops items at random, so regexp, which
// keeps its matchers in pools, allocates now and then; allocation counts
// of regex lists mean nothing there (make test checks them without it).
const raceDetector = true
