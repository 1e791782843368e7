package main

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// square is a topology of two countries sharing one arc, quantised and
// delta-encoded as TopoJSON writes it: France (250) a square, Germany (276)
// the square east of it, drawn with the shared arc reversed.
const square = `{"type":"Topology","transform":{"scale":[1,1],"translate":[0,40]},
"objects":{"countries":{"type":"GeometryCollection","geometries":[
 {"type":"Polygon","id":"250","properties":{"name":"France"},"arcs":[[0,1]]},
 {"type":"MultiPolygon","id":"276","properties":{"name":"Germany"},"arcs":[[[2,-1]]]},
 {"type":null,"properties":{"name":"Nowhere"}}
]}},
"arcs":[[[5,0],[0,5]],[[5,5],[-5,0],[0,-5],[5,0]],[[5,0],[5,0],[0,5],[-5,0]]]}`

func TestDecodeTopology(t *testing.T) {
	fs, err := decodeTopology([]byte(square), "countries")
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 {
		t.Fatalf("%d features, want 2 (the null geometry is skipped)", len(fs))
	}
	wantFR := []point{{5, 40}, {5, 45}, {0, 45}, {0, 40}, {5, 40}}
	if diff := cmp.Diff(wantFR, fs[0].polygons[0][0], cmp.AllowUnexported(point{})); diff != "" {
		t.Errorf("France ring (-want +got):\n%s", diff)
	}
	wantDE := []point{{5, 40}, {10, 40}, {10, 45}, {5, 45}, {5, 40}}
	if diff := cmp.Diff(wantDE, fs[1].polygons[0][0], cmp.AllowUnexported(point{})); diff != "" {
		t.Errorf("Germany ring (-want +got):\n%s", diff)
	}
}

func TestDecodeTopologyErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"not json", `{`, "topojson"},
		{"not a topology", `{"type":"FeatureCollection"}`, "want Topology"},
		{"no object", `{"type":"Topology","objects":{}}`, `no object "countries"`},
		{"arc out of range", `{"type":"Topology","objects":{"countries":{"geometries":[{"type":"Polygon","arcs":[[7]]}]}},"arcs":[]}`, "out of range"},
		{"short position", `{"type":"Topology","objects":{"countries":{"geometries":[]}},"arcs":[[[1]]]}`, "1 coordinates"},
		{"line", `{"type":"Topology","objects":{"countries":{"geometries":[{"type":"LineString","arcs":[0]}]}},"arcs":[]}`, "not a polygon"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeTopology([]byte(tc.in), "countries")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestGenerate(t *testing.T) {
	src, err := generate([]byte(square), options{source: "test", width: 960, tolerance: 0.45, minArea: 0.1, north: 84, south: -57})
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	for _, want := range []string{`Code: "DE", Name: "Germany"`, `Code: "FR", Name: "France"`, "Width  = 960", "package worldmap"} {
		if !strings.Contains(s, want) {
			t.Errorf("generated source lacks %q:\n%s", want, s)
		}
	}
	if _, err := generate([]byte(strings.Replace(square, `"276"`, `"999"`, 1)), options{width: 960, north: 84, south: -57}); err == nil || !strings.Contains(err.Error(), `"999"`) {
		t.Errorf("unknown numeric code: error %v, want one naming it", err)
	}
}

func TestEqualEarth(t *testing.T) {
	// The projection is symmetric and maps the equator's ends to ±2.7066.
	x, y := equalEarth(180, 0)
	if math.Abs(x-2.70663) > 1e-4 || y != 0 {
		t.Errorf("equalEarth(180,0) = %v,%v", x, y)
	}
	x1, y1 := equalEarth(-30, -40)
	x2, y2 := equalEarth(30, 40)
	if x1 != -x2 || y1 != -y2 {
		t.Errorf("not symmetric: %v,%v vs %v,%v", x1, y1, x2, y2)
	}
	_, yPole := equalEarth(0, 90)
	if math.Abs(yPole-1.31737) > 1e-4 {
		t.Errorf("pole at y=%v, want 1.31737", yPole)
	}
}

func TestSimplifyKeepsCorners(t *testing.T) {
	// A square with collinear points on its edges keeps only its corners.
	in := []xy{{0, 0}, {5, 0}, {10, 0}, {10, 5}, {10, 10}, {5, 10}, {0, 10}, {0, 5}, {0, 0}}
	got := simplify(in, 0.5)
	want := []xy{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(xy{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestTenths(t *testing.T) {
	for n, want := range map[int]string{0: "0", 5: ".5", -5: "-.5", 10: "1", 123: "12.3", -123: "-12.3"} {
		if got := tenths(n); got != want {
			t.Errorf("tenths(%d) = %q, want %q", n, got, want)
		}
	}
}

func FuzzDecodeTopology(f *testing.F) {
	f.Add([]byte(square))
	f.Add([]byte(`{"type":"Topology","objects":{"countries":{"geometries":[{"type":"Polygon","arcs":[[-1]]}]}},"arcs":[[[0,0],[1,1],[0,1]]]}`))
	f.Add([]byte(`{"type":"Topology","objects":{"countries":{"geometries":[{"type":"MultiPolygon","arcs":[[[0,-1]],[]]}]}},"arcs":[[]]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fs, err := decodeTopology(data, "countries")
		if err != nil {
			return
		}
		for _, f := range fs {
			for _, p := range f.polygons {
				for _, r := range p {
					if len(r) < 4 {
						t.Fatalf("ring of %d points kept", len(r))
					}
				}
			}
		}
	})
}
