package queue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/obsindex"
	"github.com/whodunit-project/whodunit/internal/scan"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// WorkerOptions configure a worker process.
type WorkerOptions struct {
	Names    Names
	Settings Settings
	Workers  int                 // jobs in parallel (0: 1)
	Registry *telemetry.Registry // the telemetry formats
	ID       string              // names the worker in results (default: host and pid)
	Log      *slog.Logger
	// beforeAck, in tests, sees each job after its result is durable;
	// false leaves the job unacknowledged, as a worker dying there would.
	beforeAck func(Job) bool
	// resultLimit, in tests, lowers the size of the largest result sent
	// in a message, so that results also go through the bucket.
	resultLimit int
}

// resultObjectHeader names a result too large for one message, kept in
// the chunk bucket.
const resultObjectHeader = "Whodunit-Result-Object"

type worker struct {
	js     jetstream.JetStream
	opt    WorkerOptions
	chunks jetstream.ObjectStore
	snaps  jetstream.ObjectStore
	limit  int // largest result message

	mu    sync.Mutex
	cache map[string]*snapshotEntry
}

type snapshotEntry struct {
	once sync.Once
	snap *match.Snapshot
	err  error
}

// RunWorker takes jobs until ctx ends. A job whose result cannot be made
// durable is handed back (nak) for another try; a malformed job is
// terminated.
func RunWorker(ctx context.Context, nc *nats.Conn, opt WorkerOptions) error {
	if opt.Workers <= 0 {
		opt.Workers = 1
	}
	if opt.ID == "" {
		host, _ := os.Hostname()
		opt.ID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	if err := Setup(ctx, js, opt.Names, opt.Settings); err != nil {
		return err
	}
	w := &worker{js: js, opt: opt, cache: map[string]*snapshotEntry{}, limit: int(nc.MaxPayload()) - 8<<10}
	if opt.resultLimit > 0 {
		w.limit = opt.resultLimit
	}
	if w.chunks, err = js.ObjectStore(ctx, opt.Names.ChunkBucket); err != nil {
		return err
	}
	if w.snaps, err = js.ObjectStore(ctx, opt.Names.SnapshotBucket); err != nil {
		return err
	}
	cons, err := js.Consumer(ctx, opt.Names.Jobs, opt.Names.Consumer)
	if err != nil {
		return fmt.Errorf("the workers' consumer: %w", err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(2 * opt.Workers))
	if err != nil {
		return err
	}
	jobs, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var wg sync.WaitGroup
	for range opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				msg, err := it.Next()
				if err != nil {
					// Stopped below, or broken for good (the iterator
					// rides out outages by itself): end the worker with
					// the error rather than idle without jobs.
					stop(err)
					return
				}
				w.handle(ctx, msg)
			}
		}()
	}
	<-jobs.Done()
	it.Stop()
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("taking jobs: %w", context.Cause(jobs))
}

func (w *worker) handle(ctx context.Context, msg jetstream.Msg) {
	job, err := DecodeJob(msg.Data())
	if err != nil {
		w.opt.Log.Error("job dropped", "err", err)
		_ = msg.Term()
		return
	}
	stop := keepAlive(msg, w.opt.Settings.AckWait)
	res, err := w.run(ctx, job)
	if err == nil {
		err = retry(ctx, w.js.Conn(), func(ctx context.Context) error { return w.publish(ctx, res) })
	}
	stop()
	if err != nil {
		if ctx.Err() == nil {
			w.opt.Log.Warn("job handed back", "scan", job.Scan, "piece", job.Index, "err", err)
			_ = msg.NakWithDelay(time.Second)
		}
		return
	}
	if w.opt.beforeAck != nil && !w.opt.beforeAck(job) {
		return
	}
	if err := msg.Ack(); err != nil {
		// the result is durable: a lost ack only brings a repeat, which
		// the coordinator counts once
		w.opt.Log.Warn("ack failed", "scan", job.Scan, "piece", job.Index, "err", err)
	}
}

// keepAlive tells JetStream a long job is still being worked on.
func keepAlive(msg jetstream.Msg, ackWait time.Duration) (stop func()) {
	if ackWait <= 0 {
		ackWait = DefaultSettings.AckWait
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(ackWait / 3)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = msg.InProgress()
			case <-done:
				return
			}
		}
	}()
	return func() { close(done) }
}

