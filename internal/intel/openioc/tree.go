package openioc

import (
	"fmt"
	"strings"
)

// node is one Indicator (operator AND/OR) or IndicatorItem of the logic.
type node struct {
	op       string // "AND" or "OR"; "" for an item
	id       string
	line     int
	children []*node
	it       *item
}

// item is one IndicatorItem condition.
type item struct {
	condition    string // is, contains, matches, starts-with, ends-with, greater-than, less-than
	negate       bool
	preserveCase bool
	document     string
	search       string
	contextType  string
	contentType  string
	content      string
	origCond     string // the condition as written (isnot, containsnot, …)

	term    netTerm
	network bool
}

// treeError is one part of the logic that cannot be read, at a line.
type treeError struct {
	line int
	err  error
}

// builder turns Indicator elements into nodes, collecting what it skips.
type builder struct {
	errs []treeError
}

func (b *builder) fail(line int, format string, args ...any) {
	b.errs = append(b.errs, treeError{line: line, err: fmt.Errorf(format, args...)})
}

// indicator reads an Indicator element. It returns nil when nothing of it
// is usable: an AND that lost a condition cannot be proven, so it goes
// whole; an OR keeps its readable branches (which only narrows it).
func (b *builder) indicator(el *element) *node {
	n := &node{op: strings.ToUpper(strings.TrimSpace(el.attr("operator"))), id: el.attr("id"), line: el.line}
	if n.op != "AND" && n.op != "OR" {
		b.fail(el.line, "Indicator %s: operator %q is neither AND nor OR; skipped", n.id, el.attr("operator"))
		return nil
	}
	lost := false
	for _, c := range el.children {
		var cn *node
		switch c.name {
		case "Indicator":
			cn = b.indicator(c)
		case "IndicatorItem":
			cn = b.item(c)
		default:
			continue
		}
		if cn == nil {
			lost = true
			continue
		}
		n.children = append(n.children, cn)
	}
	if n.op == "AND" && lost {
		b.fail(el.line, "Indicator %s (AND) skipped: one of its conditions cannot be read", n.id)
		return nil
	}
	if len(n.children) == 0 {
		if !lost {
			b.fail(el.line, "Indicator %s has no conditions; skipped", n.id)
		}
		return nil
	}
	return n
}

var conditions = map[string]struct {
	cond   string
	negate bool
}{
	"is": {"is", false}, "isnot": {"is", true},
	"contains": {"contains", false}, "containsnot": {"contains", true},
	"matches":     {"matches", false},
	"starts-with": {"starts-with", false}, "begins-with": {"starts-with", false},
	"ends-with":    {"ends-with", false},
	"greater-than": {"greater-than", false}, "less-than": {"less-than", false},
}

func (b *builder) item(el *element) *node {
	id := el.attr("id")
	ctx, content := el.child("Context"), el.child("Content")
	if ctx == nil || content == nil {
		b.fail(el.line, "IndicatorItem %s: no Context or Content; skipped", id)
		return nil
	}
	c, ok := conditions[strings.ToLower(strings.TrimSpace(el.attr("condition")))]
	if !ok {
		b.fail(el.line, "IndicatorItem %s: unknown condition %q; skipped", id, el.attr("condition"))
		return nil
	}
	it := &item{
		condition:    c.cond,
		negate:       c.negate != isTrue(el.attr("negate")),
		preserveCase: isTrue(el.attr("preserve-case")),
		document:     ctx.attr("document"),
		search:       strings.TrimSpace(ctx.attr("search")),
		contextType:  ctx.attr("type"),
		contentType:  content.attr("type"),
		content:      content.textTrim(),
		origCond:     el.attr("condition"),
	}
	var known bool
	it.term, it.network, known = classify(it.search)
	if !known {
		b.fail(el.line, "IndicatorItem %s: unknown term %q; skipped", id, it.search)
		return nil
	}
	if it.content == "" {
		b.fail(el.line, "IndicatorItem %s: empty Content for %s; skipped", id, it.search)
		return nil
	}
	return &node{id: id, line: el.line, it: it}
}

func isTrue(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	return s == "true" || s == "1"
}

// disjuncts splits a node into the parts of its top-level OR: each part
// alone proves the whole, so each becomes its own indicator.
func disjuncts(n *node, out []*node) []*node {
	if n.op == "OR" {
		for _, c := range n.children {
			out = disjuncts(c, out)
		}
		return out
	}
	return append(out, n)
}

