package pattern

import (
	"fmt"
	"strings"
)

// translatePCRE maps a PCRE regular expression (what MATCHES takes) to Go's
// RE2 syntax. Constructs RE2 can run but spells differently are rewritten;
// constructs RE2 cannot run at all (back-references, look-around, atomic
// groups, possessive quantifiers, recursion, conditionals, verbs) are
// reported, since RE2 guarantees linear time and has no backtracking.
func translatePCRE(src string) (string, error) {
	var b strings.Builder
	inClass := false
	classStart := 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\\':
			if i+1 >= len(src) {
				return "", fmt.Errorf("regular expression ends with a lone backslash")
			}
			n := src[i+1]
			switch {
			case n >= '1' && n <= '9' && !inClass:
				return "", fmt.Errorf("back-reference \\%c is not supported: Go's RE2 engine has no back-references", n)
			case n == 'k' || n == 'g' && !inClass:
				return "", fmt.Errorf("back-reference \\%c is not supported: Go's RE2 engine has no back-references", n)
			case n == 'G' || n == 'K' || n == 'R' || n == 'X' || n == 'N' && !(i+2 < len(src) && src[i+2] == '{'):
				return "", fmt.Errorf("\\%c is not supported by Go's RE2 engine", n)
			case n == 'Z' && !inClass:
				// end of subject or before a final newline
				b.WriteString(`(?:\n?\z)`)
				i++
				continue
			case n == 'e':
				b.WriteString(`\x1B`)
				i++
				continue
			case n == 'h':
				b.WriteString(horizSpace(inClass, false))
				i++
				continue
			case n == 'H' && !inClass:
				b.WriteString(horizSpace(false, true))
				i++
				continue
			case n == 'Q':
				// \Q…\E quotes literally; RE2 supports it, copy through.
				end := strings.Index(src[i+2:], `\E`)
				if end < 0 {
					b.WriteString(src[i:])
					return b.String(), nil
				}
				b.WriteString(src[i : i+2+end+2])
				i += 2 + end + 1
				continue
			case n == 'c':
				if i+2 < len(src) {
					ch := src[i+2] &^ 0x20
					if ch >= '@' && ch <= '_' {
						fmt.Fprintf(&b, `\x%02X`, ch^0x40)
						i += 2
						continue
					}
				}
				return "", fmt.Errorf("invalid control escape \\c")
			case n == '0' && !inClass:
				// \0, \0n, \0nn octal: RE2 takes up to three octal digits after \.
			}
			b.WriteByte(c)
			b.WriteByte(n)
			i++
		case inClass:
			if c == '[' && i+1 < len(src) && src[i+1] == ':' {
				// POSIX class [:alpha:] inside a bracket expression
				end := strings.Index(src[i:], ":]")
				if end > 0 {
					b.WriteString(src[i : i+end+2])
					i += end + 1
					continue
				}
			}
			if c == ']' && i > classStart {
				inClass = false
			}
			b.WriteByte(c)
		case c == '[':
			inClass = true
			b.WriteByte(c)
			classStart = i + 1
			if classStart < len(src) && src[classStart] == '^' {
				b.WriteByte('^')
				i++
				classStart++
			}
			// a ']' right after '[' or '[^' is a literal
			if classStart < len(src) && src[classStart] == ']' {
				b.WriteString(`\]`)
				i++
				classStart++
			}
		case c == '(' && i+1 < len(src) && src[i+1] == '*':
			return "", fmt.Errorf("backtracking verb %q is not supported by Go's RE2 engine", verbText(src[i:]))
		case c == '(' && i+1 < len(src) && src[i+1] == '?':
			rest := src[i+2:]
			switch {
			case strings.HasPrefix(rest, "="), strings.HasPrefix(rest, "!"):
				return "", fmt.Errorf("look-ahead (?%c…) is not supported: Go's RE2 engine has no look-around", rest[0])
			case strings.HasPrefix(rest, "<="), strings.HasPrefix(rest, "<!"):
				return "", fmt.Errorf("look-behind (?%s…) is not supported: Go's RE2 engine has no look-around", rest[:2])
			case strings.HasPrefix(rest, ">"):
				return "", fmt.Errorf("atomic group (?>…) is not supported by Go's RE2 engine")
			case strings.HasPrefix(rest, "("):
				return "", fmt.Errorf("conditional group (?(…)…) is not supported by Go's RE2 engine")
			case strings.HasPrefix(rest, "|"):
				return "", fmt.Errorf("branch-reset group (?|…) is not supported by Go's RE2 engine")
			case strings.HasPrefix(rest, "#"):
				end := strings.IndexByte(rest, ')')
				if end < 0 {
					return "", fmt.Errorf("comment group (?#… is not closed")
				}
				i += 2 + end
				continue
			case strings.HasPrefix(rest, "R"), strings.HasPrefix(rest, "&"), strings.HasPrefix(rest, "P>"),
				len(rest) > 0 && (rest[0] >= '0' && rest[0] <= '9' || rest[0] == '+' || rest[0] == '-' && len(rest) > 1 && rest[1] >= '0' && rest[1] <= '9'):
				return "", fmt.Errorf("recursion or subroutine call (?%s…) is not supported by Go's RE2 engine", clipN(rest, 3))
			case strings.HasPrefix(rest, "P="):
				return "", fmt.Errorf("named back-reference (?P=…) is not supported: Go's RE2 engine has no back-references")
			case strings.HasPrefix(rest, "C"):
				return "", fmt.Errorf("callout (?C…) is not supported by Go's RE2 engine")
			}
			// inline flags: RE2 knows i, m, s, U
			j := 0
			for j < len(rest) && rest[j] != ')' && rest[j] != ':' {
				f := rest[j]
				if f == '<' || f == 'P' || f == '\'' {
					break // named group
				}
				if !strings.ContainsRune("imsU-", rune(f)) {
					return "", fmt.Errorf("inline flag %q is not supported by Go's RE2 engine (i, m, s and U are)", f)
				}
				j++
			}
			if strings.HasPrefix(rest, "'") {
				// (?'name'…) → (?P<name>…)
				end := strings.IndexByte(rest[1:], '\'')
				if end < 0 {
					return "", fmt.Errorf("named group (?'… is not closed")
				}
				b.WriteString("(?P<" + rest[1:1+end] + ">")
				i += 2 + end + 1
				continue
			}
			b.WriteByte(c)
		case (c == '+') && i > 0 && isQuantifierEnd(src, i):
			return "", fmt.Errorf("possessive quantifier %q is not supported by Go's RE2 engine", src[i-1:i+1])
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// isQuantifierEnd reports whether src[i] ('+') follows a quantifier, which
// makes it possessive (a*+, a++, a?+, a{2}+).
func isQuantifierEnd(src string, i int) bool {
	p := src[i-1]
	if p != '*' && p != '+' && p != '?' && p != '}' {
		return false
	}
	// an escaped quantifier character is a literal
	bs := 0
	for j := i - 2; j >= 0 && src[j] == '\\'; j-- {
		bs++
	}
	if bs%2 == 1 {
		return false
	}
	if p == '+' && i >= 2 && src[i-2] == '+' {
		// "a+++" – the middle one was already reported
		return true
	}
	return true
}

func horizSpace(inClass, negate bool) string {
	const set = `\t \x{A0}\x{1680}\x{180E}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}`
	if inClass {
		return set
	}
	if negate {
		return "[^" + set + "]"
	}
	return "[" + set + "]"
}

func verbText(s string) string {
	if end := strings.IndexByte(s, ')'); end > 0 {
		return s[:end+1]
	}
	return clipN(s, 8)
}

func clipN(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
