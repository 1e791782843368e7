// Package worldmap holds the outlines of the world's countries as SVG path
// data, keyed by ISO 3166-1 alpha-2 code, so that reports can draw where
// infrastructure is without loading anything at view time. The shapes are
// generated from Natural Earth (public domain) by ./gen; see NOTICE.
package worldmap

import "sort"

// Country is one country's outline on the map.
type Country struct {
	Code string // ISO 3166-1 alpha-2 (XK for Kosovo)
	Name string // Natural Earth's short name
	// X and Y are the centre of the country's largest landmass, where a
	// marker or label goes.
	X, Y int
	// Path is SVG path data in the map's coordinates (0..Width, 0..Height).
	Path string
}

// Countries returns every country, sorted by code. The slice is shared:
// do not modify it.
func Countries() []Country { return countries }

// Lookup returns the country with an alpha-2 code (upper case).
func Lookup(code string) (Country, bool) {
	i := sort.Search(len(countries), func(i int) bool { return countries[i].Code >= code })
	if i < len(countries) && countries[i].Code == code {
		return countries[i], true
	}
	return Country{}, false
}
