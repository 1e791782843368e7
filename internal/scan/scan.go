// Package scan is whodunit's scan engine: it reads telemetry files with the
// format readers, matches every event against a matcher snapshot and hands
// out sightings, in parallel across files and across chunks of one large
// line-oriented file, in bounded memory whatever the input size.
//
// Bad records are counted and reported per file with their line or offset;
// a file that cannot be read is reported and skipped; the rest goes on.
package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// DefaultChunkSize is how many bytes of a line-oriented file one worker
// takes at a time. Measured with make bench-scan on 2 cores: with 256 KiB
// chunks a scan scales 1.87–2.06× from one core to two, with 1 MiB
// 1.73–1.89× and more CPU, likely because a larger chunk, read on one core,
// has left that core's cache when another parses it.
const DefaultChunkSize = 256 << 10

// DefaultMaxLineBytes bounds one line of a split file when
// Config.MaxLineBytes is 0; it is the format readers' own default, so a
// file reads the same whether or not it is split.
const DefaultMaxLineBytes = telemetry.DefaultMaxLineBytes

// MaxErrorsPerFile bounds how many bad-record messages a FileSummary keeps
// verbatim (all are counted).
const MaxErrorsPerFile = 10

// Config says what to scan and where results go.
type Config struct {
	// Paths are files or directories (walked recursively, hidden entries
	// skipped, see fileio.Expand); "-" is standard input.
	Paths []string
	// Registry picks a format per file by sniffing its first bytes.
	Registry *telemetry.Registry
	// Format forces one format by name for every file ("" = sniff).
	Format string
	// Snapshot is the compiled indicator set. Nil scans without matching
	// (events and bad records are still counted and OnEvent still called).
	Snapshot *match.Snapshot
	// Workers is the number of parsing and matching goroutines;
	// 0 means runtime.GOMAXPROCS(0).
	Workers int
	// ChunkSize is the size of the pieces a line-oriented file is cut into
	// (at line boundaries) so that several workers share one large file.
	// 0 means DefaultChunkSize; a negative value never splits a file, so
	// each file is read start to end by one worker.
	ChunkSize int
	// MaxLineBytes bounds one line of a split file: a chunk grows to hold
	// a line longer than ChunkSize up to this, and a longer line is one
	// bad record. 0 means DefaultMaxLineBytes.
	MaxLineBytes int
	// Splittable reports whether a format's records are single lines that
	// can be read from the middle of a file (after the header block, for
	// Zeek TSV). Nil means DefaultSplittable.
	Splittable func(format string) bool
	// Limits bound gzip decompression; zero means fileio.DefaultLimits.
	Limits fileio.Limits
	// SourceName names the logical source of the files (a sensor, a
	// collection): each sighting's Source is SourceName/REL, REL being
	// the file's path under the root it was found in. Empty means a
	// fingerprint of each file's first lines stands for the name (see
	// fingerprintPrefix). Standard input is SourceName, or "stdin".
	// Sighting.Key hashes Source, so the same logs scanned through
	// another mount or from a copy give the same keys.
	SourceName string

	// OnSighting receives every sighting, suppressed ones included (check
	// Sighting.Suppressed), with strings the callee may keep. It is called
	// from one goroutine at a time, never concurrently, in no particular
	// order across files or chunks. Nil discards sightings (they are still
	// counted).
	OnSighting func(match.Sighting)
	// OnEvent, when set, sees every event after it was matched. It is
	// called concurrently from the worker goroutines: the events of one
	// stream — a whole file, or one chunk of a split file — come in order
	// from one goroutine, and Event.File/Line say where each one is. Set
	// ChunkSize < 0 to have every file delivered as one ordered stream.
	// The event and its strings are valid only during the call
	// (Event.Clone to keep one).
	OnEvent func(*telemetry.Event)
	// NewObserver, when set, is called once for every worker goroutine;
	// the Observer it returns sees every event that worker reads, after
	// OnEvent, with the logical source of its file (Sighting.Source). One
	// observer is never called concurrently, so it needs no lock.
	NewObserver func() Observer

	// Progress receives a one-line progress display (bytes, bytes/s, ETA)
	// redrawn in place when IsTerminal is set; nil or !IsTerminal = quiet.
	Progress   io.Writer
	IsTerminal bool
}

