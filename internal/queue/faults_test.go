package queue

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/whodunit-project/whodunit/internal/match"
)

// faultTimeout bounds a fault test: a scan that hangs after the fault
// fails the test instead of blocking it.
const faultTimeout = 90 * time.Second

// faultSettings hand a job whose ack was lost in the fault to another
// worker after seconds, not the production minute.
var faultSettings = Settings{AckWait: 3 * time.Second}

// restartable is an embedded JetStream server on a fixed port and a file
// store in the test's directory, so it can be shut down and started again
// as the same server: the same address, the same streams and messages.
type restartable struct {
	port int
	dir  string
	mu   sync.Mutex
	srv  *server.Server
}

func newRestartable(t testing.TB) *restartable {
	t.Helper()
	r := &restartable{port: freePort(t), dir: t.TempDir()}
	if err := r.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.stop)
	return r
}

func (r *restartable) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", r.port) }

func (r *restartable) start() error {
	srv, err := server.NewServer(&server.Options{ServerName: "restartable", Host: "127.0.0.1", Port: r.port,
		JetStream: true, StoreDir: r.dir, NoSigs: true, NoLog: true})
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.srv = srv // stop shuts it down even if it never gets ready
	r.mu.Unlock()
	srv.Start()
	if !srv.ReadyForConnections(20 * time.Second) {
		return fmt.Errorf("embedded NATS server on port %d did not start", r.port)
	}
	return nil
}

func (r *restartable) stop() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
	}
}

// freePort is a port nothing listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// proxy forwards TCP connections to a NATS server. cut resets every
// connection it carries at once, as a failed link does; the clients then
// reconnect through it.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  map[net.Conn]net.Conn // client side -> server side
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]net.Conn{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.cut() })
	return p
}

func (p *proxy) url() string { return "nats://" + p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return // the test ended
		}
		upstream, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		p.conns[client] = upstream
		p.mu.Unlock()
		go p.forward(client, upstream)
	}
}

// forward copies both ways until either side ends, then closes both.
func (p *proxy) forward(client, upstream net.Conn) {
	go func() { _, _ = io.Copy(upstream, client); upstream.Close(); client.Close() }()
	_, _ = io.Copy(client, upstream)
	client.Close()
	upstream.Close()
	p.mu.Lock()
	delete(p.conns, client)
	p.mu.Unlock()
}

// carrying waits until the proxy carries n client connections.
func (p *proxy) carrying(ctx context.Context, n int) error {
	for {
		p.mu.Lock()
		have := len(p.conns)
		p.mu.Unlock()
		if have >= n {
			return nil
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			return fmt.Errorf("the proxy carries %d connections, not %d: %w", have, n, ctx.Err())
		}
	}
}

// cut resets both ends of every connection: linger 0 sends RST, as a
// broken link or a killed peer does, with no orderly close and whatever
// was in flight lost.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for client, upstream := range p.conns {
		for _, c := range []net.Conn{client, upstream} {
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			c.Close()
		}
	}
	clear(p.conns)
}

// reconnects counts the reconnections of the connections made with its
// options.
type reconnects struct{ n atomic.Int64 }

// options are the production ones, counting reconnections and logging
// the connection's asynchronous errors (a slow consumer) in the test's log.
func (r *reconnects) options(t testing.TB) []nats.Option {
	log := testLog(t)
	return append(ConnectOptions(), nats.ReconnectHandler(func(*nats.Conn) { r.n.Add(1) }),
		nats.ErrorHandler(func(nc *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Warn("nats", "conn", nc.Opts.Name, "subject", subject, "err", err)
		}))
}

