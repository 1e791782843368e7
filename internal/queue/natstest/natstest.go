// Package natstest gives tests a NATS JetStream server: the machine's
// (WHODUNIT_TEST_NATS, else nats://127.0.0.1:4222), or, when none answers,
// an embedded one started for the test — except under CI (CI=true), where
// the machine's server must answer.
package natstest

import (
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// URL returns the address of a JetStream server for t.
func URL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("WHODUNIT_TEST_NATS")
	if url == "" {
		url = "nats://127.0.0.1:4222"
	}
	nc, err := nats.Connect(url, nats.Timeout(2*time.Second))
	if err == nil {
		nc.Close()
		return url
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("NATS JetStream at %s does not answer (CI requires it): %v", url, err)
	}
	t.Logf("NATS at %s does not answer (%v): starting an embedded server", url, err)
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("embedded NATS server did not start")
	}
	t.Cleanup(srv.Shutdown)
	return srv.ClientURL()
}