// Observer sees the events of one worker (see Config.NewObserver). The
// event and its strings are valid only during the call.
type Observer interface {
	ObserveFrom(ev *telemetry.Event, source string)
}

// DefaultSplittable is true for the line-per-record formats whose readers
// number lines of their input: Zeek TSV and JSON, Suricata EVE, JSON lines.
func DefaultSplittable(format string) bool {
	switch format {
	case "zeek", "zeek-json", "eve", "jsonl":
		return true
	}
	return false
}

// Summary is what a scan did.
type Summary struct {
	Snapshot   string        `json:"snapshot,omitempty"` // matcher version
	Files      []FileSummary `json:"files"`
	Events     int64         `json:"events"`
	Bytes      int64         `json:"bytes"`      // bytes read from disk (compressed size for gzip)
	DataBytes  int64         `json:"data_bytes"` // bytes parsed after decompression
	Sightings  int64         `json:"sightings"`  // not suppressed
	Suppressed int64         `json:"suppressed"` // on a warninglist
	// SuppressedBy counts suppressed sightings by warninglist.
	SuppressedBy map[string]int64 `json:"suppressed_by,omitempty"`
	BadRecords   int64            `json:"bad_records"`
	FailedFiles  int              `json:"failed_files"`  // files that could not be read to the end
	SkippedFiles int              `json:"skipped_files"` // entries of directories not read: no format recognises them, or they are no files
	Duration     time.Duration    `json:"duration_ns"`
}

// FileSummary is what the scan found in one file.
type FileSummary struct {
	Path       string `json:"path"`
	Format     string `json:"format,omitempty"`
	Bytes      int64  `json:"bytes"`
	DataBytes  int64  `json:"data_bytes"`
	Events     int64  `json:"events"`
	Sightings  int64  `json:"sightings"`
	Suppressed int64  `json:"suppressed"`
	BadRecords int64  `json:"bad_records"`
	// Errors are the first MaxErrorsPerFile bad records, earliest first,
	// as "file:line: message" or "file: offset N: message".
	Errors []string `json:"errors,omitempty"`
	// Err is set when the file could not be read (to the end). The
	// message names the file.
	Err string `json:"error,omitempty"`
	// Skipped is set for files found in a directory that no format
	// recognises (README, LICENSE …), and for entries that are no files to
	// read (a broken link, a FIFO); they are not errors.
	Skipped string `json:"skipped,omitempty"`
}

// fileState collects one file's results from the goroutines that share it.
type fileState struct {
	idx    int
	path   string // absolute, or "-"
	walked bool   // found by walking a directory: unknown formats are skipped, not errors
	format telemetry.Format
	rel    string // path under the root it was found in
	// compressed is set for gzip input (Cut's chunks then cannot be
	// read from the file at their offset)
	compressed bool
	// source is the logical source (see logicalSource), set by the
	// file's reader before any of its jobs is handed out
	source string

	mu   sync.Mutex
	sum  FileSummary
	errs []posErr
}

// posErr is a bad record with a sortable position.
type posErr struct {
	line, offset int64
	msg          string
}

func (fs *fileState) addErrors(errs []posErr) {
	fs.errs = append(fs.errs, errs...)
	if len(fs.errs) > 4*MaxErrorsPerFile {
		fs.trimErrors()
	}
}

