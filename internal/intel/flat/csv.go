package flat

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// CSV reads delimited files of indicators (comma, semicolon, tab or pipe,
// chosen from the first data line), with or without a header row. A header
// may also be the last # comment before the data (as abuse.ch writes it).
type CSV struct{}

// Name is the --format name.
func (CSV) Name() string { return "csv" }

// Sniff accepts a recognised header row, or lines with the same non-zero
// number of delimiters, or a .csv/.tsv name.
func (CSV) Sniff(head []byte, name string) bool {
	var data [][]byte
	var comment []byte
	for _, l := range headLines(head) {
		t := trimSpace(l)
		if len(t) == 0 {
			continue
		}
		if zeekLogHeader(t) {
			return false // a Zeek log's header: telemetry, not a feed
		}
		if t[0] == '#' {
			if len(data) == 0 {
				comment = t[1:]
			}
			continue
		}
		data = append(data, t)
		if len(data) == 20 {
			break
		}
	}
	if len(data) == 0 {
		return false
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv", ".tsv":
		return true
	}
	d := chooseDelim(data[0])
	n0 := countDelim(data[0], d)
	if n0 == 0 {
		return false
	}
	first := splitLine(data[0], d)
	if isHeader(first) {
		return true
	}
	if comment != nil {
		if h := splitLine(trimSpace(comment), d); len(h) == len(first) && isHeader(h) {
			return true
		}
	}
	if len(data) == 1 {
		return anyIndicator(first)
	}
	for _, l := range data[1:] {
		if countDelim(l, d) != n0 {
			return false
		}
	}
	return true
}

// zeekLogHeader reports whether line is one of the header lines only a
// Zeek log (not a Zeek intel file, which ZeekIntel takes) starts with.
func zeekLogHeader(line []byte) bool {
	return bytes.HasPrefix(line, []byte("#separator ")) || bytes.HasPrefix(line, []byte("#path\t")) ||
		bytes.HasPrefix(line, []byte("#open\t"))
}

// Column roles.
type role uint8

const (
	roleIgnore     role = iota
	roleValue           // an indicator of any type (type column, --type or detection)
	roleTyped           // an indicator of the column's own type
	roleType            // the type of the row's value
	roleDesc            // description
	roleSource          // who reported it
	roleFirstSeen       // valid_from / created
	roleLastSeen        // modified
	roleValidUntil      // valid_until
	roleConfidence      // 0-100
	roleTags            // labels, several per cell
	roleLabel           // one label (malware family, threat type)
	roleRef             // reference URL
	rolePort            // port of an IP value
	roleToIDs           // MISP to_ids: 0 means context only
)

type column struct {
	role role
	typ  intel.ValueType // for roleTyped
}

// columnRoles maps header names, lower-cased with everything but letters
// and digits removed, to roles.
var columnRoles = map[string]column{}

