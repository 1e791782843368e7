package pattern

import (
	"fmt"
	"strings"
)

// validate applies the rules beyond the grammar that the reference
// validator applies, plus the specification's positive-count rule.
func validate(p *Pattern, opts ParseOptions) error {
	var err error
	walkObs(p.Root, func(e ObsExpr) bool {
		if err != nil {
			return false
		}
		switch e := e.(type) {
		case *ObsQualified:
			err = checkQualifier(e.Qual)
			if err == nil && !opts.AllowDuplicateQualifiers {
				err = checkDuplicateQualifiers(e)
			}
		case *ObsSimple:
			walkComp(e.Comp, func(c *Comparison) {
				if err == nil {
					err = checkHashComparison(c)
				}
			})
		}
		return err == nil
	})
	return err
}

// walkObs visits every observation expression, parents first.
func walkObs(e ObsExpr, f func(ObsExpr) bool) {
	if !f(e) {
		return
	}
	switch e := e.(type) {
	case *ObsBinary:
		walkObs(e.Left, f)
		walkObs(e.Right, f)
	case *ObsGroup:
		walkObs(e.Inner, f)
	case *ObsQualified:
		walkObs(e.Expr, f)
	}
}

// walkComp visits every comparison of a comparison expression.
func walkComp(e CompExpr, f func(*Comparison)) {
	switch e := e.(type) {
	case *CompBinary:
		walkComp(e.Left, f)
		walkComp(e.Right, f)
	case *Comparison:
		f(e)
	}
}

func checkQualifier(q Qualifier) error {
	switch q.Kind {
	case QualWithin:
		v := q.Seconds.Float
		if q.Seconds.Kind == LitInt {
			v = float64(q.Seconds.Int)
		}
		if v <= 0 {
			return q.Seconds.Pos.errf("WITHIN needs a positive number of seconds, found %s", q.Seconds.Text)
		}
	case QualRepeats:
		if q.Times.Int <= 0 {
			return q.Times.Pos.errf("REPEATS needs a positive count, found %s", q.Times.Text)
		}
	}
	return nil
}

var qualNames = [...]string{"WITHIN", "REPEATS", "START/STOP"}

// checkDuplicateQualifiers rejects a qualifier type applied twice directly
// to one bracketed observation expression. Qualifiers on a parenthesised
// group are not checked: ([x] REPEATS 2 TIMES) REPEATS 3 TIMES is valid.
func checkDuplicateQualifiers(e *ObsQualified) error {
	// Only check from the outermost qualifier of a chain: the chain is
	// e, e.Expr, … down to its base.
	var seen [3]*Qualifier
	var chain []*ObsQualified
	cur := ObsExpr(e)
	for {
		q, ok := cur.(*ObsQualified)
		if !ok {
			break
		}
		chain = append(chain, q)
		cur = q.Expr
	}
	if _, simple := cur.(*ObsSimple); !simple {
		return nil
	}
	// Report the later (outer) duplicate, scanning from the base outwards.
	for i := len(chain) - 1; i >= 0; i-- {
		q := &chain[i].Qual
		if prev := seen[q.Kind]; prev != nil {
			return q.Pos.errf("duplicate %s qualifier on one observation expression (the first is at line %d, column %d); put the expression in parentheses to qualify the group again",
				qualNames[q.Kind], prev.Pos.Line, prev.Pos.Column)
		}
		seen[q.Kind] = q
	}
	return nil
}

// hashFormat describes valid values of one hash algorithm.
type hashFormat struct {
	name    string
	lengths []int // hex lengths; nil for ssdeep
}

// hashFormats is keyed by the algorithm name upper-cased without '-', as
// the hash key in a pattern may be written SHA-256, sha256, 'SHA-256'.
var hashFormats = map[string]hashFormat{
	"MD5":       {"MD5", []int{32}},
	"MD6":       {"MD6", []int{32, 40, 56, 64, 96, 128}},
	"RIPEMD160": {"RIPEMD-160", []int{40}},
	"SHA1":      {"SHA-1", []int{40}},
	"SHA224":    {"SHA-224", []int{56}},
	"SHA256":    {"SHA-256", []int{64}},
	"SHA384":    {"SHA-384", []int{96}},
	"SHA512":    {"SHA-512", []int{128}},
	"SHA3224":   {"SHA3-224", []int{56}},
	"SHA3256":   {"SHA3-256", []int{64}},
	"SHA3384":   {"SHA3-384", []int{96}},
	"SHA3512":   {"SHA3-512", []int{128}},
	"WHIRLPOOL": {"WHIRLPOOL", []int{128}},
	"SSDEEP":    {"SSDEEP", nil},
	"TLSH":      {"TLSH", []int{70}},
}

// hashAlgorithm returns the hash format a path compares, if the path is
// …hashes.<known algorithm>.
func hashAlgorithm(path ObjectPath) (hashFormat, bool) {
	n := len(path.Steps)
	if n < 2 || path.Steps[n-1].Kind != StepKey {
		return hashFormat{}, false
	}
	inHashes := false
	for _, s := range path.Steps[:n-1] {
		if s.Kind == StepKey && s.Key == "hashes" {
			inHashes = true
		}
	}
	if !inHashes {
		return hashFormat{}, false
	}
	f, ok := hashFormats[normHashName(path.Steps[n-1].Key)]
	return f, ok
}

func normHashName(s string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", "_", "").Replace(s))
}

func checkHashComparison(c *Comparison) error {
	if c.Op != OpEQ && c.Op != OpNEQ && c.Op != OpIn {
		return nil
	}
	f, ok := hashAlgorithm(c.Path)
	if !ok {
		return nil
	}
	lits := c.Set
	if c.Op != OpIn {
		lits = []Literal{c.Lit}
	}
	for _, l := range lits {
		if msg := checkHashValue(f, l); msg != "" {
			return l.Pos.errf("%s", msg)
		}
	}
	return nil
}

func checkHashValue(f hashFormat, l Literal) string {
	if l.Kind != LitString {
		return fmt.Sprintf("%s is not a valid %s hash: hash values are strings", l.Text, f.name)
	}
	v := l.Str
	if f.lengths == nil { // ssdeep
		ok := len(v) >= 1 && len(v) <= 128
		for i := 0; ok && i < len(v); i++ {
			c := v[i]
			ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '/' || c == '+' || c == ':' || c == '.'
		}
		if !ok {
			return fmt.Sprintf("'%s' is not a valid SSDEEP hash", clip(v))
		}
		return ""
	}
	if f.name == "TLSH" && len(v) == 72 && strings.HasPrefix(strings.ToUpper(v), "T1") {
		v = v[2:]
	}
	okLen := false
	for _, n := range f.lengths {
		if len(v) == n {
			okLen = true
		}
	}
	if !okLen || !isHexString(v) {
		want := make([]string, len(f.lengths))
		for i, n := range f.lengths {
			want[i] = fmt.Sprint(n)
		}
		return fmt.Sprintf("'%s' is not a valid %s hash: want %s hex digits", clip(l.Str), f.name, strings.Join(want, " or "))
	}
	return ""
}

func isHexString(s string) bool {
	for i := 0; i < len(s); i++ {
		if _, ok := hexVal(s[i]); !ok {
			return false
		}
	}
	return true
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