func (fs *fileState) trimErrors() {
	sort.Slice(fs.errs, func(i, j int) bool {
		if fs.errs[i].line != fs.errs[j].line {
			return fs.errs[i].line < fs.errs[j].line
		}
		return fs.errs[i].offset < fs.errs[j].offset
	})
	if len(fs.errs) > MaxErrorsPerFile {
		fs.errs = fs.errs[:MaxErrorsPerFile]
	}
}

func (fs *fileState) fail(err error) {
	msg := err.Error()
	if !strings.Contains(msg, fs.path) {
		msg = fs.path + ": " + msg
	}
	fs.mu.Lock()
	if fs.sum.Err == "" {
		fs.sum.Err = msg
	}
	fs.mu.Unlock()
}

// Run scans cfg.Paths and returns the summary. An error is returned only
// when the scan as a whole cannot run (no registry, a path that does not
// exist, cancellation); problems with single files or records are in the
// Summary.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	start := time.Now()
	s, err := prepare(cfg)
	if err != nil {
		return Summary{}, err
	}
	sum := s.run(ctx)
	sum.Duration = time.Since(start)
	if err := ctx.Err(); err != nil {
		return sum, err
	}
	return sum, nil
}

// prepare expands cfg.Paths, fills cfg's defaults and returns the scanner
// with its files; Run and Cut share it.
func prepare(cfg Config) (*scanner, error) {
	if cfg.Registry == nil {
		return nil, errors.New("scan: no format registry")
	}
	var forced telemetry.Format
	if cfg.Format != "" {
		f, ok := cfg.Registry.ByName(cfg.Format)
		if !ok {
			return nil, fmt.Errorf("scan: unknown format %q", cfg.Format)
		}
		forced = f
	}
	type input struct {
		path   string
		walked bool
		rel    string // path under its root, for the logical source
	}
	var inputs []input
	var unread []fileio.Skipped
	for _, p := range cfg.Paths {
		files, skipped, err := fileio.ExpandReport([]string{p})
		if err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		unread = append(unread, skipped...)
		walked := false
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			walked = true
		}
		for _, f := range files {
			inputs = append(inputs, input{f, walked, relativePath(p, f, walked)})
		}
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.ChunkSize == 0 {
		cfg.ChunkSize = DefaultChunkSize
	}
	if cfg.ChunkSize > 0 && cfg.ChunkSize < 1<<10 {
		cfg.ChunkSize = 1 << 10
	}
	if cfg.MaxLineBytes <= 0 {
		cfg.MaxLineBytes = DefaultMaxLineBytes
	}
	if cfg.Splittable == nil {
		cfg.Splittable = DefaultSplittable
	}
	if cfg.Limits == (fileio.Limits{}) {
		cfg.Limits = fileio.DefaultLimits
	}

	s := &scanner{cfg: cfg, forced: forced, unread: unread}
	for i, in := range inputs {
		p := in.path
		abs := p
		if p != "-" {
			if a, err := filepath.Abs(p); err == nil {
				abs = a
			}
			if st, err := os.Stat(p); err == nil {
				s.totalBytes += st.Size()
			}
		}
		s.files = append(s.files, &fileState{idx: i, path: abs, walked: in.walked, rel: in.rel, sum: FileSummary{Path: abs}})
	}
	s.byPath = make(map[string]*fileState, len(s.files))
	for _, fs := range s.files {
		s.byPath[fs.path] = fs
	}
	if cfg.Snapshot != nil {
		s.version = cfg.Snapshot.Version()
	}
	return s, nil
}

// scanner is one Run.
type scanner struct {
	cfg        Config
	forced     telemetry.Format
	files      []*fileState
	unread     []fileio.Skipped // entries of walked directories that are not files to read
	byPath     map[string]*fileState
	totalBytes int64
	version    string

	jobs      chan job
	pool      chan []byte
	sightings chan []match.Sighting

	// progress counters (atomic)
	rawRead   atomic.Int64 // raw bytes consumed from disk
	dataDone  atomic.Int64 // decompressed bytes parsed
	events    atomic.Int64
	sightingN atomic.Int64
}

