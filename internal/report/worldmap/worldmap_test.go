package worldmap_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/report/worldmap"
)

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		code string
		ok   bool
	}{{"CN", true}, {"US", true}, {"RU", true}, {"XK", true}, {"AQ", false}, {"ZZ", false}, {"", false}, {"cn", false}} {
		c, ok := worldmap.Lookup(tc.code)
		if ok != tc.ok {
			t.Errorf("Lookup(%q) ok = %v, want %v", tc.code, ok, tc.ok)
		}
		if ok && c.Code != tc.code {
			t.Errorf("Lookup(%q) = %q", tc.code, c.Code)
		}
	}
}

// TestShapesInBounds walks every path and checks that it draws closed rings
// inside the map, and that markers sit inside it too.
func TestShapesInBounds(t *testing.T) {
	cs := worldmap.Countries()
	if len(cs) < 170 {
		t.Fatalf("%d countries, want the ~175 of Natural Earth 1:110m", len(cs))
	}
	for i, c := range cs {
		if i > 0 && cs[i-1].Code >= c.Code {
			t.Fatalf("not sorted at %s", c.Code)
		}
		if c.X < 0 || c.X > worldmap.Width || c.Y < 0 || c.Y > worldmap.Height {
			t.Errorf("%s: marker (%d,%d) outside the map", c.Code, c.X, c.Y)
		}
		minX, minY, maxX, maxY, err := bounds(c.Path)
		if err != nil {
			t.Errorf("%s: %v", c.Code, err)
			continue
		}
		if w := maxX - minX; w > worldmap.Width/2 && c.Code != "RU" && c.Code != "US" && c.Code != "CA" {
			t.Errorf("%s: path is %.0f units wide: a ring crosses the antimeridian?", c.Code, w)
		}
		if minX < -0.5 || minY < -0.5 || maxX > worldmap.Width+0.5 || maxY > worldmap.Height+0.5 {
			t.Errorf("%s: path spans (%.1f,%.1f)-(%.1f,%.1f), outside the map", c.Code, minX, minY, maxX, maxY)
		}
	}
	// Where countries are relative to each other: a projection or axis
	// mistake moves them.
	pos := func(code string) worldmap.Country { c, _ := worldmap.Lookup(code); return c }
	if !(pos("US").X < pos("FR").X && pos("FR").X < pos("CN").X && pos("CN").X < pos("JP").X) {
		t.Error("countries are not in west-to-east order US < FR < CN < JP")
	}
	if !(pos("NO").Y < pos("NG").Y && pos("NG").Y < pos("ZA").Y) {
		t.Error("countries are not in north-to-south order NO < NG < ZA")
	}
}

// bounds parses the subset of path syntax the generator writes: M x y,
// l with relative pairs, z.
func bounds(p string) (minX, minY, maxX, maxY float64, err error) {
	minX, minY, maxX, maxY = 1e9, 1e9, -1e9, -1e9
	for _, ring := range strings.Split(p, "z") {
		if ring == "" {
			continue
		}
		if ring[0] != 'M' {
			return 0, 0, 0, 0, errSyntax(ring)
		}
		parts := strings.SplitN(ring[1:], "l", 2)
		if len(parts) != 2 {
			return 0, 0, 0, 0, errSyntax(ring)
		}
		nums := append(numbers(parts[0]), numbers(parts[1])...)
		if len(nums)%2 != 0 || len(nums) < 6 {
			return 0, 0, 0, 0, errSyntax(ring)
		}
		x, y := nums[0], nums[1]
		for i := 0; i < len(nums); i += 2 {
			if i > 0 {
				x, y = x+nums[i], y+nums[i+1]
			}
			minX, maxX = min(minX, x), max(maxX, x)
			minY, maxY = min(minY, y), max(maxY, y)
		}
	}
	return minX, minY, maxX, maxY, nil
}

func numbers(s string) []float64 {
	var out []float64
	s = strings.ReplaceAll(s, "-", " -")
	for _, f := range strings.Fields(s) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return append(out, 0, 0, 0) // makes the count odd: a syntax error
		}
		out = append(out, v)
	}
	return out
}

type errSyntax string

func (e errSyntax) Error() string { return "bad path syntax near " + string(e)[:min(len(e), 40)] }
