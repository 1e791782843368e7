package pattern

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Error is a pattern that cannot be parsed, validated or compiled, with the
// 1-based line and column (in characters) where the problem is.
type Error struct {
	Line   int
	Column int
	Msg    string
}

func (e *Error) Error() string {
	return "line " + strconv.Itoa(e.Line) + ", column " + strconv.Itoa(e.Column) + ": " + e.Msg
}

// Pos is a position in the pattern text.
type Pos struct{ Line, Column int }

func (p Pos) errf(format string, args ...any) *Error {
	e := &Error{Line: p.Line, Column: p.Column}
	e.Msg = sprintf(format, args...)
	return e
}

// Pattern is a parsed STIX 2.1 pattern.
type Pattern struct {
	Root ObsExpr
	src  string
}

// Source returns the text the pattern was parsed from.
func (p *Pattern) Source() string { return p.src }

// String returns the canonical text of the pattern: keywords upper case,
// single spaces, literals in their canonical form, parentheses kept where
// the source had them around observation expressions.
func (p *Pattern) String() string {
	var b strings.Builder
	writeObs(&b, p.Root, 0)
	return b.String()
}

// ObsExpr is an observation expression: [comparisons], a parenthesised
// group, a binary operation on two of them, or one with a qualifier.
type ObsExpr interface{ obsPos() Pos }

// ObsOp is an observation operator.
type ObsOp uint8

// Observation operators, lowest precedence first.
const (
	ObsFollowedBy ObsOp = iota
	ObsOr
	ObsAnd
)

func (o ObsOp) String() string { return [...]string{"FOLLOWEDBY", "OR", "AND"}[o] }

// ObsBinary joins two observation expressions.
type ObsBinary struct {
	Op          ObsOp
	Left, Right ObsExpr
	Pos         Pos // of the operator
}

// ObsSimple is [comparison expression].
type ObsSimple struct {
	Comp CompExpr
	Pos  Pos // of '['
}

// ObsGroup is ( observation expressions ).
type ObsGroup struct {
	Inner ObsExpr
	Pos   Pos // of '('
}

// QualKind names a qualifier.
type QualKind uint8

// Qualifier kinds.
const (
	QualWithin QualKind = iota
	QualRepeats
	QualStartStop
)

// Qualifier is WITHIN n SECONDS, REPEATS n TIMES or START t STOP t.
type Qualifier struct {
	Kind    QualKind
	Seconds Literal // WITHIN: int or float
	Times   Literal // REPEATS: int
	Start   Literal // START/STOP: timestamps (or strings in lenient mode)
	Stop    Literal
	Pos     Pos // of the keyword
}

// ObsQualified is an observation expression with a qualifier.
type ObsQualified struct {
	Expr ObsExpr
	Qual Qualifier
}

func (e *ObsBinary) obsPos() Pos    { return e.Pos }
func (e *ObsSimple) obsPos() Pos    { return e.Pos }
func (e *ObsGroup) obsPos() Pos     { return e.Pos }
func (e *ObsQualified) obsPos() Pos { return e.Expr.obsPos() }

// CompExpr is a comparison expression inside [ ].
type CompExpr interface{ compPos() Pos }

// CompOp is AND or OR between comparisons.
type CompOp uint8

// Comparison-expression operators.
const (
	CompOr CompOp = iota
	CompAnd
)

// CompBinary joins two comparison expressions.
type CompBinary struct {
	Op          CompOp
	Left, Right CompExpr
	Pos         Pos
}

// Operator is a comparison operator.
type Operator uint8

// Comparison operators.
const (
	OpEQ Operator = iota
	OpNEQ
	OpGT
	OpLT
	OpGE
	OpLE
	OpIn
	OpLike
	OpMatches
	OpIsSubset
	OpIsSuperset
	OpExists
)

var opNames = [...]string{"=", "!=", ">", "<", ">=", "<=", "IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET", "EXISTS"}

func (o Operator) String() string { return opNames[o] }

// Comparison is one property test: path [NOT] op literal, or [NOT] EXISTS path.
type Comparison struct {
	Path ObjectPath
	Not  bool
	Op   Operator
	Lit  Literal   // the operand (not for IN or EXISTS)
	Set  []Literal // IN
	Pos  Pos       // of the object path (or of NOT/EXISTS)
	OpAt Pos       // of the operator
}

func (c *CompBinary) compPos() Pos { return c.Pos }
func (c *Comparison) compPos() Pos { return c.Pos }

// StepKind is the kind of an object path step.
type StepKind uint8

// Path step kinds.
const (
	StepKey StepKind = iota
	StepIndex
	StepStar
)

// PathStep is one step of an object path: .key, [n] or [*].
type PathStep struct {
	Kind  StepKind
	Key   string
	Index int
}

// ObjectPath is type:property.step…
type ObjectPath struct {
	Type  string
	Steps []PathStep // Steps[0] is the first property (a key)
	Pos   Pos
}