// faultScan runs the small fixture's scan through two workers on url
// while faults break something, each in its turn: midScan once the
// coordinator has counted its tenth piece, midShare as it shares its
// 500th sighting for other systems. Small results travel in messages,
// larger ones through the bucket. It checks that the faults came before
// the scan's end, that the coordinator reconnected after each and the
// workers at least twice in all, that the store ends as a local scan's,
// and what afterScan checks.
func faultScan(t *testing.T, url string, midScan, midShare func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), faultTimeout)
	defer cancel()
	f := newSmallFixture(t)
	local, lf := localScan(t, f)
	names := testNames(t, url)
	var workerRe, coordRe reconnects
	stop := startWorkersWith(t, url, 2, WorkerOptions{Names: names, Settings: faultSettings, resultLimit: 16 << 10},
		append(workerRe.options(t), nats.Name("worker"))...)
	defer stop()

	atPiece, atSighting := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	total, afterFault := 0, 0 // pieces in all; pieces counted after the mid-scan fault
	faulted, faultsDone := make(chan struct{}), make(chan error, 1)
	faultsOver := make(chan struct{})
	go func() {
		err := runFaults(ctx, faulted, []chan struct{}{atPiece, atSighting}, []func(context.Context) error{midScan, midShare})
		close(faultsOver)
		faultsDone <- err
	}()
	var scanOnce, shareOnce sync.Once
	var shared int
	so := f.scanOptions()
	so.Log = testLog(t)
	so.OnSighting = func(match.Sighting) {
		if shared++; shared == 500 {
			// the share waits for the fault: sharing is quick, and
			// would otherwise be over before the fault struck
			shareOnce.Do(func() { close(atSighting); <-faultsOver })
		}
	}
	opt := ScanOptions{ScanOptions: so, Names: names, Settings: faultSettings, ChunkSize: 64 << 10,
		OnProgress: func(done, all int, _ int64) {
			mu.Lock()
			defer mu.Unlock()
			total = all
			select {
			case <-faulted:
				afterFault++
			default:
			}
			if done == 10 {
				scanOnce.Do(func() { close(atPiece) })
			}
		}}
	db := f.store(t)
	t0 := time.Now()
	got, err := Scan(ctx, connect(t, url, append(coordRe.options(t), nats.Name("coordinator"))...), db, opt)
	took := time.Since(t0)
	cancel() // a fault still waiting for its moment gives up
	if ferr := <-faultsDone; ferr != nil {
		t.Errorf("faults: %v", ferr)
	}
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	mu.Lock()
	t.Logf("%d pieces, %d counted after the mid-scan fault; %d worker and %d coordinator reconnections; scan %s",
		total, afterFault, workerRe.n.Load(), coordRe.n.Load(), took.Round(time.Millisecond))
	if afterFault == 0 {
		t.Errorf("no piece was counted after the mid-scan fault: it did not happen mid-scan")
	}
	mu.Unlock()
	if workerRe.n.Load() < 2 || coordRe.n.Load() < 2 {
		t.Errorf("reconnections: workers %d, coordinator %d; each fault was meant to break every connection",
			workerRe.n.Load(), coordRe.n.Load())
	}
	gf := stored(t, db)
	sameAsLocal(t, local, lf, got, gf)
	afterScan(t, url, names, len(gf.keys))
}

// runFaults runs each fault when its moment comes, in turn, and closes
// faulted after the first.
func runFaults(ctx context.Context, faulted chan struct{}, moments []chan struct{}, faults []func(context.Context) error) error {
	for i, moment := range moments {
		select {
		case <-moment:
		case <-ctx.Done():
			return fmt.Errorf("fault %d never came: %w", i+1, ctx.Err())
		}
		if err := faults[i](ctx); err != nil {
			return fmt.Errorf("fault %d: %w", i+1, err)
		}
		if i == 0 {
			close(faulted)
		}
	}
	return nil
}

// afterScan checks what the scan left on the server: the sightings
// stream holds every stored sighting once (Scan returns when they are
// shared), and the bucket no piece or result (Scan removes them).
func afterScan(t *testing.T, url string, names Names, sightings int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	js, err := jetstream.New(connect(t, url))
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, names.Sightings)
	if err != nil {
		t.Fatal(err)
	}
	if n := st.CachedInfo().State.Msgs; n != uint64(sightings) {
		t.Errorf("the sightings stream holds %d messages, the store %d sightings", n, sightings)
	}
	bucket, err := js.ObjectStore(ctx, names.ChunkBucket)
	if err != nil {
		t.Fatal(err)
	}
	left, err := bucket.List(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoObjectsFound) {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("%d objects left in the bucket, the first %s", len(left), left[0].Name)
	}
}

// The NATS server is shut down and started again (same port, same file
// store) mid-scan, and again while the coordinator shares sightings:
// coordinator and workers reconnect, and the scan ends with exactly the
// local scan's sightings and detections.
func TestNATSServerRestartMidScan(t *testing.T) {
	srv := newRestartable(t)
	restart := func(context.Context) error {
		srv.stop()
		time.Sleep(time.Second) // the outage: every client's calls fail meanwhile
		return srv.start()
	}
	faultScan(t, srv.url(), restart, restart)
}

// Every client connection (the coordinator's and the two workers') is
// reset by a proxy between them and the server, three times mid-scan and
// once while the coordinator shares sightings: the scan ends with exactly
// the local scan's sightings and detections.
func TestConnectionsDroppedMidScan(t *testing.T) {
	u, err := url.Parse(natsURL(t))
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	cuts := func(n int) func(context.Context) error {
		return func(ctx context.Context) error {
			for i := range n {
				// all three clients are back (or connected at all) first
				if err := p.carrying(ctx, 3); err != nil {
					return fmt.Errorf("before cut %d: %w", i+1, err)
				}
				p.cut()
				time.Sleep(200 * time.Millisecond)
			}
			return nil
		}
	}
	faultScan(t, p.url(), cuts(3), cuts(1))
}
