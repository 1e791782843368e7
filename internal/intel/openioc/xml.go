package openioc

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/encoding/charmap"
)

// element is one XML element of the document, with the line it starts on.
type element struct {
	space, name string
	attrs       map[string]string // by local name; namespace declarations left out
	text        strings.Builder
	children    []*element
	line        int
}

func (e *element) attr(name string) string { return e.attrs[name] }

// child returns the first child element with the local name.
func (e *element) child(name string) *element {
	for _, c := range e.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (e *element) textTrim() string { return strings.TrimSpace(e.text.String()) }

// ErrDTD is returned for a document with a DOCTYPE: OpenIOC has none, and
// a DOCTYPE is how entity-expansion ("billion laughs") and external-entity
// attacks begin.
var ErrDTD = errors.New("DOCTYPE declarations are not allowed (entity expansion risk)")

// ErrTooLarge is returned when a document exceeds the size limit.
var ErrTooLarge = errors.New("document exceeds the size limit")

// ErrTooDeep is returned when elements nest deeper than the depth limit.
var ErrTooDeep = errors.New("elements nest deeper than the depth limit")

type limitReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n >= l.max {
		// Look one byte further: a document of exactly max bytes is fine.
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n == 0 {
			return 0, io.EOF
		}
		return 0, fmt.Errorf("%w of %d bytes", ErrTooLarge, l.max)
	}
	if rem := l.max - l.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

// charsetReader accepts the encodings OpenIOC tools write besides UTF-8.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "latin1", "latin-1", "iso8859-1":
		return charmap.ISO8859_1.NewDecoder().Reader(in), nil
	case "windows-1252", "cp1252":
		return charmap.Windows1252.NewDecoder().Reader(in), nil
	}
	return nil, fmt.Errorf("unsupported encoding %q (UTF-8, ISO-8859-1 and windows-1252 are read)", label)
}

// parseXML reads a whole document into a tree of elements. It never expands
// entities (encoding/xml knows only the five predefined ones and character
// references, and a DOCTYPE is refused outright), and bounds the input size
// and the nesting depth.
func parseXML(r io.Reader, maxBytes int64, maxDepth int) (*element, error) {
	// UTF-16 would need a BOM-aware transcoder; say so instead of failing obscurely.
	br := &peekReader{r: r}
	if head := br.peek(2); bytes.Equal(head, []byte{0xff, 0xfe}) || bytes.Equal(head, []byte{0xfe, 0xff}) {
		return nil, errors.New("UTF-16 documents are not supported: convert to UTF-8")
	}
	d := xml.NewDecoder(&limitReader{r: br, max: maxBytes})
	d.Strict = true
	d.CharsetReader = charsetReader
	var stack []*element
	var root *element
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			line, _ := d.InputPos()
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, fmt.Errorf("line %d: malformed XML: %s", se.Line, se.Msg)
			}
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			line, _ := d.InputPos()
			if len(stack) >= maxDepth {
				return nil, fmt.Errorf("line %d: %w (%d)", line, ErrTooDeep, maxDepth)
			}
			el := &element{space: t.Name.Space, name: t.Name.Local, attrs: make(map[string]string, len(t.Attr)), line: line}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
					continue
				}
				if _, dup := el.attrs[a.Name.Local]; !dup {
					el.attrs[a.Name.Local] = a.Value
				}
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, fmt.Errorf("line %d: a second root element <%s>", line, t.Name.Local)
				}
				root = el
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, el)
			}
			stack = append(stack, el)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		case xml.Directive:
			line, _ := d.InputPos()
			if bytes.HasPrefix(bytes.TrimSpace(t), []byte("DOCTYPE")) {
				return nil, fmt.Errorf("line %d: %w", line, ErrDTD)
			}
			return nil, fmt.Errorf("line %d: unexpected <!%s> declaration", line, firstWord(t))
		}
	}
	if root == nil {
		return nil, errors.New("no XML element found")
	}
	return root, nil
}

func firstWord(b []byte) string {
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	if len(f[0]) > 20 {
		return f[0][:20]
	}
	return f[0]
}

// peekReader lets parseXML look at the first bytes without losing them.
type peekReader struct {
	r   io.Reader
	buf []byte
}

func (p *peekReader) peek(n int) []byte {
	for len(p.buf) < n {
		b := make([]byte, n-len(p.buf))
		m, err := p.r.Read(b)
		p.buf = append(p.buf, b[:m]...)
		if err != nil || m == 0 {
			break
		}
	}
	if len(p.buf) < n {
		return p.buf
	}
	return p.buf[:n]
}

func (p *peekReader) Read(b []byte) (int, error) {
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	return p.r.Read(b)
}
