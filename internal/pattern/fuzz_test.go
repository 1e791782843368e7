package pattern_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/pattern"
)

func seedPatterns(f *testing.F) []conformanceCase {
	var all []conformanceCase
	for _, name := range []string{"matcher21.json", "validator21.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		var cases []conformanceCase
		if err := json.Unmarshal(data, &cases); err != nil {
			f.Fatal(err)
		}
		all = append(all, cases...)
	}
	return all
}

// FuzzParse: no input makes the parser panic, and what it accepts has a
// canonical form that parses to itself.
func FuzzParse(f *testing.F) {
	for _, c := range seedPatterns(f) {
		f.Add(c.Pattern)
	}
	for _, s := range []string{"[a:b = 1] /* x */ // y", "[a:b[*].'c d' NOT MATCHES '(?i)x\\\\Z']", "((((([a:b=1])))))",
		"[a:b = b'AQ==' OR a:c = h'00ff'] START t'2020-02-30T00:00:60Z' STOP t'2020-03-01T00:00:00.123456789Z'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		for _, opts := range []pattern.ParseOptions{{}, pattern.Lenient} {
			p, err := pattern.ParseWith(src, opts)
			if err != nil {
				if _, ok := err.(*pattern.Error); !ok {
					t.Fatalf("error of type %T: %v", err, err)
				}
				continue
			}
			canon := p.String()
			again, err := pattern.ParseWith(canon, opts)
			if err != nil {
				t.Fatalf("canonical form %q of %q does not parse: %v", canon, src, err)
			}
			if again.String() != canon {
				t.Fatalf("canonical form not stable: %q -> %q", canon, again.String())
			}
			_, _ = p.Observables()
			_, _ = pattern.Compile(p)
		}
	})
}

// FuzzMatch: no pattern and observation data make the matcher panic or run
// away (the search has a budget).
func FuzzMatch(f *testing.F) {
	for i, c := range seedPatterns(f) {
		if c.Observations != nil && i%4 == 0 {
			f.Add(c.Pattern, []byte(c.Observations))
		}
	}
	f.Fuzz(func(t *testing.T, src string, data []byte) {
		p, err := pattern.ParseWith(src, pattern.Lenient)
		if err != nil {
			return
		}
		obs, err := pattern.LoadObservations(data)
		if err != nil {
			return
		}
		_, _, _ = pattern.Match(p, obs)
	})
}
