package pattern_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/pattern"
)

// conformanceCase is one case of the OASIS reference suites (see
// testdata/NOTICE): expect is true, false or "error".
type conformanceCase struct {
	ID           string          `json:"id"`
	Suite        string          `json:"suite"`
	Test         string          `json:"test"`
	Pattern      string          `json:"pattern"`
	Expect       any             `json:"expect"`
	Observations json.RawMessage `json:"observations"`
}

func loadCases(t *testing.T, name string) []conformanceCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var cases []conformanceCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

// matchCase runs one matcher case the way the pattern match command does.
func matchCase(c conformanceCase) (bool, error) {
	p, err := pattern.ParseWith(c.Pattern, pattern.Lenient)
	if err != nil {
		return false, err
	}
	obs, err := pattern.LoadObservations(c.Observations)
	if err != nil {
		return false, err
	}
	ok, _, err := pattern.Match(p, obs)
	return ok, err
}

// matcherCases is how many cases matcher21.json holds; every one of them
// must pass.
const matcherCases = 163

func TestConformanceMatcher(t *testing.T) {
	cases := loadCases(t, "matcher21.json")
	if len(cases) != matcherCases {
		t.Errorf("matcher21.json has %d cases, want %d", len(cases), matcherCases)
	}
	ran, passed := 0, 0
	for _, c := range cases {
		t.Run(c.ID, func(t *testing.T) {
			ran++
			got, err := matchCase(c)
			switch want := c.Expect.(type) {
			case bool:
				if err != nil {
					t.Fatalf("%s: %s: unexpected error: %v", c.Test, c.Pattern, err)
				}
				if got != want {
					t.Fatalf("%s: %s: matched = %v, want %v", c.Test, c.Pattern, got, want)
				}
			case string:
				if want != "error" {
					t.Fatalf("unknown expectation %q", want)
				}
				if err == nil {
					t.Fatalf("%s: %s: no error (matched = %v), want an error", c.Test, c.Pattern, got)
				}
			default:
				t.Fatalf("unknown expectation %v", c.Expect)
			}
			passed++
		})
	}
	// -run may select some cases; a full run must pass every one
	if ran == len(cases) && passed != matcherCases {
		t.Errorf("matcher conformance: %d/%d passed, want all %d", passed, len(cases), matcherCases)
	}
	t.Logf("matcher conformance: %d/%d passed", passed, ran)
}

// TestConformanceDataCurrent checks that the package's copy of the matcher
// cases is the one in the shared data. An earlier extraction carried, for
// six temporal cases, observations the reference test module had already
// rewritten; a stale copy would bring that back unnoticed.
func TestConformanceDataCurrent(t *testing.T) {
	shared, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "data", "conformance", "stix-patterns", "matcher21.json"))
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("shared data absent")
	}
	if err != nil {
		t.Fatal(err)
	}
	local, err := os.ReadFile(filepath.Join("testdata", "matcher21.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(local, shared) {
		t.Errorf("testdata/matcher21.json differs from shared/data/conformance/stix-patterns/matcher21.json: copy the shared file")
	}
}

// temporalFixture builds the temporal-qualifier observations of the
// reference tests with the given intervals for alice and bob (carol stays
// at 1994-11-29T13:38:02Z).
func temporalFixture(aliceFirst, aliceLast, bobFirst, bobLast string) []byte {
	od := func(id, first, last, ref, name string) string {
		return `{"type": "bundle", "id": "bundle--` + id + `", "objects": [
			{"type": "observed-data", "id": "observed-data--` + id + `", "number_observed": 1,
			 "first_observed": "` + first + `", "last_observed": "` + last + `", "object_refs": ["person--` + ref + `"]},
			{"type": "person", "id": "person--` + ref + `", "name": "` + name + `"}]}`
	}
	return []byte("[" + od("a", aliceFirst, aliceLast, "1", "alice") + "," +
		od("b", bobFirst, bobLast, "2", "bob") + "," +
		od("c", "1994-11-29T13:38:02Z", "1994-11-29T13:38:02Z", "3", "carol") + "]")
}

func matchOn(t *testing.T, src string, data []byte) bool {
	t.Helper()
	obs, err := pattern.LoadObservations(data)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pattern.ParseWith(src, pattern.Lenient)
	if err != nil {
		t.Fatal(err)
	}
	ok, _, err := pattern.Match(p, obs)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	return ok
}