func init() {
	add := func(r role, t intel.ValueType, names ...string) {
		for _, n := range names {
			columnRoles[n] = column{r, t}
		}
	}
	add(roleValue, "", "indicator", "indicatorvalue", "value", "ioc", "iocvalue", "observable", "observablevalue",
		"artifact", "artefact", "hash", "filehash", "hashvalue", "host", "hostname", "attributevalue", "entity")
	add(roleTyped, intel.IPv4, "ip", "ipaddress", "ipaddr", "ipv4", "ipv6", "address", "addr", "dstip", "srcip",
		"destip", "destinationip", "sourceip", "ipdst", "ipsrc")
	add(roleTyped, intel.CIDR, "cidr", "subnet", "network", "netblock", "prefix", "iprange")
	add(roleTyped, intel.Domain, "domain", "domainname", "fqdn")
	add(roleTyped, intel.URL, "url", "urls")
	add(roleTyped, intel.MD5, "md5", "md5hash", "md5sum")
	add(roleTyped, intel.SHA1, "sha1", "sha1hash", "sha1sum")
	add(roleTyped, intel.SHA256, "sha256", "sha256hash", "sha256sum")
	add(roleTyped, intel.SHA512, "sha512", "sha512hash")
	add(roleTyped, intel.Email, "email", "emailaddress", "mail", "sender")
	add(roleTyped, intel.JA3, "ja3", "ja3hash", "ja3md5", "ja3fingerprint")
	add(roleTyped, intel.JA3S, "ja3s", "ja3shash")
	add(roleTyped, intel.UserAgent, "useragent")
	add(roleType, "", "type", "indicatortype", "ioctype", "valuetype", "attributetype", "observabletype", "kind")
	add(roleDesc, "", "description", "desc", "comment", "comments", "note", "notes", "info", "details", "context")
	add(roleSource, "", "source", "feed", "reporter", "provider", "sourcename", "origin")
	add(roleFirstSeen, "", "firstseen", "firstseenutc", "dateadded", "added", "created", "createdat", "date",
		"datetime", "timestamp", "time", "validfrom")
	add(roleLastSeen, "", "lastseen", "lastseenutc", "lastonline", "modified", "updated", "lastupdated")
	add(roleValidUntil, "", "validuntil", "expires", "expiration")
	add(roleConfidence, "", "confidence", "confidencelevel", "confidencescore", "score")
	add(roleTags, "", "tags", "tag", "labels", "attributetag")
	add(roleLabel, "", "label", "threat", "threattype", "malware", "malwarefamily", "family", "malwareprintable", "signature")
	add(roleRef, "", "reference", "references", "ref", "link", "urlhauslink", "externalreference", "reporturl")
	add(rolePort, "", "port", "dstport", "destport", "destinationport")
	add(roleToIDs, "", "toids")
}

func columnKey(name string) string {
	b := make([]byte, 0, len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b = append(b, c)
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		}
	}
	return string(b)
}

// isHeader reports whether fields name known columns and hold no indicator.
func isHeader(fields []string) bool {
	known := false
	for _, f := range fields {
		if _, ok := columnRoles[columnKey(f)]; ok {
			known = true
		}
	}
	return known && !anyIndicator(fields)
}

func anyIndicator(fields []string) bool {
	for _, f := range fields {
		if intel.Detect(f) != intel.UnknownType {
			return true
		}
	}
	return false
}

var delims = []byte{',', '\t', ';', '|'}

// chooseDelim picks the candidate delimiter seen most often outside quotes.
func chooseDelim(line []byte) byte {
	best, n := byte(','), 0
	for _, d := range delims {
		if c := countDelim(line, d); c > n {
			best, n = d, c
		}
	}
	return best
}

func countDelim(line []byte, d byte) int {
	n, quoted := 0, false
	for _, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case c == d && !quoted:
			n++
		}
	}
	return n
}

// splitLine splits one complete line (sniffing, comment headers).
func splitLine(line []byte, d byte) []string {
	var sp csvSplitter
	sp.reset(d)
	sp.feed(line)
	return sp.fields()
}

// csvSplitter splits records as encoding/csv does with LazyQuotes (a quote
// inside a field is literal unless it closes a quoted field before a
// delimiter or the line end), but line by line, so that a record's size is
// bounded by the caller and a huge line never reaches it.
type csvSplitter struct {
	delim   byte
	buf     []byte
	ends    []int
	state   uint8
	size    int  // bytes of the record so far
	discard bool // over the size bound: parse to the record's end, keep nothing
}

const (
	stStart uint8 = iota
	stUnquoted
	stQuoted
)

func (s *csvSplitter) reset(d byte) {
	s.delim, s.buf, s.ends, s.state, s.size, s.discard = d, s.buf[:0], s.ends[:0], stStart, 0, false
}

func (s *csvSplitter) add(c byte) {
	if !s.discard {
		s.buf = append(s.buf, c)
	}
}

func (s *csvSplitter) endField() {
	if !s.discard {
		s.ends = append(s.ends, len(s.buf))
	}
	s.state = stStart
}

