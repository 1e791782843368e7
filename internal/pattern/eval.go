package pattern

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"regexp/syntax"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// compiledComp is one comparison ready to evaluate.
type compiledComp struct {
	src   *Comparison
	typ   string
	path  []PathStep
	op    Operator
	not   bool
	lit   cval   // =, !=, <, …
	set   []cval // IN
	re    *regexp.Regexp
	reBin bool // the regex (or LIKE pattern) is usable on binary values
	cidr  netip.Prefix
	tsLit bool // the operand (or set) holds timestamps: JSON strings are read as timestamps
	// likeSegs are the literal parts of a LIKE pattern without '_': matched
	// with string searches instead of the regex.
	likeSegs []string
}

// like matches a LIKE pattern.
func (cc *compiledComp) like(s string) bool {
	if cc.likeSegs == nil {
		return cc.re.MatchString(s)
	}
	segs := cc.likeSegs
	if len(segs) == 1 {
		return s == segs[0]
	}
	first, last := segs[0], segs[len(segs)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, seg := range segs[1 : len(segs)-1] {
		i := strings.Index(s, seg)
		if i < 0 {
			return false
		}
		s = s[i+len(seg):]
	}
	return true
}

// cval is a literal converted for comparisons.
type cval struct {
	kind LitKind
	s    string // string, binary/hex bytes
	i    int64
	f    float64
	b    bool
	t    time.Time
}

func (c cval) numeric() bool { return c.kind == LitInt || c.kind == LitFloat }

func (c cval) asFloat() float64 {
	if c.kind == LitInt {
		return float64(c.i)
	}
	return c.f
}

// compileComparison converts a comparison, checking what evaluation needs
// beyond the grammar (sets of one type, CIDR operands, regexes RE2 can run,
// timestamps that exist).
func compileComparison(c *Comparison) (*compiledComp, error) {
	cc := &compiledComp{src: c, typ: c.Path.Type, path: c.Path.Steps, op: c.Op, not: c.Not}
	conv := func(l Literal) (cval, error) {
		v := cval{kind: l.Kind, s: l.Str, i: l.Int, f: l.Float, b: l.Bool, t: l.Time}
		if l.Kind == LitHex || l.Kind == LitBinary {
			v.kind = LitBinary
		}
		if l.Kind == LitTimestamp && l.TimeErr != "" {
			return v, l.Pos.errf("timestamp %s cannot be evaluated: %s", l.Text, l.TimeErr)
		}
		return v, nil
	}
	var err error
	switch c.Op {
	case OpEQ, OpNEQ, OpGT, OpLT, OpGE, OpLE:
		if cc.lit, err = conv(c.Lit); err != nil {
			return nil, err
		}
		cc.tsLit = c.Lit.Kind == LitTimestamp
	case OpIn:
		var first LitKind
		for i, l := range c.Set {
			v, err := conv(l)
			if err != nil {
				return nil, err
			}
			if i == 0 {
				first = v.kind
			} else if v.kind != first && !(v.numeric() && (first == LitInt || first == LitFloat)) {
				return nil, l.Pos.errf("IN set mixes %s and %s values: a set holds values of one type (integers and floats may mix)", first, v.kind)
			}
			cc.set = append(cc.set, v)
		}
		cc.tsLit = len(c.Set) > 0 && first == LitTimestamp
	case OpLike:
		pat := norm.NFC.String(c.Lit.Str)
		var b strings.Builder
		b.WriteString(`^(?s:`)
		for _, r := range pat {
			switch r {
			case '%':
				b.WriteString(`.*`)
			case '_':
				b.WriteString(`.`)
			default:
				b.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		b.WriteString(`)$`)
		cc.re = regexp.MustCompile(b.String())
		cc.reBin = allLatin1(pat)
		if !strings.ContainsRune(pat, '_') {
			cc.likeSegs = strings.Split(pat, "%")
		}
	case OpMatches:
		pat := norm.NFC.String(c.Lit.Str)
		tr, err := translatePCRE(pat)
		if err != nil {
			return nil, c.Lit.Pos.errf("MATCHES %s: %v", clip(c.Lit.Text), err)
		}
		re, err := regexp.Compile(tr)
		if err != nil {
			return nil, c.Lit.Pos.errf("MATCHES %s: invalid regular expression: %s", clip(c.Lit.Text), regexpProblem(err))
		}
		cc.re = re
		cc.reBin = allLatin1(pat)
	case OpIsSubset, OpIsSuperset:
		p, ok := parseIPOrCIDR(c.Lit.Str)
		if !ok {
			return nil, c.Lit.Pos.errf("%s needs an IPv4 or IPv6 address or CIDR, found %s", c.Op, clip(c.Lit.Text))
		}
		cc.cidr = p
	}
	return cc, nil
}

func allLatin1(s string) bool {
	for _, r := range s {
		if r > 0xff {
			return false
		}
	}
	return true
}

// latin1 maps bytes to the runes of the same number, so that a regex with
// \xNN escapes matches binary data byte for byte.
func latin1(b string) string {
	ascii := true
	for i := 0; i < len(b); i++ {
		if b[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return b
	}
	r := make([]rune, len(b))
	for i := 0; i < len(b); i++ {
		r[i] = rune(b[i])
	}
	return string(r)
}

// stringAsBytes converts a string to bytes when every character is below
// 256 (the specification's rule for comparing strings with binary).
func stringAsBytes(s string) (string, bool) {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s, true
	}
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return "", false
		}
		out = append(out, byte(r))
	}
	return string(out), true
}

func parseIPOrCIDR(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), true
}

