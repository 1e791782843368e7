package warninglist

import (
	"fmt"
	"regexp"
	"strings"
)

// compileRegex compiles a MISP regex entry. MISP writes PCRE patterns
// between delimiters with trailing flags ("/^abuse@.*$/i"); the flags i, m,
// s and U map to RE2 flags, g and u change nothing for a yes/no test, and
// any other flag, or PCRE syntax RE2 lacks (look-around, back-references),
// is an error so that the entry is skipped and reported, not half-applied.
func compileRegex(entry string) (*regexp.Regexp, error) {
	pat, flags := entry, ""
	if len(entry) >= 2 {
		d := entry[0]
		if !isAlnum(d) && d != '\\' && d != ' ' {
			if d == '(' {
				d = ')'
			} else if d == '{' {
				d = '}'
			} else if d == '[' {
				d = ']'
			}
			if end := strings.LastIndexByte(entry, d); end > 0 {
				pat, flags = entry[1:end], entry[end+1:]
			}
		}
	}
	var re2 strings.Builder
	for _, f := range flags {
		switch f {
		case 'i', 'm', 's', 'U':
			re2.WriteRune(f)
		case 'g', 'u', 'D':
		default:
			return nil, fmt.Errorf("regex %q: flag %q has no RE2 equivalent", entry, f)
		}
	}
	if re2.Len() > 0 {
		pat = "(?" + re2.String() + ")" + pat
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return nil, fmt.Errorf("regex %q: not supported by RE2: %v", entry, err)
	}
	return re, nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