// feed parses one physical line and reports whether the record is complete
// (false while a quoted field continues on the next line).
func (s *csvSplitter) feed(line []byte) bool {
	if s.size += len(line) + 1; s.size > MaxLineBytes {
		s.discard = true
	}
	if s.state == stQuoted {
		s.add('\n')
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch s.state {
		case stStart:
			switch {
			case c == '"':
				s.state = stQuoted
			case c == s.delim:
				s.endField()
			case c == ' ' || c == '\t':
				// leading space before a quote or a value
			default:
				s.add(c)
				s.state = stUnquoted
			}
		case stUnquoted:
			if c == s.delim {
				s.endField()
			} else {
				s.add(c)
			}
		case stQuoted:
			if c != '"' {
				s.add(c)
				continue
			}
			if i+1 < len(line) && line[i+1] == '"' {
				s.add('"')
				i++
				continue
			}
			j := i + 1
			for j < len(line) && (line[j] == ' ' || line[j] == '\t') && line[j] != s.delim {
				j++
			}
			switch {
			case j == len(line):
				s.state = stUnquoted // closed at the line end
				i = j
			case line[j] == s.delim:
				s.endField()
				i = j
			default:
				s.add('"') // a stray quote is literal (LazyQuotes)
			}
		}
	}
	if s.state == stQuoted {
		return false
	}
	s.endField()
	return true
}

// fields returns the record's fields, trimmed.
func (s *csvSplitter) fields() []string {
	all := string(s.buf)
	out := make([]string, len(s.ends))
	start := 0
	for i, end := range s.ends {
		out[i] = strings.TrimSpace(all[start:end])
		start = end
	}
	return out
}

// csvFile is the per-file state of a CSV import.
type csvFile struct {
	e           *emitter
	delim       byte
	started     bool // delimiter chosen, header decided
	header      []string
	keys        []string // Raw keys, unique
	cols        []column
	hasValue    bool // the header names at least one value column
	fixedCol    int  // headerless: the column holding the value, -1 until found
	lastComment []byte
	raw         rawJSON
	sp          csvSplitter
}

// Import reads a CSV file. A record that holds no usable value is skipped
// and reported with its line; the file fails on binary data or read errors.
func (CSV) Import(ctx context.Context, r io.Reader, name string, opt intel.Options, sink intel.Sink) (intel.Stats, error) {
	e, err := newEmitter(ctx, sink, name, opt, "plain")
	if err != nil {
		return intel.Stats{}, err
	}
	f := &csvFile{e: e, fixedCol: -1}
	rd := &csvLines{src: newLineSource(ctx, r, name), skip: e.skip, name: name}
	for {
		fields, line, err := f.nextRecord(rd)
		if err == io.EOF {
			break
		}
		if err != nil {
			return e.result(), err
		}
		if err := f.record(fields, line); err != nil {
			return e.result(), err
		}
	}
	return e.finish()
}

