package watch_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/whodunit-project/whodunit/internal/queue"
	"github.com/whodunit-project/whodunit/internal/queue/natstest"
	"github.com/whodunit-project/whodunit/internal/watch"
)

// natsURL is a JetStream server for t (see natstest).
func natsURL(t testing.TB) string { return natstest.URL(t) }

// TestAlertsOnNATS publishes the alerts of a watched real log on
// JetStream: one message per alert, its id the sighting key, and an
// alert published again (as after a restart) is dropped as a duplicate.
func TestAlertsOnNATS(t *testing.T) {
	logs, _ := scenarioLogs(t)
	nc, err := nats.Connect(natsURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	names := queue.NamesFor(fmt.Sprintf("WATCHTEST_%d", time.Now().UnixNano()))
	publish, err := watch.NATSPublisher(ctx, js, names, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer queue.Teardown(ctx, js, names)

	dir := t.TempDir()
	dbPath := filepath.Join(dir, "w.db")
	apt1Store(t, dbPath)
	live := filepath.Join(dir, "live")
	os.Mkdir(live, 0o755)
	path := filepath.Join(live, "dns.log")
	os.WriteFile(path, []byte(logs["dns"].head()+joinAll(logs["dns"].records)), 0o644)
	state, alerts := filepath.Join(dir, "state.json"), filepath.Join(dir, "alerts.jsonl")
	r := startWatch(t, dbPath, watch.Options{Paths: []string{live}, State: state, AlertsFile: alerts, NoBehavior: true, Publish: publish})
	waitFor(t, "the log", func() bool { return caughtUp(t, state, path) })
	r.stop(t)
	got := readAlerts(t, alerts)
	if len(got) == 0 {
		t.Fatal("no alerts")
	}
	if err := publish(ctx, got[0].Key, []byte(`{}`)); err != nil { // raised again after a restart
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, names.Sightings)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{watch.NATSSubject(names)}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, a := range got {
		want[a.Key] = true
	}
	batch, err := cons.Fetch(len(got)+1, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for msg := range batch.Messages() {
		n++
		if id := msg.Headers().Get(nats.MsgIdHdr); !want[id] {
			t.Errorf("message id %q is no alert's key", id)
		}
	}
	if n != len(got) {
		t.Errorf("%d messages on %s for %d alerts", n, watch.NATSSubject(names), len(got))
	}
}
