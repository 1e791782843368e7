package queue

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/scan"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/formats"
)

// ScanOptions configure a coordinator.
type ScanOptions struct {
	hunt.ScanOptions // what to scan (Paths, Format, SourceName, Mapping, NoBehavior, Allowlist, Locator, OnSighting, Log)
	Names            Names
	Settings         Settings
	// Shared says the workers see the coordinator's files at the same
	// paths (shared storage): jobs then carry positions, not bytes.
	// Chunks of gzip files always travel through the chunk bucket.
	Shared bool
	// ChunkSize is the size of a piece (0: DefaultChunkSize).
	ChunkSize int
	// InFlight bounds the pieces published and not yet answered
	// (0: DefaultInFlight), which bounds the chunk bucket.
	InFlight int
	// OnProgress sees every counted piece: pieces done, pieces in all
	// (-1 while the files are still being cut), events so far.
	OnProgress func(done, total int, events int64)
}

// DefaultChunkSize is larger than the local engine's: a piece costs a
// message and a round trip.
const DefaultChunkSize = 1 << 20

// DefaultInFlight keeps every worker busy without filling the server.
const DefaultInFlight = 64

// Scan runs a scan through the workers and stores what they found, as
// hunt.Scan does locally: the same summary, sightings and detections.
// Running it again with the same inputs resumes the same scan: pieces
// already answered are not published again.
func Scan(ctx context.Context, nc *nats.Conn, db hunt.ScanTarget, opt ScanOptions) (*hunt.ScanResult, error) {
	c, err := newCoordinator(ctx, nc, db, opt)
	if err != nil {
		return nil, err
	}
	return c.run(ctx)
}

type coordinator struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	db       hunt.ScanTarget
	opt      ScanOptions
	log      *slog.Logger
	chunks   jetstream.ObjectStore
	snap     *match.Snapshot
	id       string
	analyzer *behavior.Analyzer
	start    time.Time

	mu        sync.Mutex
	done      map[int]bool
	published map[int]bool
	pending   []Result // counts that came before the tally
	tally     *scan.Tally
	total     int // -1 until cut
	events    int64
	failure   error
	batch     []match.Sighting // sightings not yet sent to sink (consume's goroutine only)
	sink      *sightingSink
	slots     chan struct{}
	finished  chan struct{}
	closeOnce sync.Once
	stopped   chan struct{} // closed when consume returns
	shareQ    chan []match.Sighting
	// objects are the bucket's objects of this scan, by any of its
	// coordinators: the pieces that travel through the bucket (the same
	// pieces every time the scan is cut) and the results too large for a
	// message (named by the result messages, all of which are read)
	objects map[string]bool
	pieces  pieceWriter // emit's
	// index is where the observable index goes (nil: not kept); observed
	// the results' indexes, stored together once every result is in, so
	// that a coordinator that restarts, and reads every result again,
	// counts none twice
	index    hunt.ObservationWriter
	observed indexMerge // consume's goroutine only, until the end
}

func newCoordinator(ctx context.Context, nc *nats.Conn, db hunt.ScanTarget, opt ScanOptions) (*coordinator, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	if err := Setup(ctx, js, opt.Names, opt.Settings); err != nil {
		return nil, err
	}
	c := &coordinator{nc: nc, js: js, db: db, opt: opt, log: opt.Log, start: time.Now(), done: map[int]bool{},
		published: map[int]bool{}, objects: map[string]bool{}, total: -1, finished: make(chan struct{}), stopped: make(chan struct{}),
		shareQ: make(chan []match.Sighting, 4)}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.opt.ChunkSize <= 0 {
		c.opt.ChunkSize = DefaultChunkSize
	}
	if c.opt.InFlight <= 0 {
		c.opt.InFlight = DefaultInFlight
	}
	c.slots = make(chan struct{}, c.opt.InFlight)
	if c.chunks, err = js.ObjectStore(ctx, opt.Names.ChunkBucket); err != nil {
		return nil, err
	}
	if err := c.publishSnapshot(ctx); err != nil {
		return nil, err
	}
	if c.id, err = scanID(c.snap.Version(), opt); err != nil {
		return nil, err
	}
	if !opt.NoBehavior {
		c.analyzer = hunt.NewAnalyzer(opt.ScanOptions, c.snap)
	}
	c.index = hunt.IndexWriter(db, opt.NoIndex, c.log)
	return c, nil
}

