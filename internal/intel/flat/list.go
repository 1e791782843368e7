package flat

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// List reads plain lists: one value per line; blank lines and lines that
// start with #, // or ; are comments; text after white space followed by
// #, // or ; is a trailing comment (kept as the description). Hosts-file
// lines ("0.0.0.0 evil.example") give their host names.
type List struct{}

// Name is the --format name.
func (List) Name() string { return "list" }

// Sniff accepts text whose first lines mostly hold indicators.
func (List) Sniff(head []byte, name string) bool {
	n, ok := 0, 0
	for _, l := range headLines(head) {
		if bytes.IndexByte(l, 0) >= 0 || zeekLogHeader(trimSpace(l)) {
			return false
		}
		v, _ := splitListLine(trimSpace(l))
		if v == nil {
			continue
		}
		n++
		if intel.Detect(string(firstField(v))) != intel.UnknownType {
			ok++
		}
		if n == 20 {
			break
		}
	}
	if n == 0 {
		return false
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".txt", ".lst", ".list", ".ioc", ".iocs":
		return ok > 0
	}
	return ok*2 >= n
}

// Batches bound the lines handed to one worker.
const (
	listBatchLines = 512
	listBatchBytes = 1 << 20
	maxListWorkers = 4
)

// listBatch is a run of consecutive lines: read in order by one goroutine,
// turned into prepared indicators by a worker, sent in order by Import.
type listBatch struct {
	buf   []byte
	lines []listLine
	items []listItem
	err   error // the fatal error that ended the input after these lines
	done  chan struct{}
}

type listLine struct {
	line       int64
	start, end int                // the line in buf
	skipped    *intel.RecordError // a line the reader skipped (too long)
}

// listItem is one result of a batch: a bad record or an indicator.
type listItem struct {
	rerr *intel.RecordError
	p    *prepared
}

// Import reads a plain list. A line that is not an indicator (or not of
// --type) is skipped and reported with its line number. The per-value
// work runs on several goroutines; the sink sees the values in file order,
// from the calling goroutine.
func (List) Import(ctx context.Context, r io.Reader, name string, opt intel.Options, sink intel.Sink) (intel.Stats, error) {
	e, err := newEmitter(ctx, sink, name, opt, "plain")
	if err != nil {
		return intel.Stats{}, err
	}
	workers := min(runtime.GOMAXPROCS(0), maxListWorkers)
	work := make(chan *listBatch)
	ordered := make(chan *listBatch, 2*workers)
	quit := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var raw rawJSON
			for b := range work {
				listWork(e, b, &raw)
				close(b.done)
			}
		}()
	}
	free := make(chan *listBatch, 3*workers+2) // recycled batches: their buffers are reused
	wg.Add(1)
	go func() {
		defer wg.Done()
		readList(newLineSource(ctx, r, name), work, ordered, free, quit)
	}()

	var ferr error
	for b := range ordered {
		if ferr != nil {
			continue // draining after a failure; the batch may never have been worked
		}
		<-b.done
		for _, it := range b.items {
			if it.rerr != nil {
				e.skip(it.rerr)
				continue
			}
			if err := e.send(it.p); err != nil {
				ferr = err
				break
			}
		}
		if ferr == nil {
			ferr = b.err
		}
		if ferr != nil {
			close(quit)
			continue
		}
		clear(b.items)
		b.buf, b.lines, b.items = b.buf[:0], b.lines[:0], b.items[:0]
		select {
		case free <- b:
		default:
		}
	}
	wg.Wait()
	if ferr != nil {
		return e.result(), ferr
	}
	return e.finish()
}

// readList cuts the input into batches (new, or recycled from free) and
// hands each to ordered (for the sender) and then to work (for a worker),
// until the input ends, fails, or quit is closed.
func readList(src *lineSource, work, ordered chan<- *listBatch, free <-chan *listBatch, quit <-chan struct{}) {
	defer close(ordered)
	defer close(work)
	next := func() *listBatch {
		select {
		case b := <-free:
			b.done = make(chan struct{})
			return b
		default:
			return &listBatch{done: make(chan struct{}), buf: make([]byte, 0, 32<<10),
				lines: make([]listLine, 0, listBatchLines+1), items: make([]listItem, 0, listBatchLines+16)}
		}
	}
	b := next()
	flush := func() bool {
		select {
		case ordered <- b:
		case <-quit:
			return false
		}
		select {
		case work <- b:
		case <-quit:
			return false
		}
		b = next()
		return true
	}
	skip := func(re *intel.RecordError) { b.lines = append(b.lines, listLine{line: re.Line, skipped: re}) }
	for {
		line, err := src.next(skip)
		if err != nil {
			if err != io.EOF {
				b.err = err
			}
			flush()
			return
		}
		start := len(b.buf)
		b.buf = append(b.buf, line...)
		b.lines = append(b.lines, listLine{line: src.line(), start: start, end: len(b.buf)})
		if len(b.lines) >= listBatchLines || len(b.buf) >= listBatchBytes {
			if !flush() {
				return
			}
		}
	}
}

