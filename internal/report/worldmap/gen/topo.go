package main

import (
	"encoding/json"
	"errors"
	"fmt"
)

// maxTopoSize bounds the TopoJSON file the generator accepts: the 1:110m
// countries file is about 110 KB, the 1:10m one under 4 MB.
const maxTopoSize = 32 << 20

// maxPoints bounds the points of all stitched rings: arcs are shared, so
// a small file could otherwise expand into an enormous one.
const maxPoints = 20_000_000

// topology is the part of a TopoJSON document the generator reads.
type topology struct {
	Type      string `json:"type"`
	Transform *struct {
		Scale     [2]float64 `json:"scale"`
		Translate [2]float64 `json:"translate"`
	} `json:"transform"`
	Objects map[string]struct {
		Type       string     `json:"type"`
		Geometries []geometry `json:"geometries"`
	} `json:"objects"`
	Arcs [][][]float64 `json:"arcs"`
}

type geometry struct {
	Type       string            `json:"type"`
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties"`
	Arcs       json.RawMessage   `json:"arcs"`
}

// point is a longitude/latitude pair in degrees.
type point struct{ lon, lat float64 }

// feature is one country: a list of polygons, each a list of rings
// (outer ring first), each ring a closed list of points.
type feature struct {
	id, name string
	polygons [][][]point
}

// decodeTopology reads the "countries" collection of a TopoJSON document
// into features with absolute coordinates.
func decodeTopology(data []byte, object string) ([]feature, error) {
	if len(data) > maxTopoSize {
		return nil, fmt.Errorf("topojson: %d bytes is more than the %d MiB limit", len(data), maxTopoSize>>20)
	}
	var t topology
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("topojson: %w", err)
	}
	if t.Type != "Topology" {
		return nil, fmt.Errorf("topojson: type %q, want Topology", t.Type)
	}
	obj, ok := t.Objects[object]
	if !ok {
		return nil, fmt.Errorf("topojson: no object %q", object)
	}
	arcs, err := absoluteArcs(&t)
	if err != nil {
		return nil, err
	}
	var out []feature
	total := 0
	for gi, g := range obj.Geometries {
		f := feature{id: g.ID, name: g.Properties["name"]}
		var polys [][][]int
		switch g.Type {
		case "Polygon":
			var p [][]int
			if err := json.Unmarshal(g.Arcs, &p); err != nil {
				return nil, fmt.Errorf("topojson: geometry %d (%s): arcs: %w", gi, f.name, err)
			}
			polys = [][][]int{p}
		case "MultiPolygon":
			if err := json.Unmarshal(g.Arcs, &polys); err != nil {
				return nil, fmt.Errorf("topojson: geometry %d (%s): arcs: %w", gi, f.name, err)
			}
		case "", "null":
			continue // a unit without shape at this scale
		default:
			return nil, fmt.Errorf("topojson: geometry %d (%s): type %q is not a polygon", gi, f.name, g.Type)
		}
		for _, poly := range polys {
			var rings [][]point
			for _, ring := range poly {
				r, err := stitch(arcs, ring)
				if err != nil {
					return nil, fmt.Errorf("topojson: geometry %d (%s): %w", gi, f.name, err)
				}
				if total += len(r); total > maxPoints {
					return nil, fmt.Errorf("topojson: more than %d points after stitching arcs", maxPoints)
				}
				if len(r) >= 4 {
					rings = append(rings, r)
				}
			}
			if len(rings) > 0 {
				f.polygons = append(f.polygons, rings)
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// absoluteArcs undoes the delta encoding and quantisation of the arcs.
func absoluteArcs(t *topology) ([][]point, error) {
	out := make([][]point, len(t.Arcs))
	for i, arc := range t.Arcs {
		var x, y float64
		pts := make([]point, 0, len(arc))
		for j, pos := range arc {
			if len(pos) < 2 {
				return nil, fmt.Errorf("topojson: arc %d position %d has %d coordinates", i, j, len(pos))
			}
			if t.Transform != nil {
				x += pos[0]
				y += pos[1]
				pts = append(pts, point{x*t.Transform.Scale[0] + t.Transform.Translate[0], y*t.Transform.Scale[1] + t.Transform.Translate[1]})
			} else {
				pts = append(pts, point{pos[0], pos[1]})
			}
		}
		out[i] = pts
	}
	return out, nil
}

// stitch joins the arcs of one ring; a negative index ~i is arc i reversed,
// and each arc after the first repeats the previous arc's last point.
func stitch(arcs [][]point, ring []int) ([]point, error) {
	var out []point
	for _, idx := range ring {
		rev := idx < 0
		if rev {
			idx = ^idx
		}
		if idx >= len(arcs) {
			return nil, fmt.Errorf("arc index %d out of range (%d arcs)", idx, len(arcs))
		}
		a := arcs[idx]
		if len(a) == 0 {
			return nil, errors.New("empty arc")
		}
		start := len(out)
		if start+len(a) > maxPoints {
			return nil, fmt.Errorf("ring of more than %d points", maxPoints)
		}
		if rev {
			for k := len(a) - 1; k >= 0; k-- {
				out = append(out, a[k])
			}
		} else {
			out = append(out, a...)
		}
		if start > 0 {
			out = append(out[:start], out[start+1:]...)
		}
	}
	return out, nil
}
