package intel

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
	Err     error
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
			if it.fromDir && errors.Is(r.Err, errNotRecognised) {
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
		files, err := fileio.Expand([]string{p})
		if err != nil {
			plan = append(plan, planned{path: p, err: err})
			continue
		}
		fromDir := len(files) != 1 || files[0] != p
		for _, f := range files {
			plan = append(plan, planned{path: f, fromDir: fromDir})
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

// digest hashes a file's raw bytes so that re-importing it is recognised.
func digest(path string, opt Options) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	// The labels given on the command line are part of what was asserted.
	fmt.Fprintf(h, "\x00%s\x00%s\x00%d\x00%s\x00%c\x00%s", opt.Type, opt.Actor, opt.Confidence, opt.TLP, opt.Reliability, opt.Source)
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (s *ImportService) importFile(ctx context.Context, path, force string, opt Options) FileResult {
	res := FileResult{Path: path}
	src := Source{Name: sourceName(opt, path), Path: path, ImportedAt: time.Now().UTC(), Reliability: opt.Reliability}
	if path != "-" {
		d, err := digest(path, opt)
		if err != nil {
			res.Err = err
			return res
		}
		src.SHA256 = d
		if abs, err := filepath.Abs(path); err == nil {
			src.Path = abs
		}
	}
	in, err := fileio.Open(path, s.Limits)
	if err != nil {
		res.Err = err
		return res
	}
	defer in.Close()
	var im Importer
	if force != "" {
		im, _ = s.byName(force)
	} else {
		for _, c := range s.Importers {
			if c.Sniff(in.Head, path) {
				im = c
				break
			}
		}
		if im == nil {
			res.Err = fmt.Errorf("%s: %w", path, errNotRecognised)
			return res
		}
	}
	res.Format = im.Name()
	src.Format = im.Name()
	already, err := s.Tx(ctx, src, func(sink Sink) error {
		st, err := im.Import(ctx, in.R, path, opt, sink)
		res.Stats = st
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

func containsPath(msg, path string) bool {
	return len(path) > 0 && len(msg) >= len(path) && strings.Contains(msg, path)
}