// TestTemporalOriginalFixture runs every temporal-qualifier pattern of the
// reference suite (test_temp_qual_match/nomatch; matcher21.json samples
// some of them) against the fixture they were written for.
func TestTemporalOriginalFixture(t *testing.T) {
	data := temporalFixture("1994-11-29T13:37:52Z", "1994-11-29T13:37:52Z", "1994-11-29T13:37:57Z", "1994-11-29T13:37:57Z")
	tests := []struct {
		src  string
		want bool
	}{
		{"[person:name = 'bob'] WITHIN 1 SECONDS", true},
		{"[person:name = 'bob'] WITHIN .0001 SECONDS", true},
		{"[person:name = 'alice'] AND [person:name < 'carol'] WITHIN 1 SECONDS", true},
		{"([person:name = 'alice'] AND [person:name < 'carol']) WITHIN 5 SECONDS", true},
		{"([person:name = 'alice'] AND [person:name < 'carol']) WITHIN 6 SECONDS", true},
		{"([person:name = 'alice'] OR [person:name = 'darlene']) WITHIN 1 SECONDS", true},
		{"[person:name = 'bob'] START t'1994-11-29T13:37:57Z' STOP t'1994-11-29T13:37:58Z'", true},
		{"[person:name LIKE 'a%'] AND [person:name = 'bob'] START t'1994-11-29T13:37:57Z' STOP t'1994-11-29T13:37:58Z'", true},
		{"([person:name LIKE 'a%'] AND [person:name = 'bob']) START t'1994-11-29T13:37:50Z' STOP t'1994-11-29T13:37:58Z'", true},
		{"[person:name = 'alice'] OR [person:name = 'darlene'] START t'1994-11-29T13:37:57Z' STOP t'1994-11-29T13:37:58Z'", true},
		{"([person:name = 'alice'] OR [person:name = 'darlene']) START t'1994-11-29T13:37:52Z' STOP t'1994-11-29T13:37:58Z'", true},
		{"[person:name MATCHES ''] REPEATS 2 TIMES START t'1994-11-29T13:37:50Z' STOP t'1994-11-29T13:37:58Z'", true},
		{"([person:name = 'alice'] AND [person:name < 'carol']) WITHIN 4 SECONDS", false},
		{"([person:name = 'alice'] AND [person:name < 'carol']) WITHIN 4.9999 SECONDS", false},
		{"[person:name = 'elizabeth'] WITHIN 10 SECONDS", false},
		{"([person:name < 'alice'] OR [person:name = 'darlene']) WITHIN 10 SECONDS", false},
		{"[person:name = 'bob'] START t'1994-11-29T13:37:58Z' STOP t'1994-11-29T13:37:58Z'", false},
		{"[person:name = 'bob'] START t'1994-11-29T13:37:59Z' STOP t'1994-11-29T13:37:58Z'", false},
		{"[person:name = 'bob'] START t'1994-11-29T13:37:58Z' STOP t'1994-11-29T13:37:59Z'", false},
		{"([person:name LIKE 'a%'] AND [person:name = 'bob']) START t'1994-11-29T13:37:50Z' STOP t'1994-11-29T13:37:57Z'", false},
		{"([person:name LIKE 'z%'] OR [person:name = 'darlene']) START t'1994-11-29T13:37:50Z' STOP t'1994-11-29T13:37:57Z'", false},
		{"[person:name MATCHES ''] REPEATS 3 TIMES START t'1994-11-29T13:37:50Z' STOP t'1994-11-29T13:37:58Z'", false},
		{"[person:name NOT LIKE 'foo'] START t'1994-11-29T13:37:50Z' STOP t'1994-11-29T13:37:57Z' REPEATS 3 TIMES", false},
	}
	for _, tt := range tests {
		if got := matchOn(t, tt.src, data); got != tt.want {
			t.Errorf("%s: matched = %v, want %v", tt.src, got, tt.want)
		}
	}
}

// TestWithinIntervals is the interval table of the reference suite's
// test_within_match / test_within_nomatch: the observations' intervals
// must all touch one window of the duration.
func TestWithinIntervals(t *testing.T) {
	const (
		s1 = "2000-01-01T00:00:00Z"
		s2 = "2000-01-01T00:00:01Z"
		s3 = "2000-01-01T00:00:02Z"
		s4 = "2000-01-01T00:00:03Z"
		s5 = "2000-01-01T00:00:04Z"
	)
	tests := []struct {
		a1, a2, b1, b2 string
		secs           string
		want           bool
	}{
		{s1, s1, s1, s1, "1", true},
		{s1, s1, s1, s2, "1", true},
		{s1, s1, s1, s2, "2", true},
		{s1, s2, s2, s3, "1", true},
		{s1, s2, s3, s4, "1", true},
		{s1, s4, s2, s3, "1", true},
		{s1, s3, s2, s4, "1", true},
		{s1, s2, s4, s5, "2", true},
		{s1, s2, s4, s5, "1", false},
		{s1, s1, s4, s5, "2", false},
		{s1, s2, s5, s5, "2", false},
	}
	for _, tt := range tests {
		src := "([person:name='alice'] AND [person:name='bob']) WITHIN " + tt.secs + " SECONDS"
		if got := matchOn(t, src, temporalFixture(tt.a1, tt.a2, tt.b1, tt.b2)); got != tt.want {
			t.Errorf("alice %s–%s, bob %s–%s, WITHIN %s: matched = %v, want %v", tt.a1, tt.a2, tt.b1, tt.b2, tt.secs, got, tt.want)
		}
	}
}

