package pattern

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Program is a pattern compiled for evaluation. It is immutable: one
// Program may be used by many goroutines and many streams at once.
type Program struct {
	pattern *Pattern
	root    *obsNode
	leaves  []*leaf
	// slots is the number of observation instances one binding of the
	// whole pattern uses (REPEATS multiplies), capped at maxSlots.
	slots int
	// horizon bounds the time between the first and the last observation
	// of any binding when bounded is set (see computeHorizon).
	horizon time.Duration
	bounded bool
	// timeless is set when no WITHIN or FOLLOWEDBY appears: only which
	// leaves an observation matches counts, not when it happened.
	timeless bool
	// stateless is set when one observation alone decides a match (a
	// single observation expression or an OR of them, no qualifiers).
	stateless bool
}

// Pattern returns the pattern the program was compiled from.
func (p *Program) Pattern() *Pattern { return p.pattern }

const maxSlots = 1 << 20

type obsOp uint8

const (
	opLeaf obsOp = iota
	opAnd
	opOr
	opFollowedBy
	opRepeats
	opWithin
)

// obsNode is the observation-level tree. START/STOP qualifiers are pushed
// into the leaves (they restrict each observation separately); parentheses
// disappear.
type obsNode struct {
	op          obsOp
	left, right *obsNode // right unused for qualifiers; left is the child
	leaf        int
	times       int
	within      time.Duration
	slots       int
}

// leaf is one [ comparison expression ] occurrence.
type leaf struct {
	src   *ObsSimple
	comps []*compiledComp
	tree  *compNode
	types []string // distinct object types, first use first
	// compType maps a comparison index to its index in types.
	compType []int
	// windows are START/STOP intervals the observation must overlap.
	windows []startStop
}

type startStop struct{ start, stop time.Time }

type compNode struct {
	and         bool
	left, right *compNode
	comp        int // index in leaf.comps; -1 for and/or
}

func (n *compNode) eval(res func(int) bool) bool {
	if n.comp >= 0 {
		return res(n.comp)
	}
	if n.and {
		return n.left.eval(res) && n.right.eval(res)
	}
	return n.left.eval(res) || n.right.eval(res)
}

// ErrNotEvaluable is wrapped by Prepare's error for a pattern that is
// valid STIX but that this evaluator cannot run (a regular expression RE2
// refuses, an IN set of mixed types, a date that does not exist).
var ErrNotEvaluable = errors.New("valid STIX, but not evaluable here")

// Prepare parses src with opts and compiles it: the one path by which
// pattern validate, the importers and the scan accept a pattern, so that
// a pattern one of them takes is never dropped by another. A grammar
// error is a *Error; a pattern that parses but does not compile wraps
// ErrNotEvaluable (and its *Error, with the position).
func Prepare(src string, opts ParseOptions) (*Program, error) {
	p, err := ParseWith(src, opts)
	if err != nil {
		return nil, err
	}
	prog, err := Compile(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotEvaluable, err)
	}
	return prog, nil
}

// Compile prepares a pattern for evaluation, checking what the grammar
// cannot: sets of one type, CIDR operands, regexes Go can run, dates that
// exist. Errors are *Error with the position of the offending literal.
func Compile(p *Pattern) (*Program, error) {
	prog := &Program{pattern: p, timeless: true}
	root, err := prog.compileObs(p.Root, nil)
	if err != nil {
		return nil, err
	}
	prog.root = root
	prog.slots = root.slots
	prog.horizon, prog.bounded = prog.computeHorizon()
	prog.stateless = isStateless(p.Root)
	return prog, nil
}

func isStateless(e ObsExpr) bool {
	switch e := e.(type) {
	case *ObsSimple:
		return true
	case *ObsGroup:
		return isStateless(e.Inner)
	case *ObsBinary:
		return e.Op == ObsOr && isStateless(e.Left) && isStateless(e.Right)
	}
	return false
}