// String renders the path canonically: keys that are not plain
// identifiers are quoted.
func (p ObjectPath) String() string {
	var b strings.Builder
	b.WriteString(p.Type)
	b.WriteByte(':')
	for i, s := range p.Steps {
		switch s.Kind {
		case StepKey:
			if i > 0 {
				b.WriteByte('.')
			}
			if isPlainIdent(s.Key) {
				b.WriteString(s.Key)
			} else {
				b.WriteString(quoteString(s.Key))
			}
		case StepIndex:
			b.WriteString("[" + strconv.Itoa(s.Index) + "]")
		case StepStar:
			b.WriteString("[*]")
		}
	}
	return b.String()
}

func isPlainIdent(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentChar(s[i]) {
			return false
		}
	}
	return !keywords[s] && s != "true" && s != "false"
}

// LitKind is the type of a literal.
type LitKind uint8

// Literal kinds.
const (
	LitString LitKind = iota
	LitInt
	LitFloat
	LitBool
	LitBinary
	LitHex
	LitTimestamp
)

var litKindNames = [...]string{"string", "integer", "float", "boolean", "binary", "hex", "timestamp"}

func (k LitKind) String() string { return litKindNames[k] }

// Literal is a constant in a pattern.
type Literal struct {
	Kind  LitKind
	Text  string // as written
	Str   string // string content; bytes of binary and hex literals
	Int   int64
	Float float64
	Bool  bool
	Time  time.Time // timestamps; zero when the date does not exist (see TimeErr)
	// TimeErr says why a grammatically valid timestamp is not a real
	// instant (30 February); evaluation rejects such literals.
	TimeErr string
	Pos     Pos
}

// String renders the literal canonically.
func (l Literal) String() string {
	switch l.Kind {
	case LitString:
		return quoteString(l.Str)
	case LitInt:
		return strconv.FormatInt(l.Int, 10)
	case LitFloat:
		s := strconv.FormatFloat(l.Float, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	case LitBool:
		if l.Bool {
			return "true"
		}
		return "false"
	case LitBinary:
		return "b'" + base64.StdEncoding.EncodeToString([]byte(l.Str)) + "'"
	case LitHex:
		return "h'" + hex.EncodeToString([]byte(l.Str)) + "'"
	case LitTimestamp:
		return l.Text
	}
	return l.Text
}

func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// Canonical rendering. Observation precedence: FOLLOWEDBY 0, OR 1, AND 2,
// qualified and primary 3.
func obsPrec(e ObsExpr) int {
	switch e := e.(type) {
	case *ObsBinary:
		return int(e.Op)
	}
	return 3
}

func writeObs(b *strings.Builder, e ObsExpr, minPrec int) {
	if obsPrec(e) < minPrec {
		b.WriteByte('(')
		writeObs(b, e, 0)
		b.WriteByte(')')
		return
	}
	switch e := e.(type) {
	case *ObsSimple:
		b.WriteByte('[')
		writeComp(b, e.Comp, 0)
		b.WriteByte(']')
	case *ObsGroup:
		b.WriteByte('(')
		writeObs(b, e.Inner, 0)
		b.WriteByte(')')
	case *ObsBinary:
		p := int(e.Op)
		writeObs(b, e.Left, p)
		b.WriteString(" " + e.Op.String() + " ")
		writeObs(b, e.Right, p+1)
	case *ObsQualified:
		writeObs(b, e.Expr, 3)
		q := e.Qual
		switch q.Kind {
		case QualWithin:
			b.WriteString(" WITHIN " + q.Seconds.String() + " SECONDS")
		case QualRepeats:
			b.WriteString(" REPEATS " + q.Times.String() + " TIMES")
		case QualStartStop:
			b.WriteString(" START " + q.Start.String() + " STOP " + q.Stop.String())
		}
	}
}

func writeComp(b *strings.Builder, e CompExpr, minPrec int) {
	switch e := e.(type) {
	case *CompBinary:
		p := int(e.Op)
		if p < minPrec {
			b.WriteByte('(')
		}
		writeComp(b, e.Left, p)
		if e.Op == CompAnd {
			b.WriteString(" AND ")
		} else {
			b.WriteString(" OR ")
		}
		writeComp(b, e.Right, p)
		if p < minPrec {
			b.WriteByte(')')
		}
	case *Comparison:
		if e.Op == OpExists {
			if e.Not {
				b.WriteString("NOT ")
			}
			b.WriteString("EXISTS " + e.Path.String())
			return
		}
		b.WriteString(e.Path.String())
		if e.Not {
			b.WriteString(" NOT")
		}
		b.WriteString(" " + e.Op.String() + " ")
		if e.Op == OpIn {
			b.WriteByte('(')
			for i, l := range e.Set {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(l.String())
			}
			b.WriteByte(')')
			return
		}
		b.WriteString(e.Lit.String())
	}
}
