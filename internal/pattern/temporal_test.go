package pattern_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// seen is one person observed count times from first to last, in seconds
// after base.
type seen struct {
	name        string
	first, last int
	count       int
}

var base = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func at(sec int) string { return base.Add(time.Duration(sec) * time.Second).Format(time.RFC3339) }

// observedPeople builds one bundle per person: an observed-data of one
// person object.
func observedPeople(people ...seen) []byte {
	var items []string
	for i, p := range people {
		count := max(p.count, 1)
		items = append(items, fmt.Sprintf(`{"type": "bundle", "id": "bundle--%[1]d", "objects": [
			{"type": "observed-data", "id": "observed-data--%[1]d", "number_observed": %[2]d,
			 "first_observed": %[3]q, "last_observed": %[4]q, "object_refs": ["person--%[1]d"]},
			{"type": "person", "id": "person--%[1]d", "name": %[5]q}]}`, i, count, at(p.first), at(p.last), p.name))
	}
	return []byte("[" + strings.Join(items, ",") + "]")
}

// TestStartStopIntervals: the specification asks that every observation
// matched under START x STOP y have an observation time at or after x and
// before y, and leaves open when, between first_observed and
// last_observed, an observed-data's observations happened. An observation
// therefore qualifies when its interval can hold such a time: it overlaps
// [x, y), touching x counts, touching y does not (the reference matcher's
// reading, and the one WITHIN needs for the conformance cases).
func TestStartStopIntervals(t *testing.T) {
	interval := observedPeople(seen{name: "alice", first: 10, last: 20})
	point := observedPeople(seen{name: "alice", first: 10, last: 10})
	tests := []struct {
		data        []byte
		start, stop int
		want        bool
	}{
		{interval, 0, 30, true},   // holds the whole interval
		{interval, 12, 15, true},  // inside it
		{interval, 0, 11, true},   // holds its start
		{interval, 15, 30, true},  // holds its end
		{interval, 20, 30, true},  // START at last_observed
		{interval, 0, 10, false},  // STOP at first_observed: excluded
		{interval, 21, 30, false}, // after it
		{interval, 0, 9, false},   // before it
		{point, 10, 11, true},
		{point, 9, 10, false},
		{point, 10, 10, false}, // empty window
		{point, 11, 9, false},  // reversed window
	}
	for _, tt := range tests {
		src := fmt.Sprintf("[person:name = 'alice'] START t'%s' STOP t'%s'", at(tt.start), at(tt.stop))
		if got := matchOn(t, src, tt.data); got != tt.want {
			t.Errorf("alice %s: matched = %v, want %v", src, got, tt.want)
		}
	}
	// the qualifier applies to each observation of the group separately
	two := observedPeople(seen{name: "alice", first: 0, last: 5}, seen{name: "bob", first: 8, last: 12})
	for _, tt := range []struct {
		start, stop int
		want        bool
	}{{5, 8, false}, {5, 9, true}, {0, 8, false}, {4, 13, true}, {6, 7, false}} {
		src := fmt.Sprintf("([person:name = 'alice'] AND [person:name = 'bob']) START t'%s' STOP t'%s'", at(tt.start), at(tt.stop))
		if got := matchOn(t, src, two); got != tt.want {
			t.Errorf("%s: matched = %v, want %v", src, got, tt.want)
		}
	}
	// REPEATS counts the observations of one observed-data, all of which
	// may lie in the window
	many := observedPeople(seen{name: "alice", first: 0, last: 60, count: 3})
	if !matchOn(t, fmt.Sprintf("[person:name = 'alice'] REPEATS 3 TIMES START t'%s' STOP t'%s'", at(30), at(31)), many) {
		t.Error("three observations over a minute do not fit a one-second window they overlap")
	}
}

// TestWithinSeveralIntervals: WITHIN d holds when one window of length d
// touches the interval of every observation bound, i.e. the latest
// first_observed is at most d after the earliest last_observed.
func TestWithinSeveralIntervals(t *testing.T) {
	names := []string{"alice", "bob", "carol", "dave"}
	tests := []struct {
		intervals [][2]int
		secs      string
		want      bool
	}{
		{[][2]int{{0, 1}, {2, 3}, {4, 5}}, "3", true}, // 4 - 1
		{[][2]int{{0, 1}, {2, 3}, {4, 5}}, "2.9", false},
		{[][2]int{{0, 3}, {1, 2}, {3, 4}}, "1", true},  // 3 - 2
		{[][2]int{{0, 4}, {0, 1}, {3, 4}}, "1", false}, // 3 - 1: the long one does not help
		{[][2]int{{0, 1}, {1, 2}, {3, 4}}, "2", true},  // 3 - 1
		{[][2]int{{0, 1}, {0, 2}, {0, 3}, {3, 4}}, "1", false},
		{[][2]int{{0, 1}, {0, 2}, {0, 3}, {3, 4}}, "2", true},
		{[][2]int{{0, 10}, {2, 3}, {5, 6}, {1, 9}}, "2", true}, // 5 - 3
		{[][2]int{{0, 10}, {2, 3}, {5, 6}, {1, 9}}, "1.5", false},
	}
	for _, tt := range tests {
		var people []seen
		var leaves []string
		for i, iv := range tt.intervals {
			people = append(people, seen{name: names[i], first: iv[0], last: iv[1]})
			leaves = append(leaves, fmt.Sprintf("[person:name = '%s']", names[i]))
		}
		src := "(" + strings.Join(leaves, " AND ") + ") WITHIN " + tt.secs + " SECONDS"
		if got := matchOn(t, src, observedPeople(people...)); got != tt.want {
			t.Errorf("%v WITHIN %s: matched = %v, want %v", tt.intervals, tt.secs, got, tt.want)
		}
	}
}
