package behavior

import (
	"strings"

	"golang.org/x/net/publicsuffix"
)

//go:generate go run ./internal/genbigram -list ../../../shared/data/intel/misp-warninglists/lists/cloudflare-top100k/list.json -out bigram_table.go

// bigramIndex maps a character to its row in bigramNLL (0 is the boundary).
func bigramIndex(c byte) int {
	switch {
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 1
	case c >= '0' && c <= '9':
		return int(c-'0') + 27
	case c == '-':
		return 37
	}
	return 38
}

// labelNLL is the mean improbability, in bits per character, of a label
// under the bigram model of popular domain names: popular names score about
// 4, one in ten above improbableNLL; random letters score about 5.6 and hex
// about 6.3.
func labelNLL(l string) float64 {
	if l == "" {
		return 0
	}
	prev, s := 0, 0.0
	for i := 0; i < len(l); i++ {
		c := bigramIndex(l[i])
		s += float64(bigramNLL[prev][c])
		prev = c
	}
	s += float64(bigramNLL[prev][0])
	return s / float64(len(l)+1)
}

// domainNLL scores the registrable label of a registered domain
// ("vowyzuk" of "vowyzuk.com").
func domainNLL(reg string) float64 {
	suf, _ := publicsuffix.PublicSuffix(reg)
	return labelNLL(strings.TrimSuffix(reg, "."+suf))
}
