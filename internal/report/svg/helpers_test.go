package svg_test

import (
	"fmt"
	"strings"
)

// fmtSscanf reads "DATE: N sightings, M detections" from a bin's tooltip.
func fmtSscanf(s string, d *string, a, b *int) (int, error) {
	i := strings.Index(s, ": ")
	if i < 0 {
		return 0, nil
	}
	*d = s[:i]
	n, err := fmt.Sscanf(s[i+2:], "%d sightings, %d detections", a, b)
	return n + 1, err
}
