package watch

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/whodunit-project/whodunit/internal/queue"
)

// NATSSubject is where the watcher publishes its alerts: the deployment's
// sightings subject (see queue.Names), then "watch".
func NATSSubject(n queue.Names) string { return n.SightingSubject + ".watch" }

// NATSPublisher makes sure the sightings stream exists and returns a
// Publish for Options: each alert is a JetStream message whose id is the
// sighting key, so that an alert raised again after a restart is dropped
// by the stream's duplicate window.
func NATSPublisher(ctx context.Context, js jetstream.JetStream, n queue.Names, retention time.Duration) (func(context.Context, string, []byte) error, error) {
	if retention <= 0 {
		retention = queue.DefaultSettings.Retention
	}
	cfg := jetstream.StreamConfig{Name: n.Sightings, Subjects: []string{n.SightingSubject + ".>"},
		Duplicates: min(retention, 24*time.Hour), MaxAge: retention}
	if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
		return nil, fmt.Errorf("creating stream %s: %w", cfg.Name, err)
	}
	subject := NATSSubject(n)
	return func(ctx context.Context, key string, data []byte) error {
		_, err := js.Publish(ctx, subject, data, jetstream.WithMsgID(key))
		return err
	}, nil
}
