package main

import "math"

// equalEarth projects longitude/latitude in degrees with the Equal Earth
// projection (Šavrič, Patterson and Jenny, 2018): an equal-area
// pseudocylindrical projection, so that no country looks larger than it is.
// x grows east, y grows north; both are in units of the Earth's radius.
func equalEarth(lon, lat float64) (x, y float64) {
	const (
		a1 = 1.340264
		a2 = -0.081106
		a3 = 0.000893
		a4 = 0.003796
	)
	m := math.Sqrt(3) / 2
	lam := lon * math.Pi / 180
	phi := lat * math.Pi / 180
	th := math.Asin(m * math.Sin(phi))
	t2 := th * th
	t6 := t2 * t2 * t2
	x = 2 * math.Sqrt(3) * lam * math.Cos(th) / (3 * (9*a4*t6*t2 + 7*a3*t6 + 3*a2*t2 + a1))
	y = th * (a1 + a2*t2 + t6*(a3+a4*t2))
	return x, y
}
