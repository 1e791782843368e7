package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// A distributed scan is the local one cut in two: Cut reads the files and
// hands out Pieces (the same chunks, header blocks and logical sources the
// local engine makes), ScanPiece reads one piece anywhere, and a Tally
// adds the pieces' results into the Summary a local Run would give.

// Piece is one part of a file that can be read on its own: a chunk of a
// line-oriented file (cut at line boundaries) or a whole file of a format
// that cannot be split.
type Piece struct {
	File   int    `json:"file"`   // index of the file in the scan, for Tally.Add
	Path   string `json:"path"`   // absolute, as Cut opened it: the sightings' File
	Source string `json:"source"` // logical source: the sightings' Source
	Format string `json:"format"`
	Whole  bool   `json:"whole,omitempty"` // a whole file, not a chunk
	// Compressed is set for gzip files: their offsets count decompressed
	// bytes, so the chunk cannot be read from the file at StartOffset.
	Compressed  bool   `json:"compressed,omitempty"`
	Header      []byte `json:"header,omitempty"` // header block in effect at the chunk start
	HeaderLines int64  `json:"header_lines,omitempty"`
	StartLine   int64  `json:"start_line"`   // lines of the file before the chunk
	StartOffset int64  `json:"start_offset"` // byte offset of the chunk in the (decompressed) file
	Length      int64  `json:"length"`       // chunk bytes (0 for a whole file)
}

// PieceResult is what reading one piece found, besides its sightings.
type PieceResult struct {
	Events       int64            `json:"events"`
	DataBytes    int64            `json:"data_bytes"`
	Sightings    int64            `json:"sightings"`
	Suppressed   int64            `json:"suppressed"`
	SuppressedBy map[string]int64 `json:"suppressed_by,omitempty"`
	BadRecords   int64            `json:"bad_records"`
	Errors       []RecordError    `json:"errors,omitempty"` // the first MaxErrorsPerFile bad records
	Err          string           `json:"error,omitempty"`  // the piece could not be read to its end
}

// RecordError is one bad record with its position in the file.
type RecordError struct {
	Line   int64  `json:"line"`
	Offset int64  `json:"offset"`
	Msg    string `json:"msg"`
}