// nextRecord assembles the next record from physical lines and returns its
// fields and first line; io.EOF at the end. A record too long, or with a
// quote never closed, is skipped and reported here.
func (f *csvFile) nextRecord(rd *csvLines) ([]string, int64, error) {
	sp := &f.sp
	pending, recLine := false, int64(0)
	for {
		line, n, err := rd.next()
		if err == io.EOF && pending {
			rd.badQuote(recLine, "the file ends first")
			pending = false
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		if pending {
			rd.hold(line, n)
		} else {
			t := trimSpace(line)
			if len(t) == 0 {
				continue
			}
			if t[0] == '#' {
				if !f.started {
					f.lastComment = append(f.lastComment[:0], t[1:]...)
				}
				continue
			}
			if !f.started {
				f.delim = chooseDelim(line)
			}
			sp.reset(f.delim)
			pending, recLine = true, n
		}
		if !sp.feed(line) {
			if len(rd.held) >= maxQuotedLines || sp.size > MaxLineBytes {
				rd.badQuote(recLine, fmt.Sprintf("not within %d lines or %d bytes", maxQuotedLines, MaxLineBytes))
				pending = false
			}
			continue
		}
		pending, rd.held = false, rd.held[:0]
		if sp.discard {
			rd.skip(&intel.RecordError{File: rd.name, Line: recLine,
				Err: fmt.Errorf("record longer than %d bytes, skipped", MaxLineBytes)})
			continue
		}
		return sp.fields(), recLine, nil
	}
}

// maxQuotedLines bounds how many lines one quoted field may span. A quote
// opened by mistake would otherwise swallow the rest of the file as one
// bad record.
const maxQuotedLines = 256

// csvLines gives the physical lines of a CSV file with their numbers. The
// lines after the first of a record whose quote never closes are given
// again, so that reading resumes on the line after the stray quote.
type csvLines struct {
	src    *lineSource
	skip   func(*intel.RecordError)
	name   string
	held   []numberedLine // the lines after the first of the open record
	replay []numberedLine // lines to give again before reading on
}

type numberedLine struct {
	text []byte
	n    int64
}

func (c *csvLines) next() ([]byte, int64, error) {
	if len(c.replay) > 0 {
		l := c.replay[0]
		c.replay = c.replay[1:]
		return l.text, l.n, nil
	}
	line, err := c.src.next(c.skip)
	return line, c.src.line(), err
}

// hold keeps a line of the open record (a copy: the reader reuses its own).
func (c *csvLines) hold(line []byte, n int64) {
	c.held = append(c.held, numberedLine{text: append([]byte(nil), line...), n: n})
}

// badQuote reports the open record, which began on line, as a bad record
// and gives its later lines again.
func (c *csvLines) badQuote(line int64, why string) {
	c.skip(&intel.RecordError{File: c.name, Line: line,
		Err: fmt.Errorf("quoted field opened on this line is not closed (%s): record skipped, reading resumes on the next line", why)})
	c.replay = append(c.held, c.replay...)
	c.held = nil
}

// record handles one record: the header decision for the first, an
// indicator row for the others. Only sink errors are returned.
func (f *csvFile) record(fields []string, line int64) error {
	if !f.started {
		f.started = true
		if isHeader(fields) {
			f.setHeader(fields)
			return nil
		}
		if f.lastComment != nil {
			if h := splitLine(trimSpace(f.lastComment), f.delim); len(h) == len(fields) && isHeader(h) {
				f.setHeader(h)
			}
		}
	}
	if f.hasValue {
		return f.headerRow(fields, line)
	}
	return f.plainRow(fields, line)
}

func (f *csvFile) setHeader(h []string) {
	f.header = h
	f.cols = make([]column, len(h))
	f.keys = make([]string, len(h))
	used := map[string]int{}
	for i, name := range h {
		f.cols[i] = columnRoles[columnKey(name)]
		if f.cols[i].role == roleValue || f.cols[i].role == roleTyped {
			f.hasValue = true
		}
		key := strings.ToValidUTF8(name, "\uFFFD")
		if key == "" {
			key = "column " + strconv.Itoa(i+1)
		}
		if used[key]++; used[key] > 1 {
			key += "#" + strconv.Itoa(used[key])
		}
		f.keys[i] = key
	}
}

func (f *csvFile) skip(line int64, format string, args ...any) {
	f.e.skip(&intel.RecordError{File: f.e.name, Line: line, Err: fmt.Errorf(format, args...)})
}

// rawRow renders the row for Object.Raw.
func (f *csvFile) rawRow(fields []string) []byte {
	if f.header == nil {
		f.raw.beginArray()
		for _, v := range fields {
			f.raw.elem(v)
		}
		return f.raw.endArray()
	}
	f.raw.beginObject()
	for i, v := range fields {
		key := "column " + strconv.Itoa(i+1)
		if i < len(f.keys) {
			key = f.keys[i]
		}
		f.raw.field(key, v)
	}
	return f.raw.endObject()
}

// plainRow reads a row without a usable header: the value is in the first
// column that holds an indicator in the first such row.
func (f *csvFile) plainRow(fields []string, line int64) error {
	if f.fixedCol < 0 {
		for i, v := range fields {
			if _, _, err := normalize(f.e.forced, v); err == nil && v != "" {
				f.fixedCol = i
				break
			}
		}
		if f.fixedCol < 0 {
			f.skip(line, "no column holds an indicator")
			return nil
		}
	}
	if f.fixedCol >= len(fields) || fields[f.fixedCol] == "" {
		f.skip(line, "column %d is empty", f.fixedCol+1)
		return nil
	}
	t, v, err := normalize(f.e.forced, fields[f.fixedCol])
	if err != nil {
		f.skip(line, "column %d: %v", f.fixedCol+1, err)
		return nil
	}
	return f.e.emit(&record{line: line, typ: t, value: v, confidence: -1, raw: f.rawRow(fields)})
}

// headerRow reads a row by its header: context columns first, then one
// indicator per non-empty value column.
func (f *csvFile) headerRow(fields []string, line int64) error {
	base := record{line: line, confidence: -1}
	var rowType string
	var refs []string
	port := 0
	for i, v := range fields {
		if i >= len(f.cols) || emptyCell(v) {
			continue
		}
		switch f.cols[i].role {
		case roleType:
			rowType = v
		case roleDesc:
			if base.desc == "" {
				base.desc = strings.ToValidUTF8(v, "\uFFFD")
			}
		case roleSource:
			if base.source == "" {
				base.source = strings.ToValidUTF8(v, "\uFFFD")
			}
		case roleFirstSeen:
			if t, ok := parseTime(v); ok && base.validFrom.IsZero() {
				base.validFrom = t
			}
		case roleLastSeen:
			if t, ok := parseTime(v); ok {
				base.modified = t
			}
		case roleValidUntil:
			if t, ok := parseTime(v); ok {
				base.validUntil = t
			}
		case roleConfidence:
			if c, ok := parseConfidence(v); ok {
				base.confidence = c
			}
		case roleTags:
			base.labels = appendTags(base.labels, v)
		case roleLabel:
			base.labels = append(base.labels, strings.ToValidUTF8(v, "\uFFFD"))
		case roleRef:
			refs = append(refs, strings.ToValidUTF8(v, "\uFFFD"))
		case rolePort:
			if p, err := strconv.ParseUint(v, 10, 16); err == nil {
				port = int(p)
			}
		case roleToIDs:
			switch strings.ToLower(v) {
			case "0", "false", "f", "no", "n":
				base.context = true
			}
		}
	}
	for _, ref := range refs {
		name := base.source
		if name == "" {
			name = "reference"
		}
		if strings.Contains(ref, "://") {
			base.refs = append(base.refs, intel.ExternalRef{SourceName: name, URL: ref})
		} else {
			base.refs = append(base.refs, intel.ExternalRef{SourceName: name, ExternalID: ref})
		}
	}
	var raw []byte
	found := false
	for i, c := range f.cols {
		if c.role != roleValue && c.role != roleTyped || i >= len(fields) || emptyCell(fields[i]) {
			continue
		}
		found = true
		if raw == nil {
			raw = f.rawRow(fields)
		}
		recs, err := f.values(c, fields[i], rowType, port)
		if err != nil {
			f.skip(line, "column %q: %v", f.header[i], err)
			continue
		}
		for _, rv := range recs {
			rec := base
			rec.typ, rec.value, rec.port, rec.raw = rv.typ, rv.value, rv.port, raw
			if err := f.e.emit(&rec); err != nil {
				return err
			}
		}
	}
	if !found {
		f.skip(line, "no value in any indicator column")
	}
	return nil
}

type typedValue struct {
	typ   intel.ValueType
	value string
	port  int
}

// values reads the cell of a value column. The type comes from the column
// name (md5, domain …), else --type, else the row's type column (which may
// be composite as MISP writes it: ip-dst|port, domain|ip, filename|md5, or
// ip:port as ThreatFox writes it), else detection.
func (f *csvFile) values(c column, v, rowType string, port int) ([]typedValue, error) {
	t := c.typ
	if c.role == roleValue {
		t = f.e.forced
		if t == intel.UnknownType && rowType != "" {
			rt := strings.ToLower(strings.TrimSpace(rowType))
			switch {
			case rt == "ip:port" || rt == "ip_port" || rt == "ip-port" || rt == "ipport":
				host, p, err := net.SplitHostPort(v)
				if err != nil {
					return nil, fmt.Errorf("type %s: %q is not host:port", rowType, clip(v))
				}
				pn, err := strconv.ParseUint(p, 10, 16)
				if err != nil {
					return nil, fmt.Errorf("type %s: bad port %q", rowType, clip(p))
				}
				return f.values(column{role: roleTyped, typ: intel.IPv4}, host, "", int(pn))
			case strings.Contains(rt, "|"):
				return compositeValues(rt, v)
			}
			var err error
			if t, err = intel.ParseValueType(rt); err != nil {
				return nil, fmt.Errorf("type column: %v", err)
			}
		}
	}
	t, n, err := normalize(t, v)
	if err != nil {
		return nil, err
	}
	if t != intel.IPv4 && t != intel.IPv6 {
		port = 0
	}
	return []typedValue{{t, n, port}}, nil
}

// compositeValues reads a MISP composite attribute: types and values both
// joined by "|"; a port part qualifies the IP parts.
func compositeValues(types, v string) ([]typedValue, error) {
	tn := strings.Split(types, "|")
	vs := strings.Split(v, "|")
	if len(tn) != len(vs) {
		return nil, fmt.Errorf("type %s has %d parts but the value %q has %d", types, len(tn), clip(v), len(vs))
	}
	port := 0
	var out []typedValue
	for i, name := range tn {
		t, err := intel.ParseValueType(name)
		if err != nil {
			return nil, fmt.Errorf("type %s: %v", types, err)
		}
		if t == intel.Port {
			p, err := strconv.ParseUint(strings.TrimSpace(vs[i]), 10, 16)
			if err != nil {
				return nil, fmt.Errorf("type %s: bad port %q", types, clip(vs[i]))
			}
			port = int(p)
			continue
		}
		t, n, err := normalize(t, vs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, typedValue{t, n, 0})
	}
	for i := range out {
		if out[i].typ == intel.IPv4 || out[i].typ == intel.IPv6 {
			out[i].port = port
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("type %s holds no indicator", types)
	}
	return out, nil
}

// emptyCell reports cells that mean "no value".
func emptyCell(v string) bool {
	switch v {
	case "", "-", "None", "none", "null", "NULL", "n/a", "N/A":
		return true
	}
	return false
}

func appendTags(labels []string, v string) []string {
	for _, t := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' || r == '|' }) {
		if t = strings.TrimSpace(strings.ToValidUTF8(t, "\uFFFD")); !emptyCell(t) {
			labels = append(labels, t)
		}
	}
	return labels
}

// parseConfidence reads 0-100, or a fraction 0.0-1.0.
func parseConfidence(v string) (int, bool) {
	if n, err := strconv.Atoi(v); err == nil {
		return n, n >= 0 && n <= 100
	}
	if x, err := strconv.ParseFloat(v, 64); err == nil && x >= 0 && x <= 1 && strings.Contains(v, ".") {
		return int(x*100 + 0.5), true
	}
	return 0, false
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05 MST",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006/01/02 15:04:05",
	"2006/01/02",
}

// parseTime reads the date forms feeds use, or Unix seconds; times
// without a zone are UTC.
func parseTime(v string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC(), true
		}
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 && s < 1e11 {
		sec := int64(s)
		return time.Unix(sec, int64((s-float64(sec))*1e9)).UTC(), true
	}
	return time.Time{}, false
}