// job is one unit of work for a worker: a chunk of a line-oriented file, or
// a whole stream of a format that cannot be split.
type job struct {
	fs *fileState

	// chunk
	buf       []byte // pool buffer holding data, returned after use
	data      []byte
	header    []byte // header block in effect at the chunk start
	hdrLines  int64
	startLine int64 // lines before the chunk
	startOff  int64 // byte offset of the chunk

	// stream
	src *source
}

func (s *scanner) run(ctx context.Context) Summary {
	w := s.cfg.Workers
	s.jobs = make(chan job, w)
	s.sightings = make(chan []match.Sighting, 4*w)
	readers := min(w, len(s.files))
	if readers == 0 {
		readers = 1
	}
	if s.cfg.ChunkSize > 0 {
		// enough buffers for every worker to hold one, one queued per
		// worker, and one being filled per reader: bounded memory
		n := 2*w + readers
		s.pool = make(chan []byte, n)
		for i := 0; i < n; i++ {
			s.pool <- nil // allocated on first use
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopProgress := s.startProgress(ctx)

	// collector: OnSighting is called from here only
	var collected sync.WaitGroup
	collected.Add(1)
	go func() {
		defer collected.Done()
		for batch := range s.sightings {
			if s.cfg.OnSighting != nil {
				for i := range batch {
					s.cfg.OnSighting(batch[i])
				}
			}
		}
	}()

	// one group: the workers' pattern evaluators share what they remember
	var group *match.MatcherGroup
	if s.cfg.Snapshot != nil {
		group = s.cfg.Snapshot.NewMatcherGroup()
	}
	var workers sync.WaitGroup
	wks := make([]*worker, w)
	for i := range wks {
		wks[i] = newWorker(s, group)
		workers.Add(1)
		go func(wk *worker) {
			defer workers.Done()
			wk.loop(ctx)
		}(wks[i])
	}

	next := make(chan *fileState)
	go func() {
		defer close(next)
		for _, fs := range s.files {
			select {
			case next <- fs:
			case <-ctx.Done():
				return
			}
		}
	}()
	var rd sync.WaitGroup
	for i := 0; i < readers; i++ {
		rd.Add(1)
		go func() {
			defer rd.Done()
			for fs := range next {
				s.readFile(ctx, fs)
			}
		}()
	}
	rd.Wait()
	close(s.jobs)
	workers.Wait()
	for _, wk := range wks {
		wk.flush()
	}
	close(s.sightings)
	collected.Wait()
	stopProgress()

	return s.summary(wks)
}

func (s *scanner) summary(wks []*worker) Summary {
	sum := Summary{Snapshot: s.version, SuppressedBy: map[string]int64{}}
	for _, wk := range wks {
		for k, v := range wk.suppressedBy {
			sum.SuppressedBy[k] += v
		}
	}
	if len(sum.SuppressedBy) == 0 {
		sum.SuppressedBy = nil
	}
	for _, fs := range s.files {
		fs.mu.Lock()
		fs.trimErrors()
		for _, e := range fs.errs {
			fs.sum.Errors = append(fs.sum.Errors, e.msg)
		}
		f := fs.sum
		fs.mu.Unlock()
		sum.Files = append(sum.Files, f)
		sum.Events += f.Events
		sum.Bytes += f.Bytes
		sum.DataBytes += f.DataBytes
		sum.Sightings += f.Sightings
		sum.Suppressed += f.Suppressed
		sum.BadRecords += f.BadRecords
		if f.Err != "" {
			sum.FailedFiles++
		}
		if f.Skipped != "" {
			sum.SkippedFiles++
		}
	}
	for _, u := range s.unread {
		sum.Files = append(sum.Files, FileSummary{Path: u.Path, Skipped: u.Reason})
		sum.SkippedFiles++
	}
	return sum
}
