package intel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/fileio"
)

// Transactor runs fn in one store transaction recorded under src; when fn
// fails nothing is kept. already reports that the same source content was
// imported before (fn is then not called).
type Transactor func(ctx context.Context, src Source, fn func(Sink) error) (already bool, err error)

// FileResult is the outcome of importing one file.
type FileResult struct {
	Path    string
	Format  string
	Stats   Stats
	Already bool
	// Ignored is set for a file found in a directory walk that is not in
	// any known format (a README, a licence): reported, not an error.
	Ignored bool
	// LooksLike says what a file refused as not intelligence looks like
	// ("a Zeek dns log", "a README"); set with Err, or with Ignored in a
	// directory walk.
	LooksLike string
	Err       error
}

// DirImporter handles a directory as a whole (a MISP feed with manifest.json).
type DirImporter interface {
	Name() string
	// IsDir reports whether dir is a directory this importer takes whole.
	IsDir(dir string) bool
	ImportDir(ctx context.Context, dir string, opt Options, sink Sink) (Stats, error)
}

// ImportService picks an importer for each input and runs it in a transaction.
type ImportService struct {
	Importers    []Importer // tried in order by Sniff
	DirImporters []DirImporter
	Limits       fileio.Limits
	Tx           Transactor
	// First names formats imported before all others in one call (the
	// warninglists, so that indicators imported with them are flagged).
	First []string
}

var errNotRecognised = errors.New("format not recognised (use --format)")

// ErrNotIntelligence is wrapped by the error for a file whose content is
// telemetry or prose (a Zeek log, a pcap, a README), which a lenient
// format such as CSV or a plain list would otherwise take.
var ErrNotIntelligence = errors.New("not intelligence")

// ErrUnknownFormat is returned (wrapped) when a forced format names no importer.
var ErrUnknownFormat = errors.New("unknown format")