// listWork turns a batch's lines into items. It reads only the emitter's
// fixed settings.
func listWork(e *emitter, b *listBatch, raw *rawJSON) {
	for _, l := range b.lines {
		if l.skipped != nil {
			b.items = append(b.items, listItem{rerr: l.skipped})
			continue
		}
		value, comment := splitListLine(trimSpace(b.buf[l.start:l.end]))
		if value == nil {
			continue
		}
		if !validText(value) {
			b.items = append(b.items, listItem{rerr: &intel.RecordError{File: e.name, Line: l.line, Err: errors.New("not valid UTF-8 text")}})
			continue
		}
		b.items = listValue(e, l.line, raw, value, comment, b.items)
	}
}

// listValue handles the value part of one line.
func listValue(e *emitter, line int64, raw *rawJSON, value, comment []byte, items []listItem) []listItem {
	given := string(value)
	if !bytes.ContainsAny(value, " \t") {
		return listValues(e, line, raw, given, comment, items, given)
	}
	// "evil [.] example" is one defanged value; otherwise the first field
	// is the value and the rest describes it, except in a hosts file, where
	// the names follow the address.
	s := intel.Refang(given)
	f := strings.Fields(s)
	switch {
	case len(f) == 1:
		return listValues(e, line, raw, given, comment, items, f[0])
	case isHostsAddr(f[0]):
		return listValues(e, line, raw, given, comment, items, f[1:]...)
	}
	if len(comment) == 0 {
		comment = []byte(strings.TrimSpace(s[strings.Index(s, f[0])+len(f[0]):]))
	}
	return listValues(e, line, raw, given, comment, items, f[0])
}

// listValues prepares the values of one line; given is the line's value
// part as written, for Raw.
func listValues(e *emitter, line int64, raw *rawJSON, given string, comment []byte, items []listItem, values ...string) []listItem {
	desc := ""
	if len(comment) > 0 {
		desc = strings.ToValidUTF8(string(comment), "\uFFFD")
	}
	raw.beginObject()
	raw.field("value", given)
	if desc != "" {
		raw.field("comment", desc)
	}
	rawMsg := raw.endObject()
	for _, v := range values {
		t, n, err := normalize(e.forced, v)
		if err != nil {
			items = append(items, listItem{rerr: &intel.RecordError{File: e.name, Line: line, Err: err}})
			continue
		}
		items = append(items, listItem{p: e.prepare(&record{line: line, typ: t, value: n, desc: desc, confidence: -1, raw: rawMsg})})
	}
	return items
}

// isHostsAddr reports the sink-hole addresses hosts-file block lists start
// their lines with.
func isHostsAddr(s string) bool {
	switch s {
	case "0.0.0.0", "127.0.0.1", "::", "::1", "0":
		return true
	}
	return false
}

// splitListLine separates a trimmed line into its value and trailing
// comment; value is nil for blank and comment lines.
func splitListLine(l []byte) (value, comment []byte) {
	if len(l) == 0 || l[0] == '#' || l[0] == ';' || bytes.HasPrefix(l, []byte("//")) {
		return nil, nil
	}
	for i := 1; i < len(l); i++ {
		if !isSpace(l[i-1]) {
			continue
		}
		switch c := l[i]; {
		case c == '#' || c == ';' || c == '/' && i+1 < len(l) && l[i+1] == '/':
			j := i + 1
			if c == '/' {
				j++
			}
			return trimSpace(l[:i]), trimSpace(l[j:])
		}
	}
	return l, nil
}

// firstField is the text before the first white space.
func firstField(b []byte) []byte {
	if i := bytes.IndexAny(b, " \t"); i >= 0 {
		return b[:i]
	}
	return b
}