// Cut reads cfg.Paths as Run would and calls emit for every piece, in
// order per file; data is the chunk (valid during the call only), or nil
// with whole set to the file's decompressed content for a whole file.
// cfg.Snapshot, Workers, OnSighting and OnEvent are not used. The Tally
// holds what cutting found (formats, raw sizes, over-long lines, files
// that failed) and adds the pieces' results.
func Cut(ctx context.Context, cfg Config, emit func(p Piece, data []byte, whole io.Reader) error) (*Tally, error) {
	s, err := prepare(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.jobs = make(chan job, 1)
	if s.cfg.ChunkSize > 0 {
		s.pool = make(chan []byte, 3)
		for range 3 {
			s.pool <- nil
		}
	}
	go func() {
		defer close(s.jobs)
		for _, fs := range s.files {
			if ctx.Err() != nil {
				return
			}
			s.readFile(ctx, fs)
		}
	}()
	var emitErr error
	for j := range s.jobs {
		if emitErr == nil {
			emitErr = s.emitPiece(j, emit)
			if emitErr != nil {
				cancel()
			}
		}
		s.putBuf(j.buf)
		if j.src != nil {
			j.src.close()
		}
	}
	if emitErr != nil {
		return nil, emitErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &Tally{s: s, suppressedBy: map[string]int64{}}, nil
}

func (s *scanner) emitPiece(j job, emit func(Piece, []byte, io.Reader) error) error {
	fs := j.fs
	p := Piece{File: fs.idx, Path: fs.path, Source: fs.source, Format: fs.format.Name()}
	if j.src != nil {
		p.Whole, p.Compressed = true, j.src.in.Compressed
		err := emit(p, nil, j.src.in.R)
		raw := j.src.size // a worker reads the file to its end
		if raw < 0 {
			raw = j.src.raw.n
		}
		fs.mu.Lock()
		fs.sum.Bytes += raw
		fs.mu.Unlock()
		return err
	}
	p.Header, p.HeaderLines = j.header, j.hdrLines
	p.StartLine, p.StartOffset, p.Length = j.startLine, j.startOff, int64(len(j.data))
	p.Compressed = fs.compressed
	return emit(p, j.data, nil)
}

// Tally adds the results of a cut scan's pieces into its Summary. It is
// safe for concurrent use.
type Tally struct {
	s            *scanner
	mu           sync.Mutex
	suppressedBy map[string]int64
}

// Add counts one piece's result in its file; call it once per piece.
func (t *Tally) Add(file int, r PieceResult) error {
	if file < 0 || file >= len(t.s.files) {
		return fmt.Errorf("scan: piece of file %d, the scan has %d", file, len(t.s.files))
	}
	fs := t.s.files[file]
	fs.mu.Lock()
	fs.sum.Events += r.Events
	fs.sum.DataBytes += r.DataBytes
	fs.sum.Sightings += r.Sightings
	fs.sum.Suppressed += r.Suppressed
	fs.sum.BadRecords += r.BadRecords
	for _, e := range r.Errors {
		fs.addErrors([]posErr{{e.Line, e.Offset, e.Msg}})
	}
	if r.Err != "" && fs.sum.Err == "" {
		fs.sum.Err = r.Err
	}
	fs.mu.Unlock()
	t.mu.Lock()
	for k, v := range r.SuppressedBy {
		t.suppressedBy[k] += v
	}
	t.mu.Unlock()
	return nil
}

// Summary is the scan's summary so far (all of it once every piece is
// added); the caller sets Duration.
func (t *Tally) Summary(snapshot string) Summary {
	t.mu.Lock()
	by := make(map[string]int64, len(t.suppressedBy))
	for k, v := range t.suppressedBy {
		by[k] = v
	}
	t.mu.Unlock()
	t.s.version = snapshot
	wk := &worker{suppressedBy: by}
	return t.s.summary([]*worker{wk})
}

// PieceConfig is what reading pieces needs.
type PieceConfig struct {
	Registry *telemetry.Registry
	Snapshot *match.Snapshot // nil: no matching
	// OnSighting and OnEvent are as in Config; both are called from the
	// goroutine that called ScanPiece.
	OnSighting func(match.Sighting)
	OnEvent    func(*telemetry.Event)
}

// ScanPiece reads one piece from r — the chunk's bytes, or the whole
// file's decompressed content — exactly as Run reads it: same events,
// line numbers, offsets, sightings and bad records. End-of-input pattern
// matches are decided at the end of the piece.
func ScanPiece(ctx context.Context, cfg PieceConfig, p Piece, r io.Reader) (PieceResult, error) {
	if cfg.Registry == nil {
		return PieceResult{}, errors.New("scan: no format registry")
	}
	f, ok := cfg.Registry.ByName(p.Format)
	if !ok {
		return PieceResult{}, fmt.Errorf("scan: %s: unknown format %q", p.Path, p.Format)
	}
	s := &scanner{cfg: Config{OnEvent: cfg.OnEvent}, sightings: make(chan []match.Sighting, 4)}
	fs := &fileState{path: p.Path, source: p.Source, format: f}
	s.byPath = map[string]*fileState{p.Path: fs}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for batch := range s.sightings {
			if cfg.OnSighting != nil {
				for i := range batch {
					cfg.OnSighting(batch[i])
				}
			}
		}
	}()
	var group *match.MatcherGroup
	if cfg.Snapshot != nil {
		group = cfg.Snapshot.NewMatcherGroup()
	}
	w := newWorker(s, group)
	var in io.Reader = r
	lineDelta, offDelta := p.StartLine-p.HeaderLines, p.StartOffset-int64(len(p.Header))
	if p.Whole {
		lineDelta, offDelta = 0, 0
	} else if len(p.Header) > 0 {
		in = io.MultiReader(bytes.NewReader(p.Header), r)
	}
	data := &dataCounter{r: in}
	events := w.read(ctx, fs, data, lineDelta, offDelta)
	w.sendBatch()
	dataBytes := data.n
	if !p.Whole {
		dataBytes -= int64(len(p.Header))
	}
	w.finish(fs, events, dataBytes, -1)
	w.flush()
	close(s.sightings)
	<-done
	return pieceResult(fs, w), ctx.Err()
}

func pieceResult(fs *fileState, w *worker) PieceResult {
	fs.trimErrors()
	r := PieceResult{Events: fs.sum.Events, DataBytes: fs.sum.DataBytes, Sightings: fs.sum.Sightings,
		Suppressed: fs.sum.Suppressed, BadRecords: fs.sum.BadRecords, Err: fs.sum.Err}
	for _, e := range fs.errs {
		r.Errors = append(r.Errors, RecordError{e.line, e.offset, e.msg})
	}
	sort.Slice(r.Errors, func(i, j int) bool { return r.Errors[i].Line < r.Errors[j].Line })
	if len(w.suppressedBy) > 0 {
		r.SuppressedBy = w.suppressedBy
	}
	return r
}