func (prog *Program) compileObs(e ObsExpr, windows []startStop) (*obsNode, error) {
	switch e := e.(type) {
	case *ObsSimple:
		lf, err := compileLeaf(e, windows)
		if err != nil {
			return nil, err
		}
		prog.leaves = append(prog.leaves, lf)
		return &obsNode{op: opLeaf, leaf: len(prog.leaves) - 1, slots: 1}, nil
	case *ObsGroup:
		return prog.compileObs(e.Inner, windows)
	case *ObsBinary:
		l, err := prog.compileObs(e.Left, windows)
		if err != nil {
			return nil, err
		}
		r, err := prog.compileObs(e.Right, windows)
		if err != nil {
			return nil, err
		}
		n := &obsNode{left: l, right: r}
		switch e.Op {
		case ObsAnd:
			n.op, n.slots = opAnd, capSlots(l.slots+r.slots)
		case ObsOr:
			n.op, n.slots = opOr, max(l.slots, r.slots)
		case ObsFollowedBy:
			n.op, n.slots = opFollowedBy, capSlots(l.slots+r.slots)
			prog.timeless = false
		}
		return n, nil
	case *ObsQualified:
		q := e.Qual
		switch q.Kind {
		case QualStartStop:
			for _, l := range []Literal{q.Start, q.Stop} {
				if l.TimeErr != "" {
					return nil, l.Pos.errf("timestamp %s cannot be evaluated: %s", l.Text, l.TimeErr)
				}
			}
			w := append(append([]startStop(nil), windows...), startStop{q.Start.Time, q.Stop.Time})
			return prog.compileObs(e.Expr, w)
		case QualRepeats:
			if q.Times.Int < 1 {
				return nil, q.Times.Pos.errf("REPEATS needs a positive count, found %s", q.Times.Text)
			}
			c, err := prog.compileObs(e.Expr, windows)
			if err != nil {
				return nil, err
			}
			n := int(min(q.Times.Int, maxSlots))
			return &obsNode{op: opRepeats, left: c, times: n, slots: capSlots(c.slots * n)}, nil
		case QualWithin:
			secs := q.Seconds.Float
			if q.Seconds.Kind == LitInt {
				secs = float64(q.Seconds.Int)
			}
			if !(secs > 0) {
				return nil, q.Seconds.Pos.errf("WITHIN needs a positive number of seconds, found %s", q.Seconds.Text)
			}
			c, err := prog.compileObs(e.Expr, windows)
			if err != nil {
				return nil, err
			}
			d := time.Duration(math.MaxInt64)
			if secs < float64(math.MaxInt64)/1e9 {
				d = time.Duration(math.Round(secs * 1e9))
			}
			prog.timeless = false
			return &obsNode{op: opWithin, left: c, within: d, slots: c.slots}, nil
		}
	}
	return nil, &Error{Line: 1, Column: 1, Msg: "internal error: unknown observation expression"}
}

func capSlots(n int) int {
	if n > maxSlots || n < 0 {
		return maxSlots
	}
	return n
}

func compileLeaf(e *ObsSimple, windows []startStop) (*leaf, error) {
	lf := &leaf{src: e, windows: windows}
	var build func(c CompExpr) (*compNode, error)
	build = func(c CompExpr) (*compNode, error) {
		switch c := c.(type) {
		case *CompBinary:
			l, err := build(c.Left)
			if err != nil {
				return nil, err
			}
			r, err := build(c.Right)
			if err != nil {
				return nil, err
			}
			return &compNode{and: c.Op == CompAnd, left: l, right: r, comp: -1}, nil
		case *Comparison:
			cc, err := compileComparison(c)
			if err != nil {
				return nil, err
			}
			ti := -1
			for i, t := range lf.types {
				if t == cc.typ {
					ti = i
				}
			}
			if ti < 0 {
				lf.types = append(lf.types, cc.typ)
				ti = len(lf.types) - 1
			}
			lf.comps = append(lf.comps, cc)
			lf.compType = append(lf.compType, ti)
			return &compNode{comp: len(lf.comps) - 1}, nil
		}
		return nil, &Error{Line: 1, Column: 1, Msg: "internal error: unknown comparison expression"}
	}
	tree, err := build(e.Comp)
	if err != nil {
		return nil, err
	}
	lf.tree = tree
	return lf, nil
}

// inWindows reports whether an observation seen from first to last
// overlaps every START/STOP interval of the leaf: some time it may have
// happened at is at or after START and before STOP (last >= START,
// first < STOP), since the specification leaves open when in [first,
// last] it happened.
func (lf *leaf) inWindows(first, last time.Time) bool {
	for _, w := range lf.windows {
		if !w.start.Before(w.stop) || last.Before(w.start) || !first.Before(w.stop) {
			return false
		}
	}
	return true
}

// computeHorizon finds how far back in time an earlier observation can
// still join a later one in a binding: bounded by a WITHIN over the
// stateful parts of the pattern. A single leaf needs no history.
func (prog *Program) computeHorizon() (time.Duration, bool) {
	var walk func(n *obsNode) (time.Duration, bool)
	walk = func(n *obsNode) (time.Duration, bool) {
		switch n.op {
		case opWithin:
			return n.within, true
		case opLeaf:
			return 0, true
		case opOr:
			l, lok := walk(n.left)
			r, rok := walk(n.right)
			return max(l, r), lok && rok
		}
		// AND, FOLLOWEDBY and REPEATS join observations at any distance.
		return 0, false
	}
	return walk(prog.root)
}