// ImportPaths imports files, directories (recursively) and "-" (stdin).
// force names a format to use instead of sniffing. Each file is its own
// transaction: a bad file fails alone and leaves the store unchanged.
// Files in the First formats are imported before all others of the call,
// whichever path they were found under.
func (s *ImportService) ImportPaths(ctx context.Context, paths []string, force string, opt Options) ([]FileResult, error) {
	if force != "" {
		if _, err := s.byName(force); err != nil {
			return nil, err
		}
	}
	plan := s.plan(paths)
	if len(s.First) > 0 && force == "" {
		s.sortFirst(plan)
	}
	var out []FileResult
	for _, it := range plan {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		switch {
		case it.err != nil:
			out = append(out, FileResult{Path: it.path, Err: it.err})
		case it.dir != nil:
			out = append(out, s.importDir(ctx, it.dir, it.path, opt))
		default:
			r := s.importFile(ctx, it.path, force, opt)
			if it.fromDir && (errors.Is(r.Err, errNotRecognised) || errors.Is(r.Err, ErrNotIntelligence)) {
				r.Err, r.Ignored = nil, true
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// planned is one input of an import call: a file, a directory taken whole
// by a DirImporter, or a path that could not be expanded.
type planned struct {
	path    string
	dir     DirImporter
	fromDir bool // found by walking a directory: an unknown format is ignored
	err     error
}

// plan expands paths into the files and whole directories to import, in
// the order given.
func (s *ImportService) plan(paths []string) []planned {
	var plan []planned
	for _, p := range paths {
		if p != "-" {
			if st, err := os.Stat(p); err == nil && st.IsDir() {
				if di := s.dirImporter(p); di != nil {
					plan = append(plan, planned{path: p, dir: di})
					continue
				}
			}
		}
		files, skipped, err := fileio.ExpandReport([]string{p})
		if err != nil {
			plan = append(plan, planned{path: p, err: err})
			continue
		}
		fromDir := len(files) != 1 || files[0] != p
		for _, f := range files {
			plan = append(plan, planned{path: f, fromDir: fromDir})
		}
		for _, sk := range skipped {
			plan = append(plan, planned{path: sk.Path, err: fmt.Errorf("%s: not read: %s", sk.Path, sk.Reason)})
		}
	}
	return plan
}

// sortFirst moves files in the First formats to the front, keeping the
// order otherwise.
func (s *ImportService) sortFirst(plan []planned) {
	rank := make([]int, len(plan))
	for i, it := range plan {
		rank[i] = len(s.First)
		if it.path != "-" && it.dir == nil && it.err == nil {
			rank[i] = s.firstRank(it.path)
		}
	}
	idx := make([]int, len(plan))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return rank[idx[a]] < rank[idx[b]] })
	sorted := make([]planned, len(plan))
	for i, j := range idx {
		sorted[i] = plan[j]
	}
	copy(plan, sorted)
}

// firstRank is the position of the file's sniffed format in First, or
// len(First) when it is in none of them (or cannot be opened).
func (s *ImportService) firstRank(path string) int {
	if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
		return len(s.First) // a pipe is read once, by its import
	}
	in, err := fileio.Open(path, s.Limits)
	if err != nil {
		return len(s.First)
	}
	defer in.Close()
	for _, c := range s.Importers {
		if !c.Sniff(in.Head, path) {
			continue
		}
		for i, name := range s.First {
			if c.Name() == name {
				return i
			}
		}
		break
	}
	return len(s.First)
}

func (s *ImportService) byName(name string) (Importer, error) {
	for _, im := range s.Importers {
		if im.Name() == name {
			return im, nil
		}
	}
	names := ""
	for i, im := range s.Importers {
		if i > 0 {
			names += ", "
		}
		names += im.Name()
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownFormat, name, names)
}

func (s *ImportService) dirImporter(dir string) DirImporter {
	for _, d := range s.DirImporters {
		if d.IsDir(dir) {
			return d
		}
	}
	return nil
}

func (s *ImportService) importDir(ctx context.Context, di DirImporter, dir string, opt Options) FileResult {
	res := FileResult{Path: dir, Format: di.Name()}
	src := Source{Name: sourceName(opt, dir), Path: dir, Format: di.Name(), ImportedAt: time.Now().UTC(), Reliability: opt.Reliability}
	already, err := s.Tx(ctx, src, func(sink Sink) error {
		st, err := di.ImportDir(ctx, dir, opt, sink)
		res.Stats = st
		return err
	})
	res.Already, res.Err = already, err
	return res
}

func sourceName(opt Options, path string) string {
	if opt.Source != "" {
		return opt.Source
	}
	if path == "-" {
		return "stdin"
	}
	return filepath.Base(path)
}

// MaxStream bounds an input that is not a regular file (a pipe, a device,
// standard input) when the service's Limits set no bound of their own.
const MaxStream = 4 << 30

func (s *ImportService) importFile(ctx context.Context, path, force string, opt Options) FileResult {
	res := FileResult{Path: path}
	src := Source{Name: sourceName(opt, path), Path: path, ImportedAt: time.Now().UTC(), Reliability: opt.Reliability}
	if abs, err := filepath.Abs(path); err == nil && path != "-" {
		src.Path = abs
	}
	lim := s.Limits
	if lim.MaxStream == 0 {
		lim.MaxStream = MaxStream
	}
	// The input is opened and read once: a pipe cannot be read twice, and
	// the digest must be of the very bytes imported.
	in, err := fileio.Open(path, lim)
	if err != nil {
		res.Err = err
		return res
	}
	defer in.Close()
	im, err := s.pick(in.Head, path, force, &res)
	if err != nil {
		res.Err = err
		return res
	}
	res.Format, src.Format = im.Name(), im.Name()
	h := fileio.NewContentHash()
	r := io.TeeReader(in.R, h)
	src.Digest = func() string { return digestOf(h, opt) }
	already, err := s.Tx(ctx, src, func(sink Sink) error {
		st, err := im.Import(ctx, r, path, opt, sink)
		res.Stats = st
		if err != nil {
			return err
		}
		// what the importer left unread (after a JSON document's end, say)
		// is content too
		_, err = io.Copy(io.Discard, r)
		return err
	})
	res.Already = already
	if err != nil {
		if errors.Is(err, fileio.ErrBomb) || !containsPath(err.Error(), path) {
			err = fmt.Errorf("%s: %w", path, err)
		}
		res.Err = err
	}
	return res
}

// pick is the importer for a file: the forced one, or the first whose
// sniff takes head. Telemetry and prose are refused (res.LooksLike says
// what they look like).
func (s *ImportService) pick(head []byte, path, force string, res *FileResult) (Importer, error) {
	if force != "" {
		return s.byName(force)
	}
	if what := LooksLike(head, path); what != "" {
		res.LooksLike = what
		return nil, fmt.Errorf("%s: looks like %s, %w; --format forces a format", path, what, ErrNotIntelligence)
	}
	for _, c := range s.Importers {
		if c.Sniff(head, path) {
			return c, nil
		}
	}
	return nil, fmt.Errorf("%s: %w", path, errNotRecognised)
}

// digestOf is the content's identity with the labels given on the command
// line, which are part of what was asserted.
func digestOf(h *fileio.ContentHash, opt Options) string {
	h.Extra(fmt.Sprintf("%s\x00%s\x00%d\x00%s\x00%c\x00%s", opt.Type, opt.Actor, opt.Confidence, opt.TLP, opt.Reliability, opt.Source))
	return h.Sum()
}

func containsPath(msg, path string) bool {
	return len(path) > 0 && len(msg) >= len(path) && strings.Contains(msg, path)
}

// LooksLike says what the first bytes of a file look like when they are
// something whodunit reads that is not intelligence (telemetry, a README,
// a licence), so that sniffing does not take it for a CSV feed or a list;
// "" otherwise. name is the file's path.
func LooksLike(head []byte, name string) string {
	if what := captureKind(head); what != "" {
		return what
	}
	if what := zeekLogKind(head); what != "" {
		return what
	}
	if zeekRecords(head) {
		return "a Zeek log without its header"
	}
	if what := jsonLogKind(head, name); what != "" {
		return what
	}
	return proseKind(head, name)
}

func captureKind(head []byte) string {
	if len(head) < 4 {
		return ""
	}
	switch string(head[:4]) {
	case "\xd4\xc3\xb2\xa1", "\xa1\xb2\xc3\xd4", "\x4d\x3c\xb2\xa1", "\xa1\xb2\x3c\x4d":
		return "a pcap capture"
	case "\x0a\x0d\x0d\x0a":
		return "a pcapng capture"
	}
	return ""
}

// headLines are the complete lines of head (the last one may be cut).
func headLines(head []byte) []string {
	lines := strings.Split(string(head), "\n")
	if len(lines) > 1 {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// zeekRecords recognises Zeek TSV records whose header was cut off: most
// lines are tab-separated columns, the first a time in seconds to the
// microsecond, as Zeek writes it. No intelligence feed has that shape.
func zeekRecords(head []byte) bool {
	lines, hits := 0, 0
	for _, l := range headLines(head) {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		lines++
		cols := strings.SplitN(l, "\t", 2)
		if len(cols) == 2 && zeekTime.MatchString(cols[0]) {
			hits++
		}
	}
	return lines > 0 && hits*10 >= lines*9
}

var zeekTime = regexp.MustCompile(`^[0-9]{1,10}\.[0-9]{6}$`)

// zeekLogKind recognises Zeek's TSV header: a #path other than intel, or
// a #separator / #fields header whose fields are no intel file's.
func zeekLogKind(head []byte) string {
	sep, path, zeek, intelFields := "\t", "", false, false
	for _, l := range headLines(head) {
		l = strings.TrimSuffix(l, "\r")
		if !strings.HasPrefix(l, "#") {
			break
		}
		switch {
		case strings.HasPrefix(l, "#separator "):
			zeek = true
			if v := strings.TrimPrefix(l, "#separator "); v == `\x09` || v == "\t" {
				sep = "\t"
			} else if len(v) == 1 {
				sep = v
			}
		case strings.HasPrefix(l, "#path"+sep):
			zeek, path = true, strings.TrimPrefix(l, "#path"+sep)
		case strings.HasPrefix(l, "#fields"+sep):
			fields := strings.Split(strings.TrimPrefix(l, "#fields"+sep), sep)
			intelFields = contains(fields, "indicator") && contains(fields, "indicator_type")
			zeek = zeek || contains(fields, "ts") || contains(fields, "uid")
		}
	}
	switch {
	case !zeek || path == "intel" || (path == "" && intelFields):
		return ""
	case path != "":
		return "a Zeek " + path + " log"
	}
	return "a Zeek log"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// jsonLogKind recognises a JSON-lines log: Suricata EVE or Zeek's JSON
// (named by its _path, or by the file's name when it has none).
func jsonLogKind(head []byte, name string) string {
	var first string
	for _, l := range headLines(head) {
		if l = strings.TrimSpace(l); l != "" {
			first = l
			break
		}
	}
	if !strings.HasPrefix(first, "{") {
		return ""
	}
	var rec map[string]any
	if json.Unmarshal([]byte(first), &rec) != nil {
		return ""
	}
	has := func(k string) bool { _, ok := rec[k]; return ok }
	path, _ := rec["_path"].(string)
	base := filepath.Base(name)
	logName, isLog := strings.SplitN(base, ".log", 2)[0], strings.Contains(base, ".log")
	switch {
	case has("event_type") && (has("timestamp") || has("flow_id")):
		return "a Suricata EVE log"
	case path == "intel" || !has("ts"):
		return ""
	case path != "":
		return "a Zeek " + path + " log (JSON)"
	case isLog:
		return "a Zeek " + logName + " log (JSON)"
	case has("uid") || has("id.orig_h"):
		return "a Zeek log (JSON)"
	}
	return ""
}

// proseKind recognises READMEs and licences, by name or, in text that is
// not XML or JSON, by the phrases licences open with.
func proseKind(head []byte, name string) string {
	base := strings.ToUpper(strings.TrimSuffix(filepath.Base(name), ".gz"))
	for _, p := range []string{"LICENSE", "LICENCE", "COPYING", "NOTICE"} {
		if strings.HasPrefix(base, p) {
			return "a licence text"
		}
	}
	if strings.HasPrefix(base, "README") {
		return "a README"
	}
	switch filepath.Ext(base) {
	case ".MD", ".MARKDOWN", ".RST":
		return "a document (" + strings.ToLower(filepath.Ext(base)[1:]) + ")"
	}
	text := strings.TrimSpace(string(head))
	if strings.HasPrefix(text, "<") || strings.HasPrefix(text, "{") || strings.HasPrefix(text, "[") {
		return "" // XML or JSON: a licence in it is a comment of a document
	}
	if len(text) > 4096 {
		text = text[:4096]
	}
	for _, phrase := range []string{"Permission is hereby granted", "Apache License", "GNU GENERAL PUBLIC LICENSE",
		"Creative Commons", "Redistribution and use in source and binary forms", "THE SOFTWARE IS PROVIDED \"AS IS\""} {
		if strings.Contains(text, phrase) {
			return "a licence text"
		}
	}
	return ""
}
