// Package queue spreads a scan over worker processes through NATS
// JetStream. The coordinator (Scan) builds the matcher snapshot, puts its
// inputs stream in an object store under its version, cuts the files into
// the scan engine's pieces and publishes one job per piece on a work-queue
// stream; workers (Worker) fetch the snapshot once per version, read their
// piece, and publish the result on a results stream before they ack. The
// coordinator stores sightings, merges the events' features into one
// behaviour analyzer and ends with the summary a local scan gives.
//
// Delivery is at least once; the effect is exactly once: jobs and results
// carry message ids (JetStream drops duplicates within its window), the
// coordinator counts each piece once whatever worker sent it, and
// sightings are keyed by logical source, so a repeat stores nothing new.
package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Names are the streams, subjects and buckets of one deployment; every
// name derives from a prefix, so that tests (and tenants) never collide.
type Names struct {
	Jobs, Results, Sightings    string // streams
	JobSubject, ResultSubject   string // prefixes: SUBJECT.<scan id>
	SightingSubject             string // where other systems subscribe: SUBJECT.<scan id>
	SnapshotBucket, ChunkBucket string
	Consumer                    string // the workers' shared durable consumer
}

// DefaultPrefix names a deployment's streams when no prefix is given.
const DefaultPrefix = "WHODUNIT"

// NamesFor derives the names from prefix (letters, digits, '_', '-').
func NamesFor(prefix string) Names {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	sub := strings.ToLower(prefix)
	return Names{Jobs: prefix + "_JOBS", Results: prefix + "_RESULTS", Sightings: prefix + "_SIGHTINGS",
		JobSubject: sub + ".jobs", ResultSubject: sub + ".results", SightingSubject: sub + ".sightings",
		SnapshotBucket: prefix + "_SNAPSHOTS", ChunkBucket: prefix + "_CHUNKS", Consumer: prefix + "_WORKERS"}
}

// Settings tune the streams.
type Settings struct {
	// AckWait is how long a job may go unacknowledged before JetStream
	// hands it to another worker (workers report progress on long jobs).
	AckWait time.Duration
	// Retention is how long results, sightings and chunks are kept: a
	// coordinator restarted within it resumes its scan.
	Retention time.Duration
}

// DefaultSettings are what the commands use.
var DefaultSettings = Settings{AckWait: 60 * time.Second, Retention: 24 * time.Hour}

// ConnectOptions are the connection options coordinator and workers need
// to ride out an outage (a restarted server, a dropped link): reconnect
// forever, a second or so apart (jittered, so a restarted server is not
// met by every client at once), and ping every 15 s, so that a link that
// died silently, with no reset, is given up after two unanswered pings
// (within 45 s) rather than the client's default of minutes. What the
// outage failed, the coordinator and workers retry (see retry).
func ConnectOptions() []nats.Option {
	return []nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(time.Second),
		nats.ReconnectJitter(500*time.Millisecond, time.Second), nats.PingInterval(15 * time.Second), nats.MaxPingsOutstanding(2)}
}

// Setup creates (or updates) the streams, the workers' consumer and the
// buckets.
func Setup(ctx context.Context, js jetstream.JetStream, n Names, s Settings) error {
	if s.AckWait <= 0 {
		s.AckWait = DefaultSettings.AckWait
	}
	if s.Retention <= 0 {
		s.Retention = DefaultSettings.Retention
	}
	dup := min(s.Retention, 24*time.Hour)
	streams := []jetstream.StreamConfig{
		{Name: n.Jobs, Subjects: []string{n.JobSubject + ".>"}, Retention: jetstream.WorkQueuePolicy, Duplicates: dup, MaxAge: s.Retention},
		{Name: n.Results, Subjects: []string{n.ResultSubject + ".>"}, Duplicates: dup, MaxAge: s.Retention},
		{Name: n.Sightings, Subjects: []string{n.SightingSubject + ".>"}, Duplicates: dup, MaxAge: s.Retention},
	}
	for _, cfg := range streams {
		if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("creating stream %s: %w", cfg.Name, err)
		}
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, n.Jobs, jetstream.ConsumerConfig{Durable: n.Consumer,
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: s.AckWait, MaxAckPending: 1024}); err != nil {
		return fmt.Errorf("creating consumer %s: %w", n.Consumer, err)
	}
	for _, b := range []string{n.SnapshotBucket, n.ChunkBucket} {
		if _, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: b, TTL: s.Retention}); err != nil {
			return fmt.Errorf("creating bucket %s: %w", b, err)
		}
	}
	return nil
}

// Teardown deletes everything Setup made (for tests and uninstalling).
func Teardown(ctx context.Context, js jetstream.JetStream, n Names) error {
	var errs []error
	for _, s := range []string{n.Jobs, n.Results, n.Sightings} {
		if err := js.DeleteStream(ctx, s); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			errs = append(errs, err)
		}
	}
	for _, b := range []string{n.SnapshotBucket, n.ChunkBucket} {
		if err := js.DeleteObjectStore(ctx, b); err != nil && !errors.Is(err, jetstream.ErrBucketNotFound) &&
			!errors.Is(err, jetstream.ErrStreamNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