// contains reports whether inner lies within outer.
func contains(outer, inner netip.Prefix) bool {
	if outer.Addr().Is4() != inner.Addr().Is4() || outer.Bits() > inner.Bits() {
		return false
	}
	return outer.Contains(inner.Addr())
}

// errEval marks a value the comparison cannot be evaluated against (a JSON
// string that should be a timestamp and is not).
type evalError struct{ msg string }

func (e *evalError) Error() string { return e.msg }

// test applies the comparison to one value selected by the path.
func (cc *compiledComp) test(v Value) (bool, error) {
	switch cc.op {
	case OpEQ, OpNEQ:
		if cc.tsLit && v.Kind == KindString {
			t, err := parseTimestamp(v.Str)
			if err != nil {
				return false, &evalError{"invalid timestamp in data: " + err.Error()}
			}
			r := t.Equal(cc.lit.t)
			return r != (cc.op == OpNEQ) != cc.not, nil
		}
		r := equalValue(v, cc.lit)
		return r != (cc.op == OpNEQ) != cc.not, nil
	case OpGT, OpLT, OpGE, OpLE:
		var c int
		var ok, incomparable bool
		if cc.tsLit && v.Kind == KindString {
			t, err := parseTimestamp(v.Str)
			if err != nil {
				return false, &evalError{"invalid timestamp in data: " + err.Error()}
			}
			c, ok = t.Compare(cc.lit.t), true
		} else {
			c, ok, incomparable = orderValue(v, cc.lit)
		}
		if !ok {
			// Types that cannot be ordered never match, even with NOT; a
			// string that cannot become binary is "false" and NOT applies.
			if incomparable {
				return cc.not, nil
			}
			return false, nil
		}
		var r bool
		switch cc.op {
		case OpGT:
			r = c > 0
		case OpLT:
			r = c < 0
		case OpGE:
			r = c >= 0
		case OpLE:
			r = c <= 0
		}
		return r != cc.not, nil
	case OpIn:
		r := false
		if cc.tsLit && v.Kind == KindString {
			t, err := parseTimestamp(v.Str)
			if err != nil {
				return false, &evalError{"invalid timestamp in data: " + err.Error()}
			}
			for _, e := range cc.set {
				if t.Equal(e.t) {
					r = true
					break
				}
			}
		} else {
			for _, e := range cc.set {
				if equalValue(v, e) {
					r = true
					break
				}
			}
		}
		return r != cc.not, nil
	case OpLike:
		r := false
		switch v.Kind {
		case KindString:
			r = cc.like(nfc(v.Str))
		case KindBinary:
			if cc.reBin && utf8.ValidString(v.Str) {
				r = cc.like(nfc(v.Str))
			}
		}
		return r != cc.not, nil
	case OpMatches:
		r := false
		switch v.Kind {
		case KindString:
			r = cc.re.MatchString(nfc(v.Str))
		case KindBinary:
			if cc.reBin {
				r = cc.re.MatchString(latin1(v.Str))
			}
		}
		return r != cc.not, nil
	case OpIsSubset, OpIsSuperset:
		r := false
		if v.Kind == KindString {
			if p, ok := parseIPOrCIDR(v.Str); ok {
				if cc.op == OpIsSubset {
					r = contains(cc.cidr, p)
				} else {
					r = contains(p, cc.cidr)
				}
			}
		}
		return r != cc.not, nil
	}
	return false, nil
}

func nfc(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return norm.NFC.String(s)
		}
	}
	return s // ASCII is always in NFC
}

// equalValue is = between a data value and a literal, with the
// specification's coercions: integers and floats compare as numbers,
// strings compare with binary when every character is below 256; other
// mixes are unequal.
func equalValue(v Value, l cval) bool {
	switch v.Kind {
	case KindInt:
		switch l.kind {
		case LitInt:
			return v.Int == l.i
		case LitFloat:
			return float64(v.Int) == l.f
		}
	case KindFloat:
		if l.numeric() {
			return v.Flt == l.asFloat()
		}
	case KindString:
		switch l.kind {
		case LitString:
			return v.Str == l.s
		case LitBinary:
			b, ok := stringAsBytes(v.Str)
			return ok && b == l.s
		}
	case KindBinary:
		switch l.kind {
		case LitBinary:
			return v.Str == l.s
		case LitString:
			b, ok := stringAsBytes(l.s)
			return ok && b == v.Str
		}
	case KindBool:
		return l.kind == LitBool && v.Bool == l.b
	}
	return false
}

