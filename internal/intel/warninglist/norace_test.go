//go:build !race

package warninglist_test

const raceDetector = false