func TestConformanceValidator(t *testing.T) {
	cases := loadCases(t, "validator21.json")
	if len(cases) != 34 {
		t.Errorf("validator21.json has %d cases, want 34", len(cases))
	}
	passed := 0
	for _, c := range cases {
		t.Run(c.ID, func(t *testing.T) {
			_, err := pattern.Parse(c.Pattern)
			want := c.Expect.(bool)
			if want && err != nil {
				t.Fatalf("%s: %s: rejected: %v", c.Test, c.Pattern, err)
			}
			if !want {
				if err == nil {
					t.Fatalf("%s: %s: accepted, want an error", c.Test, c.Pattern)
				}
				var pe *pattern.Error
				if !errors.As(err, &pe) || pe.Line < 1 || pe.Column < 1 {
					t.Fatalf("%s: error %v has no position", c.Pattern, err)
				}
			}
			passed++
		})
	}
	t.Logf("validator conformance: %d/%d passed", passed, len(cases))
}

// TestReferenceSuiteExtra runs further patterns of the reference suites
// (test_complex.py, test_basic_ops.py) on the fixtures the sample cases
// carry, including the combinatorial-explosion ones that must finish fast.
func TestReferenceSuiteExtra(t *testing.T) {
	cases := loadCases(t, "matcher21.json")
	byID := map[string]json.RawMessage{}
	for _, c := range cases {
		byID[c.ID] = c.Observations
	}
	explosion, complexObs, basic := byID["matcher21-dev-096"], byID["matcher21-dev-100"], byID["matcher21-dev-000"]
	and10, or10 := "[person:age < 20]", "[person:age < 20]"
	for i := 1; i < 10; i++ {
		and10 += " AND [person:age < 20]"
		or10 += " OR [person:age < 20]"
	}
	tests := []struct {
		data json.RawMessage
		src  string
		want any
	}{
		{explosion, "[person:age < 20] REPEATS 10 TIMES", true},
		{explosion, "[person:age < 20] REPEATS 10 TIMES START '2004-10-11T21:40:00Z' STOP '2004-10-11T21:50:00Z'", true},
		{explosion, "[person:age < 20] REPEATS 10 TIMES AND [person:age < 20]", true},
		{explosion, "[person:age < 20] REPEATS 10 TIMES FOLLOWEDBY [person:age < 20]", true},
		{explosion, "[person:age < 20] REPEATS 5 TIMES REPEATS 2 TIMES", true},
		{explosion, "[person:age < 20] REPEATS 2 TIMES REPEATS 5 TIMES", true},
		{explosion, and10, true},
		{explosion, or10, true},
		{explosion, "[person:age < 20] REPEATS 10 TIMES WITHIN 8 SECONDS", false},
		{explosion, "[person:age < 20] REPEATS 21 TIMES", false},
		{explosion, "[person:age < 20] REPEATS 11 TIMES WITHIN 10 SECONDS", true},
		{explosion, "[person:age < 20] REPEATS 12 TIMES WITHIN 10 SECONDS", false},
		{complexObs, "[person:age < 20] REPEATS 2 TIMES REPEATS 2 TIMES", true},
		{complexObs, "([person:age < 30] AND [person:name > 'aaron']) WITHIN 2 SECONDS REPEATS 3 TIMES", true},
		{complexObs, "[person:age < 20] REPEATS 10 TIMES", false},
		{basic, "[test:string NOT IN ()]", true},
		{basic, "[test:string IN ()]", false},
		{basic, "[test:string IN (1, true)]", "error"},
		{basic, "[test:string IN (1.1, 2.2, true)]", "error"},
		{basic, "[test:string > t'1965-07-19T22:41:38Z']", "error"},
		{basic, "[test:cidr ISSUPERSET '11.22.41.123']", true},
		{basic, "[test:float NOT ISSUBSET '11.22.33.44']", true},
		{basic, "[test:int NOT > 'x']", false},
		{basic, "[test:int = true]", false},
		{basic, "[test:bool != 1]", true},
		{basic, "[test:float_int IN (11, 12, 13)]", true},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			got, err := matchCase(conformanceCase{Pattern: tt.src, Observations: tt.data})
			if tt.want == "error" {
				if err == nil {
					t.Fatalf("no error, matched = %v", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
