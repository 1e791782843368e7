package flat

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// ZeekIntel reads Zeek intelligence framework files: tab-separated, with a
// "#fields" header naming at least indicator and indicator_type, and
// meta.* columns (source, desc, url, do_notice, if_in, whitelist, cif_*).
type ZeekIntel struct{}

// Name is the --format name.
func (ZeekIntel) Name() string { return "zeek-intel" }

// Sniff looks for a #fields header naming indicator and indicator_type,
// separated by tabs or by the #separator the file declares.
func (ZeekIntel) Sniff(head []byte, _ string) bool {
	sep := "\t"
	for _, l := range headLines(head) {
		line := string(l)
		if rest, ok := strings.CutPrefix(line, "#separator "); ok {
			if v := unescapeZeek(rest); v != "" {
				sep = v
			}
			continue
		}
		rest, ok := strings.CutPrefix(line, "#fields"+sep)
		if !ok {
			continue
		}
		var ind, typ bool
		for _, f := range strings.Split(rest, sep) {
			switch f {
			case "indicator":
				ind = true
			case "indicator_type":
				typ = true
			}
		}
		return ind && typ
	}
	return false
}

// zeekHeader is what the # lines of a Zeek file have declared so far.
type zeekHeader struct {
	sep, setSep, empty, unset string
	fields                    []string
	indicator, indicatorType  int
}

// Import reads a Zeek intel file. A data line before any #fields header,
// or a header without indicator and indicator_type, fails the file; a row
// with the wrong number of fields, an unknown Intel:: type or a value that
// is not of its type is skipped and reported.
func (ZeekIntel) Import(ctx context.Context, r io.Reader, name string, opt intel.Options, sink intel.Sink) (intel.Stats, error) {
	e, err := newEmitter(ctx, sink, name, opt, "zeek-intel")
	if err != nil {
		return intel.Stats{}, err
	}
	src := newLineSource(ctx, r, name)
	h := zeekHeader{sep: "\t", setSep: ",", empty: "(empty)", unset: "-", indicator: -1, indicatorType: -1}
	var raw rawJSON
	var cols []string
	for {
		line, err := src.next(e.skip)
		if err == io.EOF {
			break
		}
		if err != nil {
			return e.result(), err
		}
		if len(line) > 0 && line[0] == '#' {
			if err := h.directive(string(line), name, src.line()); err != nil {
				return e.result(), err
			}
			continue
		}
		if len(trimSpace(line)) == 0 {
			continue
		}
		if h.fields == nil {
			return e.result(), fmt.Errorf("%s:%d: data before a #fields header: not a Zeek intel file (a Zeek intel file starts with \"#fields<TAB>indicator<TAB>indicator_type…\")", name, src.line())
		}
		cols = splitSep(cols[:0], string(line), h.sep)
		if len(cols) != len(h.fields) {
			e.skip(src.recordErr("%d fields, but #fields names %d (fields are separated by one tab)", len(cols), len(h.fields)))
			continue
		}
		for i, c := range cols {
			cols[i] = unescapeZeek(c)
		}
		rec, rerr := h.record(cols, &raw)
		if rerr != nil {
			e.skip(src.recordErr("%v", rerr))
			continue
		}
		rec.line = src.line()
		if err := e.emit(rec); err != nil {
			return e.result(), err
		}
	}
	return e.finish()
}

// directive applies one # line: #separator, #set_separator, #empty_field,
// #unset_field, #fields; other # lines are comments (including commented
// out data rows).
func (h *zeekHeader) directive(line, name string, n int64) error {
	if rest, ok := strings.CutPrefix(line, "#separator "); ok {
		sep := unescapeZeek(rest)
		if sep == "" {
			return fmt.Errorf("%s:%d: empty #separator", name, n)
		}
		h.sep = sep
		return nil
	}
	key, rest, ok := strings.Cut(line, h.sep)
	if !ok {
		if line == "#fields" {
			return fmt.Errorf("%s:%d: #fields names no field", name, n)
		}
		if strings.HasPrefix(line, "#fields ") {
			return fmt.Errorf("%s:%d: #fields is not separated by %q: Zeek intel files are tab-separated", name, n, h.sep)
		}
		return nil
	}
	switch key {
	case "#set_separator":
		h.setSep = unescapeZeek(rest)
	case "#empty_field":
		h.empty = unescapeZeek(rest)
	case "#unset_field":
		h.unset = unescapeZeek(rest)
	case "#fields":
		fields := splitSep(nil, rest, h.sep)
		ind, typ := -1, -1
		for i, f := range fields {
			switch f {
			case "indicator":
				ind = i
			case "indicator_type":
				typ = i
			}
		}
		if ind < 0 || typ < 0 {
			return fmt.Errorf("%s:%d: #fields lacks indicator and indicator_type: not a Zeek intel file", name, n)
		}
		h.fields, h.indicator, h.indicatorType = fields, ind, typ
	}
	return nil
}

// present reports whether a field holds a value (not unset, not empty).
func (h *zeekHeader) present(v string) bool { return v != "" && v != h.unset && v != h.empty }