// run reads one piece.
func (w *worker) run(ctx context.Context, job Job) (*Result, error) {
	snap, err := w.snapshot(ctx, job.Snapshot)
	if err != nil {
		return nil, err
	}
	r, closeFn, err := w.open(ctx, job)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	res := &Result{Scan: job.Scan, Index: job.Index, File: job.Piece.File, Path: job.Piece.Path, Worker: w.opt.ID}
	// a piece's events take about a tenth of its bytes
	res.feat.b = make([]byte, 0, job.Piece.Length/8)
	var col *obsindex.Collector
	if job.Observe {
		col = obsindex.NewCollector() // a piece's values fit: no spill
	}
	cfg := scan.PieceConfig{Registry: w.opt.Registry, Snapshot: snap,
		OnSighting: func(s match.Sighting) { res.Sightings = append(res.Sightings, s) },
		OnEvent: func(ev *telemetry.Event) {
			if Analysed(ev) {
				res.AddFeatures(ev)
			}
			if col != nil {
				col.ObserveFrom(ev, job.Piece.Source)
			}
		}}
	in := &transportReader{r: r}
	counts, err := scan.ScanPiece(ctx, cfg, job.Piece, in)
	if err != nil {
		return nil, err
	}
	if in.err != nil {
		// the bytes did not all arrive: not the file's fault, try again
		return nil, fmt.Errorf("reading piece %d: %w", job.Index, in.err)
	}
	res.Counts = counts
	if col != nil {
		res.Observations = col.Flush()
	}
	return res, nil
}

// transportReader remembers a read error, so that a piece whose bytes
// did not arrive is retried rather than reported as a bad file.
type transportReader struct {
	r   io.Reader
	err error
}

func (t *transportReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	return n, err
}

// open gives the piece's bytes: from the chunk bucket, or from the file
// on storage the worker shares with the coordinator.
func (w *worker) open(ctx context.Context, job Job) (io.Reader, func(), error) {
	if job.Object != "" {
		obj, err := w.chunks.Get(ctx, job.Object)
		if err != nil {
			return nil, nil, fmt.Errorf("piece %s: %w", job.Object, err)
		}
		if job.Encoding == "" {
			return obj, func() { obj.Close() }, nil
		}
		r, release := decompressing(obj)
		return r, func() { release(); obj.Close() }, nil
	}
	p := job.Piece
	f, err := os.Open(p.Path)
	if err != nil {
		return nil, nil, err // not seen here: another worker may see it
	}
	if !p.Whole {
		return io.NewSectionReader(f, p.StartOffset, p.Length), func() { f.Close() }, nil
	}
	in, err := fileio.Wrap(f, p.Path, fileio.DefaultLimits)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return in.R, func() { f.Close() }, nil
}

// snapshot returns the matcher of version, built once from the inputs in
// the snapshot bucket.
func (w *worker) snapshot(ctx context.Context, version string) (*match.Snapshot, error) {
	w.mu.Lock()
	e := w.cache[version]
	if e == nil {
		e = &snapshotEntry{}
		w.cache[version] = e
	}
	w.mu.Unlock()
	e.once.Do(func() {
		e.snap, e.err = w.fetchSnapshot(ctx, version)
	})
	if e.err != nil {
		w.mu.Lock()
		delete(w.cache, version) // try again with the next job
		w.mu.Unlock()
	}
	return e.snap, e.err
}

func (w *worker) fetchSnapshot(ctx context.Context, version string) (*match.Snapshot, error) {
	t0 := time.Now()
	obj, err := w.snaps.Get(ctx, version)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", version, err)
	}
	defer obj.Close()
	snap, err := match.BuildFromInputs(obj, hunt.PatternCompiler())
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", version, err)
	}
	if snap.Version() != version {
		return nil, fmt.Errorf("snapshot %s: its inputs build version %s", version, snap.Version())
	}
	w.opt.Log.Info("snapshot built", "version", version, "indicators", snap.Len(), "took", time.Since(t0))
	return snap, nil
}

// publish makes the result durable on the results stream; a result too
// large for one message goes to the chunk bucket and the message names it.
func (w *worker) publish(ctx context.Context, res *Result) error {
	data, err := EncodeResult(nil, res)
	if err != nil {
		return err
	}
	id := fmt.Sprintf("%s/%d", res.Scan, res.Index)
	msg := nats.NewMsg(w.opt.Names.ResultSubject + "." + res.Scan)
	if len(data) > w.limit {
		name := resultObject(res.Scan, res.Index)
		if _, err := w.chunks.PutBytes(ctx, name, data); err != nil {
			return fmt.Errorf("storing result %s: %w", id, err)
		}
		msg.Header.Set(resultObjectHeader, name)
	} else {
		msg.Data = data
	}
	_, err = w.js.PublishMsg(ctx, msg, jetstream.WithMsgID(id))
	return err
}

func chunkObject(scanID string, index int) string  { return fmt.Sprintf("%s/piece/%d", scanID, index) }
func resultObject(scanID string, index int) string { return fmt.Sprintf("%s/result/%d", scanID, index) }

// errNoResult is a result message that names no data.
var errNoResult = errors.New("queue: empty result message")

// readResult decodes a result message, fetching it from the bucket when
// it was too large for a message.
func readResult(ctx context.Context, chunks jetstream.ObjectStore, msg jetstream.Msg) (*Result, error) {
	data := msg.Data()
	if name := msg.Headers().Get(resultObjectHeader); name != "" {
		var err error
		if data, err = chunks.GetBytes(ctx, name); err != nil {
			return nil, fmt.Errorf("result %s: %w", name, err)
		}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errNoResult
	}
	return DecodeResult(data)
}
