package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// sightingBatch is how many sightings a worker collects before handing
// them to the collector goroutine.
const sightingBatch = 256

// worker parses and matches; each has its own Event, Matcher and buffers.
type worker struct {
	s      *scanner
	cur    *fileState // the file being read
	m      *match.Matcher
	ev     telemetry.Event
	mem    fileio.Slices // a chunk's header block and data, read in place
	parts  [2][]byte
	emitFn func(*match.Sighting)
	obs    Observer // nil without Config.NewObserver

	batch    []match.Sighting
	flushing bool // in flush: sightings are counted by their file
	// per job
	sightings, suppressed int64
	suppressedBy          map[string]int64
	errs                  []posErr
}

func newWorker(s *scanner, g *match.MatcherGroup) *worker {
	w := &worker{s: s, suppressedBy: map[string]int64{}}
	if g != nil {
		w.m = g.NewMatcher()
	}
	w.emitFn = w.emit
	if s.cfg.NewObserver != nil {
		w.obs = s.cfg.NewObserver()
	}
	return w
}

func (w *worker) loop(ctx context.Context) {
	for j := range w.s.jobs {
		if ctx.Err() != nil {
			// drain: give buffers back so readers blocked on the pool end
			w.s.putBuf(j.buf)
			if j.src != nil {
				j.src.close()
			}
			continue
		}
		if j.src != nil {
			w.stream(ctx, j)
		} else {
			w.chunk(ctx, j)
		}
		w.sendBatch()
	}
}

func (w *worker) emit(sg *match.Sighting) {
	c := sg.Clone()
	// a pattern hit may name an event of another file
	if fs := w.s.byPath[c.File]; fs != nil {
		c.Source = fs.source
	} else if w.cur != nil {
		c.Source = w.cur.source
	}
	if c.Suppressed {
		w.suppressedBy[c.Warninglist]++
	} else {
		w.s.sightingN.Add(1)
	}
	if w.flushing {
		// end-of-input pattern matches: count them in their event's file
		if fs := w.s.byPath[c.File]; fs != nil {
			fs.mu.Lock()
			if c.Suppressed {
				fs.sum.Suppressed++
			} else {
				fs.sum.Sightings++
			}
			fs.mu.Unlock()
		}
	} else if c.Suppressed {
		w.suppressed++
	} else {
		w.sightings++
	}
	w.batch = append(w.batch, c)
	if len(w.batch) >= sightingBatch {
		w.sendBatch()
	}
}

func (w *worker) sendBatch() {
	if len(w.batch) == 0 {
		return
	}
	w.s.sightings <- w.batch
	w.batch = nil // the collector owns the sent slice; most chunks have no sighting at all
}

// chunk reads one chunk of a split file: the header block, then the data,
// through the format's ordinary reader, and moves line numbers and offsets
// from the reader's view to the file's.
func (w *worker) chunk(ctx context.Context, j job) {
	fs := j.fs
	defer w.s.putBuf(j.buf)
	// the text is in memory already: the line readers take it in place
	w.parts = [2][]byte{j.header, j.data}
	w.mem.Reset(w.parts[:])
	lineDelta := j.startLine - j.hdrLines
	offDelta := j.startOff - int64(len(j.header))
	events := w.read(ctx, fs, &w.mem, lineDelta, offDelta)
	w.parts = [2][]byte{}
	w.s.dataDone.Add(int64(len(j.data)))
	w.finish(fs, events, int64(len(j.data)), -1)
}

// stream reads a whole file that cannot be split.
func (w *worker) stream(ctx context.Context, j job) {
	defer j.src.close()
	data := &dataCounter{r: j.src.in.R}
	events := w.read(ctx, j.fs, data, 0, 0)
	w.s.dataDone.Add(data.n)
	// raw bytes include those read while sniffing the format: a small
	// file is all sniffed before the reader starts
	w.finish(j.fs, events, data.n, j.src.raw.n)
}

// finish adds a job's counts to its file.
func (w *worker) finish(fs *fileState, events, dataBytes, rawBytes int64) {
	fs.mu.Lock()
	fs.sum.Events += events
	fs.sum.DataBytes += dataBytes
	if rawBytes >= 0 {
		fs.sum.Bytes += rawBytes
	}
	fs.sum.Sightings += w.sightings
	fs.sum.Suppressed += w.suppressed
	fs.addErrors(w.errs)
	fs.mu.Unlock()
	w.sightings, w.suppressed, w.errs = 0, 0, w.errs[:0]
}

// maxStuck bounds consecutive record errors at one position: a reader that
// stops advancing is treated as a failed file rather than a hang.
const maxStuck = 100

// read drains one reader. It recovers a panicking reader into a file error
// so one bad file never stops the scan.
func (w *worker) read(ctx context.Context, fs *fileState, r io.Reader, lineDelta, offDelta int64) (events int64) {
	defer func() {
		if p := recover(); p != nil {
			fs.fail(fmt.Errorf("%s: reader failed: %v\n%s", fs.path, p, debug.Stack()))
		}
	}()
	w.cur = fs
	rd, err := fs.format.Open(r, fs.path)
	if err != nil {
		fs.fail(err)
		return 0
	}
	var bad, stuck, reported int64
	var lastLine, lastOff int64 = -1, -1
	ev := &w.ev
	onEvent := w.s.cfg.OnEvent
	for {
		if events-reported >= 4096 {
			w.s.events.Add(events - reported)
			reported = events
			if ctx.Err() != nil {
				break
			}
		}
		err := rd.Next(ev)
		if err != nil {
			if err == io.EOF {
				break
			}
			var re *telemetry.RecordError
			if errors.As(err, &re) {
				if re.Line > 0 {
					re.Line += lineDelta
				}
				re.Offset += offDelta
				if re.Line == lastLine && re.Offset == lastOff {
					if stuck++; stuck >= maxStuck {
						fs.fail(fmt.Errorf("%s: reader does not advance past %v", fs.path, re))
						break
					}
				} else {
					stuck = 0
				}
				lastLine, lastOff = re.Line, re.Offset
				bad++
				if len(w.errs) < MaxErrorsPerFile {
					w.errs = append(w.errs, posErr{re.Line, re.Offset, re.Error()})
				}
				continue
			}
			fs.fail(err)
			break
		}
		stuck = 0
		if ev.Line > 0 {
			ev.Line += lineDelta
		}
		ev.Offset += offDelta
		if w.m != nil {
			w.m.Match(ev, w.emitFn)
		}
		if onEvent != nil {
			onEvent(ev)
		}
		if w.obs != nil {
			w.obs.ObserveFrom(ev, fs.source)
		}
		events++
	}
	w.s.events.Add(events - reported)
	fs.mu.Lock()
	fs.sum.BadRecords += bad
	fs.mu.Unlock()
	return events
}

// flush reports pattern matches decided at the end of the input.
func (w *worker) flush() {
	if w.m == nil {
		return
	}
	w.flushing = true
	w.m.Flush(w.emitFn)
	w.flushing = false
	w.sendBatch()
}

// dataCounter counts the decompressed bytes a stream reader consumed.
type dataCounter struct {
	r io.Reader
	n int64
}

func (d *dataCounter) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.n += int64(n)
	return n, err
}