// prune keeps what network telemetry can evaluate: a host-only branch of an
// OR is dropped (the rest still proves the OR), an AND with a host-only
// condition is dropped whole (network data cannot prove it). It returns nil
// when nothing is left, and whether anything was dropped.
func prune(n *node) (*node, bool) {
	if n.it != nil {
		if n.it.network {
			return n, false
		}
		return nil, true
	}
	out := &node{op: n.op, id: n.id, line: n.line}
	dropped := false
	for _, c := range n.children {
		pc, d := prune(c)
		dropped = dropped || d
		if pc == nil {
			if n.op == "AND" {
				return nil, true
			}
			continue
		}
		out.children = append(out.children, pc)
	}
	if len(out.children) == 0 {
		return nil, true
	}
	if len(out.children) == 1 {
		return out.children[0], dropped
	}
	return out, dropped
}

// count adds the network and host-only conditions under n.
func count(n *node, network, host *int) {
	if n.it != nil {
		if n.it.network {
			*network++
		} else {
			*host++
		}
		return
	}
	for _, c := range n.children {
		count(c, network, host)
	}
}

// text renders the logic readably, in OpenIOC's own words:
// (FileItem/FileName is 'a.exe' AND FileItem/SizeInBytes is '75264').
func text(n *node) string {
	var sb strings.Builder
	writeText(&sb, n, true)
	return sb.String()
}

func writeText(sb *strings.Builder, n *node, top bool) {
	if n.it != nil {
		it := n.it
		sb.WriteString(it.search)
		sb.WriteByte(' ')
		if it.negate {
			sb.WriteString("not ")
		}
		sb.WriteString(it.condition)
		sb.WriteString(" '")
		sb.WriteString(strings.ReplaceAll(it.content, "'", `\'`))
		sb.WriteByte('\'')
		return
	}
	if !top {
		sb.WriteByte('(')
	}
	for i, c := range n.children {
		if i > 0 {
			sb.WriteString(" " + n.op + " ")
		}
		writeText(sb, c, false)
	}
	if !top {
		sb.WriteByte(')')
	}
}

// jsonNode is the logic as kept verbatim in Object.Raw.
type jsonNode struct {
	Operator     string      `json:"operator,omitempty"`
	ID           string      `json:"id,omitempty"`
	Children     []*jsonNode `json:"children,omitempty"`
	Condition    string      `json:"condition,omitempty"`
	Negate       bool        `json:"negate,omitempty"`
	PreserveCase bool        `json:"preserve_case,omitempty"`
	Document     string      `json:"document,omitempty"`
	Search       string      `json:"search,omitempty"`
	ContextType  string      `json:"context_type,omitempty"`
	ContentType  string      `json:"content_type,omitempty"`
	Content      *string     `json:"content,omitempty"`
	HostOnly     bool        `json:"host_only,omitempty"`
}

func toJSON(n *node) *jsonNode {
	if n.it != nil {
		it := n.it
		c := it.content
		return &jsonNode{ID: n.id, Condition: it.origCond, Negate: it.negate && !strings.HasSuffix(strings.ToLower(it.origCond), "not"),
			PreserveCase: it.preserveCase, Document: it.document, Search: it.search, ContextType: it.contextType,
			ContentType: it.contentType, Content: &c, HostOnly: !it.network}
	}
	j := &jsonNode{Operator: n.op, ID: n.id}
	for _, c := range n.children {
		j.Children = append(j.Children, toJSON(c))
	}
	return j
}

// rawNode is an Indicator or IndicatorItem element exactly as written,
// unknown terms included: the document's logic as its author gave it.
type rawNode struct {
	Element  string            `json:"element"`
	Attrs    map[string]string `json:"attributes,omitempty"`
	Context  map[string]string `json:"context,omitempty"`
	Content  *rawContent       `json:"content,omitempty"`
	Children []*rawNode        `json:"children,omitempty"`
	Line     int               `json:"line"`
}

type rawContent struct {
	Type  string `json:"type,omitempty"`
	Value string `json:"value"`
}

func rawTree(el *element) *rawNode {
	n := &rawNode{Element: el.name, Attrs: el.attrs, Line: el.line}
	for _, c := range el.children {
		switch c.name {
		case "Indicator", "IndicatorItem":
			n.Children = append(n.Children, rawTree(c))
		case "Context":
			n.Context = c.attrs
		case "Content":
			n.Content = &rawContent{Type: c.attr("type"), Value: c.text.String()}
		}
	}
	return n
}