// orderValue compares a data value with a literal. ok is false when the
// pair cannot be ordered; incomparable is then true when the types could
// be ordered but the string has characters above 255 (binary comparison).
func orderValue(v Value, l cval) (c int, ok bool, incomparable bool) {
	switch v.Kind {
	case KindInt:
		if l.kind == LitInt {
			return cmpInt(v.Int, l.i), true, false
		}
		if l.kind == LitFloat {
			return cmpFloat(float64(v.Int), l.f), true, false
		}
	case KindFloat:
		if l.numeric() {
			return cmpFloat(v.Flt, l.asFloat()), true, false
		}
	case KindString:
		switch l.kind {
		case LitString:
			return strings.Compare(v.Str, l.s), true, false
		case LitBinary:
			b, ok := stringAsBytes(v.Str)
			if !ok {
				return 0, false, true
			}
			return bytes.Compare([]byte(b), []byte(l.s)), true, false
		}
	case KindBinary:
		switch l.kind {
		case LitBinary:
			return strings.Compare(v.Str, l.s), true, false
		case LitString:
			b, ok := stringAsBytes(l.s)
			if !ok {
				return 0, false, true
			}
			return strings.Compare(v.Str, b), true, false
		}
	}
	return 0, false, false
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// walkPath calls f with every value the path selects from obj, following
// *_ref and *_refs properties through r. f returns true to stop early;
// walkPath then returns true.
func walkPath(obj Object, steps []PathStep, r Resolver, f func(Value) (bool, error)) (bool, error) {
	return walkValue(Value{Kind: KindObject, Obj: obj}, steps, r, f)
}

func walkValue(v Value, steps []PathStep, r Resolver, f func(Value) (bool, error)) (bool, error) {
	if len(steps) == 0 {
		if v.Kind == KindRefList {
			// the value of a *_refs path itself: its resolved objects
			any := false
			for _, id := range v.List {
				if _, ok := r.Resolve(id.Str); ok {
					any = true
				}
			}
			if !any {
				return false, nil
			}
		}
		return f(v)
	}
	s := steps[0]
	switch s.Kind {
	case StepKey:
		if v.Kind != KindObject || v.Obj == nil {
			return false, nil
		}
		nv, ok := v.Obj.Get(s.Key)
		if !ok {
			return false, nil
		}
		var err error
		if nv, err = suffixValue(s.Key, nv); err != nil {
			return false, &evalError{err.Error()}
		}
		switch {
		case strings.HasSuffix(s.Key, "_refs"):
			if nv.Kind != KindList {
				return false, &evalError{fmt.Sprintf("the value of reference list property %q is not a list", s.Key)}
			}
			for _, e := range nv.List {
				if e.Kind != KindString {
					return false, &evalError{fmt.Sprintf("a value of reference list property %q is not a string", s.Key)}
				}
			}
			nv = Value{Kind: KindRefList, List: nv.List}
		case strings.HasSuffix(s.Key, "_ref"):
			if nv.Kind != KindString {
				return false, &evalError{fmt.Sprintf("the value of reference property %q is not a string", s.Key)}
			}
			target, ok := r.Resolve(nv.Str)
			if !ok {
				return false, nil
			}
			nv = Value{Kind: KindObject, Obj: target}
		}
		return walkValue(nv, steps[1:], r, f)
	case StepIndex:
		switch v.Kind {
		case KindList:
			if s.Index >= 0 && s.Index < len(v.List) {
				return walkValue(v.List[s.Index], steps[1:], r, f)
			}
		case KindRefList:
			// index among the references that resolve
			n := 0
			for _, id := range v.List {
				if obj, ok := r.Resolve(id.Str); ok {
					if n == s.Index {
						return walkValue(Value{Kind: KindObject, Obj: obj}, steps[1:], r, f)
					}
					n++
				}
			}
		}
		return false, nil
	case StepStar:
		switch v.Kind {
		case KindList:
			for _, e := range v.List {
				if stop, err := walkValue(e, steps[1:], r, f); stop || err != nil {
					return stop, err
				}
			}
		case KindRefList:
			for _, id := range v.List {
				if obj, ok := r.Resolve(id.Str); ok {
					if stop, err := walkValue(Value{Kind: KindObject, Obj: obj}, steps[1:], r, f); stop || err != nil {
						return stop, err
					}
				}
			}
		}
	}
	return false, nil
}

// evalOn evaluates the comparison on one root object: true when any value
// the path selects passes (EXISTS: when the path selects anything).
func (cc *compiledComp) evalOn(obj Object, r Resolver) (bool, error) {
	if cc.op == OpExists {
		found, err := walkPath(obj, cc.path, r, func(Value) (bool, error) { return true, nil })
		if err != nil {
			return false, err
		}
		return found != cc.not, nil
	}
	return walkPath(obj, cc.path, r, cc.test)
}

// regexpProblem is what is wrong with a regular expression, without the
// regexp package's own prefix.
func regexpProblem(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return fmt.Sprintf("%s: `%s`", se.Code, se.Expr)
	}
	return err.Error()
}