// record maps one row to an indicator record.
func (h *zeekHeader) record(cols []string, raw *rawJSON) (*record, error) {
	value, typName := strings.TrimSpace(cols[h.indicator]), strings.TrimSpace(cols[h.indicatorType])
	if !h.present(value) {
		return nil, fmt.Errorf("indicator is unset")
	}
	if !h.present(typName) {
		return nil, fmt.Errorf("indicator_type is unset")
	}
	t, err := zeekType(typName, value)
	if err != nil {
		return nil, err
	}
	t, norm, err := normalize(t, value)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", typName, err)
	}
	rec := &record{typ: t, value: norm, confidence: -1}
	var url, cifSource, cifDesc string
	for i, f := range h.fields {
		v := cols[i]
		if i == h.indicator || i == h.indicatorType || !h.present(v) {
			continue
		}
		switch f {
		case "meta.source":
			rec.source = strings.ToValidUTF8(v, "\uFFFD")
		case "meta.desc":
			rec.desc = strings.ToValidUTF8(v, "\uFFFD")
		case "meta.url":
			url = strings.ToValidUTF8(v, "\uFFFD")
		case "meta.do_notice":
			if v == "T" {
				rec.labels = append(rec.labels, "zeek:do_notice")
			}
		case "meta.if_in":
			rec.labels = append(rec.labels, "zeek:if_in="+strings.ToValidUTF8(v, "\uFFFD"))
		case "meta.whitelist":
			if v == "T" {
				rec.context = true
				rec.labels = append(rec.labels, "zeek:whitelist")
			}
		case "meta.cif_tags":
			for _, tag := range strings.Split(v, h.setSep) {
				if tag = strings.TrimSpace(strings.ToValidUTF8(tag, "\uFFFD")); tag != "" {
					rec.labels = append(rec.labels, tag)
				}
			}
		case "meta.cif_confidence":
			if c, err := strconv.ParseFloat(v, 64); err == nil && c >= 0 && c <= 100 {
				rec.confidence = int(c + 0.5)
			}
		case "meta.cif_source":
			cifSource = strings.ToValidUTF8(v, "\uFFFD")
		case "meta.cif_description":
			cifDesc = strings.ToValidUTF8(v, "\uFFFD")
		}
	}
	if rec.source == "" {
		rec.source = cifSource
	}
	if rec.desc == "" {
		rec.desc = cifDesc
	}
	if url != "" {
		name := rec.source
		if name == "" {
			name = "zeek-intel"
		}
		rec.refs = []intel.ExternalRef{{SourceName: name, URL: url}}
	}
	raw.beginObject()
	for i, f := range h.fields {
		raw.field(f, cols[i])
	}
	rec.raw = raw.endObject()
	return rec, nil
}

// zeekType maps an Intel:: type to a value type. FILE_HASH takes its hash
// type from the length; ADDR is refined to IPv6 by normalize.
func zeekType(name, value string) (intel.ValueType, error) {
	switch strings.TrimPrefix(name, "Intel::") {
	case "ADDR":
		return intel.IPv4, nil
	case "SUBNET":
		return intel.CIDR, nil
	case "URL":
		return intel.URL, nil // Zeek writes URLs without the scheme; Normalize assumes http://
	case "SOFTWARE":
		return intel.Software, nil
	case "EMAIL":
		return intel.Email, nil
	case "DOMAIN":
		return intel.Domain, nil
	case "USER_NAME":
		return intel.UserName, nil
	case "CERT_HASH":
		if len(strings.ReplaceAll(value, ":", "")) == 64 {
			return intel.X509SHA256, nil
		}
		return intel.X509SHA1, nil // Zeek: the certificate's SHA-1
	case "PUBKEY_HASH":
		return intel.PubkeyHash, nil
	case "FILE_HASH":
		switch len(strings.ReplaceAll(value, ":", "")) {
		case 32:
			return intel.MD5, nil
		case 40:
			return intel.SHA1, nil
		case 64:
			return intel.SHA256, nil
		case 128:
			return intel.SHA512, nil
		}
		return "", fmt.Errorf("Intel::FILE_HASH %q: not an MD5, SHA-1, SHA-256 or SHA-512 (by length)", clip(value))
	case "FILE_NAME":
		return intel.FileName, nil
	case "JA3":
		return intel.JA3, nil // not in Zeek's base scripts, but used by JA3 packages
	case "JA3S":
		return intel.JA3S, nil
	}
	return "", fmt.Errorf("unknown indicator_type %q", clip(name))
}

// splitSep splits s on sep into dst.
func splitSep(dst []string, s, sep string) []string {
	for {
		i := strings.Index(s, sep)
		if i < 0 {
			return append(dst, s)
		}
		dst = append(dst, s[:i])
		s = s[i+len(sep):]
	}
}

// unescapeZeek decodes the \xNN escapes Zeek writes for separators and
// non-printable bytes.
func unescapeZeek(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' && isHexByte(s[i+2]) && isHexByte(s[i+3]) {
			b = append(b, unhex(s[i+2])<<4|unhex(s[i+3]))
			i += 3
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isHexByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// clip shortens a value for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