// publishSnapshot builds the matcher and puts its inputs in the bucket
// under its version, unless they are there already.
func (c *coordinator) publishSnapshot(ctx context.Context) error {
	var buf bytes.Buffer
	snap, err := hunt.BuildSnapshotInputs(ctx, c.db, &buf, c.log)
	if err != nil {
		return err
	}
	c.snap = snap
	bucket, err := c.js.ObjectStore(ctx, c.opt.Names.SnapshotBucket)
	if err != nil {
		return err
	}
	if _, err := bucket.GetInfo(ctx, snap.Version()); err == nil {
		return nil
	} else if !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("snapshot bucket: %w", err)
	}
	if _, err := bucket.PutBytes(ctx, snap.Version(), buf.Bytes()); err != nil {
		return fmt.Errorf("publishing snapshot %s: %w", snap.Version(), err)
	}
	return nil
}

// scanID names a scan by everything that decides its pieces and answers,
// so a restarted coordinator finds its scan again.
func scanID(version string, opt ScanOptions) (string, error) {
	files, err := fileio.Expand(opt.Paths)
	if err != nil {
		return "", fmt.Errorf("scan: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%t\x00%d\x00%t\x00%t\x00", version, opt.SourceName, opt.Format, opt.Shared, opt.ChunkSize,
		opt.NoBehavior, opt.NoIndex)
	mapping, _ := json.Marshal(opt.Mapping)
	h.Write(mapping)
	for _, p := range opt.Paths {
		abs, _ := filepath.Abs(p)
		fmt.Fprintf(h, "\x00root %s", abs)
	}
	for _, f := range files {
		abs, _ := filepath.Abs(f)
		fmt.Fprintf(h, "\x00%s", abs)
		if st, err := os.Stat(f); err == nil {
			fmt.Fprintf(h, " %d %d", st.Size(), st.ModTime().UnixNano())
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:16]), nil
}

func (c *coordinator) run(ctx context.Context) (*hunt.ScanResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cons, err := c.js.OrderedConsumer(ctx, c.opt.Names.Results, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{c.opt.Names.ResultSubject + "." + c.id}, DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return nil, fmt.Errorf("results consumer: %w", err)
	}
	// a few results buffered: each may be near a megabyte, and a
	// subscription that overflows drops messages
	it, err := cons.Messages(jetstream.PullMaxMessages(16))
	if err != nil {
		return nil, err
	}
	defer it.Stop()
	shared := make(chan struct{})
	go func() {
		defer close(shared)
		for batch := range c.shareQ {
			c.share(ctx, batch)
		}
	}()
	defer func() { close(c.shareQ); <-shared }()
	c.sink = startSightingSink(ctx, c.db, c.shareQ, c.fail)
	defer c.sink.close() // before shareQ closes: the sink sends to it
	go c.consume(ctx, it)

	tally, err := scan.Cut(ctx, c.cutConfig(), c.emit(ctx))
	if err != nil {
		return nil, err
	}
	c.setTally(tally)
	select {
	case <-c.finished:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	it.Stop()
	<-c.stopped
	if c.failure != nil {
		return nil, c.failure
	}
	return c.finish(ctx)
}

func (c *coordinator) cutConfig() scan.Config {
	o := c.opt
	return scan.Config{Paths: o.Paths, Registry: formats.Default(formats.Options{Mapping: o.Mapping}), Format: o.Format,
		SourceName: o.SourceName, ChunkSize: c.opt.ChunkSize}
}

// emit publishes one piece's job, its bytes first when the workers need
// them, unless the piece was answered already (a resumed scan).
func (c *coordinator) emit(ctx context.Context) func(scan.Piece, []byte, io.Reader) error {
	index := 0
	return func(p scan.Piece, data []byte, whole io.Reader) error {
		i := index
		index++
		viaBucket := !c.opt.Shared || (p.Compressed && !p.Whole)
		c.mu.Lock()
		answered := c.done[i]
		if viaBucket {
			c.objects[chunkObject(c.id, i)] = true
		}
		c.mu.Unlock()
		if answered {
			return nil
		}
		select {
		case c.slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		job := Job{Scan: c.id, Index: i, Snapshot: c.snap.Version(), Piece: p, Observe: c.index != nil}
		if viaBucket {
			job.Object, job.Encoding = chunkObject(c.id, i), encodingS2
			if whole != nil {
				if err := c.putPiece(ctx, job.Object, nil, whole); err != nil {
					return err
				}
			} else if err := retry(ctx, c.nc, func(ctx context.Context) error { return c.putPiece(ctx, job.Object, data, nil) }); err != nil {
				return err
			}
		}
		body, err := jsonJob(job)
		if err != nil {
			return err
		}
		c.mu.Lock()
		c.published[i] = true
		c.mu.Unlock()
		subject := c.opt.Names.JobSubject + "." + c.id
		if err := retry(ctx, c.nc, func(ctx context.Context) error {
			_, err := c.js.Publish(ctx, subject, body, jetstream.WithMsgID(fmt.Sprintf("%s/%d", c.id, i)))
			return err
		}); err != nil {
			return fmt.Errorf("publishing piece %d: %w", i, err)
		}
		return nil
	}
}

func (c *coordinator) putPiece(ctx context.Context, name string, data []byte, whole io.Reader) error {
	var err error
	if whole != nil {
		r := compressing(whole)
		_, err = c.chunks.Put(ctx, jetstream.ObjectMeta{Name: name}, r)
		r.Close()
	} else if data, err = c.pieces.compress(data); err == nil {
		_, err = c.chunks.PutBytes(ctx, name, data)
	}
	if err != nil {
		return fmt.Errorf("storing piece %s: %w", name, err)
	}
	return nil
}

func (c *coordinator) setTally(t *scan.Tally) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tally = t
	c.total = len(c.done) + c.countPublishedPending()
	for _, r := range c.pending {
		c.addCounts(&r)
	}
	c.pending = nil
	c.checkFinished()
}

// countPublishedPending counts pieces published and not yet answered;
// with the answered ones they are every piece of the scan.
func (c *coordinator) countPublishedPending() int {
	n := 0
	for i := range c.published {
		if !c.done[i] {
			n++
		}
	}
	return n
}

func (c *coordinator) addCounts(r *Result) {
	if err := c.tally.Add(r.File, r.Counts); err != nil && c.failure == nil {
		c.failure = err
	}
}

func (c *coordinator) checkFinished() {
	if c.total >= 0 && len(c.done) >= c.total {
		c.closeOnce.Do(func() { close(c.finished) })
	}
}

// consume applies every result message of the scan once.
func (c *coordinator) consume(ctx context.Context, it jetstream.MessagesContext) {
	defer close(c.stopped)
	for {
		msg, err := it.Next()
		if err != nil {
			// Stopped by run, or broken for good (the ordered consumer
			// outlives outages by itself): fail rather than wait forever
			// for results that can no longer come.
			if !errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				c.fail(fmt.Errorf("reading results: %w", err))
			}
			return
		}
		// A large result is fetched from the bucket, which an outage
		// fails; a result dropped for that would never be counted (its
		// job is acknowledged) and the scan would never end.
		var res *Result
		if err := retry(ctx, c.nc, func(ctx context.Context) (err error) {
			res, err = readResult(ctx, c.chunks, msg)
			return err
		}); err != nil {
			c.log.Error("result dropped", "err", err)
			continue
		}
		if res.Scan != c.id {
			continue
		}
		if name := msg.Headers().Get(resultObjectHeader); name != "" {
			c.mu.Lock()
			c.objects[name] = true
			c.mu.Unlock()
		}
		if err := c.apply(ctx, res); err != nil {
			c.fail(err)
			return
		}
	}
}

// fail ends the scan with err (the first failure wins).
func (c *coordinator) fail(err error) {
	c.mu.Lock()
	if c.failure == nil {
		c.failure = err
	}
	c.mu.Unlock()
	c.closeOnce.Do(func() { close(c.finished) })
}

func (c *coordinator) apply(ctx context.Context, res *Result) error {
	c.mu.Lock()
	dup := c.done[res.Index]
	c.mu.Unlock()
	if dup {
		return nil // a repeat: another worker, or a redelivery, did it too
	}
	// Sightings are stored in batches: until the scan ends they are
	// durable in the results stream, which a restarted coordinator reads
	// again from its start.
	c.batch = append(c.batch, res.Sightings...)
	if c.index != nil && len(res.Observations) > 0 {
		c.observed.add(res.Observations)
	}
	if len(c.batch) >= sightingBatch {
		c.sink.in <- c.batch
		c.batch = nil
	}
	if c.analyzer != nil {
		err := res.EachFeature(func(ev *telemetry.Event) {
			ev.File = res.Path
			c.analyzer.Observe(ev)
		})
		if err != nil {
			// DecodeResult checked every event: not seen
			return fmt.Errorf("result %d: %w", res.Index, err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done[res.Index] = true
	c.events += res.Counts.Events
	if c.published[res.Index] {
		<-c.slots
	}
	if c.tally == nil {
		res.Sightings, res.Observations, res.feat = nil, nil, features{}
		c.pending = append(c.pending, *res)
	} else {
		c.addCounts(res)
	}
	if c.opt.OnProgress != nil {
		c.opt.OnProgress(len(c.done), c.total, c.events)
	}
	c.checkFinished()
	return nil
}

// sightingBatch is how many sightings are written per store call: small
// enough that little is left to store once the last result is in.
const sightingBatch = 2000

// share publishes sightings as JSON for other systems (a SIEM, a SOAR),
// one message each, identified by the sighting key.
func (c *coordinator) share(ctx context.Context, sightings []match.Sighting) {
	subject := c.opt.Names.SightingSubject + "." + c.id
	dropped := c.nc.StatusChanged(nats.RECONNECTING, nats.CLOSED)
	defer c.nc.RemoveStatusListener(dropped)
	bodies := make([][]byte, len(sightings))
	acks := make([]jetstream.PubAckFuture, len(sightings))
	for i := range sightings {
		s := &sightings[i]
		if c.opt.OnSighting != nil {
			c.opt.OnSighting(*s)
		}
		var err error
		if bodies[i], err = s.AppendJSON(nil); err != nil {
			c.log.Warn("sighting not shared", "key", s.Key(), "err", err)
			continue
		}
		// a refused publish leaves no ack: it is published again below
		acks[i], _ = c.js.PublishAsync(subject, bodies[i], jetstream.WithMsgID(s.Key()))
	}
	// acks lost with a dropped connection never come: wait for them
	// until the connection drops, or a while only
	select {
	case <-c.js.PublishAsyncComplete():
	case <-dropped:
	case <-time.After(tryDeadline):
	case <-ctx.Done():
		return
	}
	c.shareAgain(ctx, subject, sightings, bodies, acks)
}

// shareAgain publishes what was not confirmed (refused, or lost in an
// outage) again, one at a time through retry, under the same id: the
// stream holds every sighting once. An outage longer than retry's budget
// ends the sharing: the store has the sightings, and the scan ends.
func (c *coordinator) shareAgain(ctx context.Context, subject string, sightings []match.Sighting, bodies [][]byte, acks []jetstream.PubAckFuture) {
	for i, ack := range acks {
		if bodies[i] == nil || confirmed(ack) {
			continue
		}
		if err := retry(ctx, c.nc, func(ctx context.Context) error {
			_, err := c.js.Publish(ctx, subject, bodies[i], jetstream.WithMsgID(sightings[i].Key()))
			return err
		}); err != nil {
			c.log.Warn("sightings not shared", "from", sightings[i].Key(), "left", len(sightings)-i, "err", err)
			return
		}
	}
}

// confirmed says whether the server acknowledged an async publish.
func confirmed(ack jetstream.PubAckFuture) bool {
	if ack == nil {
		return false
	}
	select {
	case <-ack.Ok():
		return true
	default:
		return false
	}
}

// finish scores the behaviour, stores detections and the scan's record,
// and removes the scan's pieces from the bucket.
func (c *coordinator) finish(ctx context.Context) (*hunt.ScanResult, error) {
	// the analytics score on one core while the last sightings and the
	// index are written on the other
	var detections []behavior.Detection
	scored := make(chan struct{})
	go func() {
		defer close(scored)
		if c.analyzer != nil {
			detections = c.analyzer.Finish()
		}
	}()
	defer func() { <-scored }()
	if len(c.batch) > 0 {
		c.sink.in <- c.batch
		c.batch = nil
	}
	added, err := c.sink.close()
	if err != nil {
		return nil, err
	}
	sum := c.tally.Summary(c.snap.Version())
	sum.Duration = time.Since(c.start)
	res := &hunt.ScanResult{Summary: sum, Snapshot: c.snap, NewSightings: added,
		Report: scan.RunReport{Indicators: c.snap.Len(), Snapshot: c.snap.Version(), Summary: sum, ScanSeconds: sum.Duration.Seconds()}}
	if c.index != nil {
		all := c.observed.all()
		// one call, one transaction: all of the scan's index or none
		if err := c.index.PutObservations(ctx, all); err != nil {
			return nil, fmt.Errorf("storing the observable index: %w", err)
		}
		res.Indexed = len(all)
	}
	<-scored
	if c.analyzer != nil {
		res.Detections = detections
		if err := c.db.PutDetections(ctx, res.Detections); err != nil {
			return nil, fmt.Errorf("storing detections: %w", err)
		}
	}
	if err := hunt.RecordScan(ctx, c.db, res); err != nil {
		return nil, fmt.Errorf("storing the scan's summary: %w", err)
	}
	c.removePieces(ctx)
	return res, nil
}

// removePieces deletes the scan's objects from the bucket, a few at a
// time, each through retry: a request whose reply was lost in a dropped
// connection would otherwise wait for the scan's deadline. An outage
// longer than retry's budget leaves the rest to the bucket's TTL.
func (c *coordinator) removePieces(ctx context.Context) {
	c.mu.Lock()
	names := slices.Sorted(maps.Keys(c.objects))
	c.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	slots := make(chan struct{}, removeInFlight)
	for _, name := range names {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			err := retry(ctx, c.nc, func(ctx context.Context) error { return c.chunks.Delete(ctx, name) })
			if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) && ctx.Err() == nil {
				c.log.Warn("pieces left to expire", "from", name, "err", err)
				cancel() // the outage fails the others too
			}
		})
	}
	wg.Wait()
}

// removeInFlight is how many deletions are asked at once.
const removeInFlight = 8

func jsonJob(j Job) ([]byte, error) { return json.Marshal(j) }

// A try's deadline, and how long retry keeps trying. A publish lost in a
// dropped connection never answers, so each try has a deadline; an outage
// (a server restarting, a link down) fails every try while it lasts, and
// a link that keeps dropping ends one try per drop, so retry goes on for
// a time, not for a number of tries. The message ids make a repeated
// publish harmless.
const (
	tryDeadline  = 10 * time.Second
	outageBudget = 2 * time.Minute
)

// retry runs fn until it succeeds or fails for good, for outageBudget at
// most, waiting longer between tries (up to 5 s). A try also ends when nc
// loses its connection: a reply that was on its way is lost with it, and
// waiting out the deadline would only stall the scan.
func retry(ctx context.Context, nc *nats.Conn, fn func(context.Context) error) error {
	giveUp := time.Now().Add(outageBudget)
	wait := 200 * time.Millisecond
	for {
		err := try(ctx, nc, fn)
		if err == nil || final(err) || ctx.Err() != nil || time.Now().After(giveUp) {
			return err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// final says whether another try would fail as err did: the message is
// malformed, or names an object that is gone.
func final(err error) bool {
	return errors.Is(err, ErrBadMessage) || errors.Is(err, errNoResult) || errors.Is(err, jetstream.ErrObjectNotFound)
}

// try runs fn once, cancelled at its deadline or when nc drops.
func try(ctx context.Context, nc *nats.Conn, fn func(context.Context) error) error {
	tctx, cancel := context.WithTimeout(ctx, tryDeadline)
	defer cancel()
	dropped := nc.StatusChanged(nats.RECONNECTING, nats.CLOSED)
	defer nc.RemoveStatusListener(dropped) // closes it: the watcher ends
	go func() {
		if _, ok := <-dropped; ok {
			cancel()
		}
	}()
	return fn(tctx)
}
