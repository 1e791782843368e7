package match

import "unicode/utf8"

// MaxPatternExcerpt bounds the pattern a sighting carries. A sighting
// names its indicator by id, where the whole pattern is; copying a 30 KB
// pattern into each of 200,000 sightings made a 6.7 GB database.
const MaxPatternExcerpt = 256

// patternExcerpt is p, or its first MaxPatternExcerpt bytes (cut on a
// character boundary) and an ellipsis.
func patternExcerpt(p string) string {
	if len(p) <= MaxPatternExcerpt {
		return p
	}
	cut := MaxPatternExcerpt
	for cut > 0 && !utf8.RuneStart(p[cut]) {
		cut--
	}
	return p[:cut] + "…"
}
