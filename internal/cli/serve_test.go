package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/apikey"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveKey stores an API key in the database at path and returns its text.
func serveKey(t *testing.T, path string) string {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rec, text, err := apikey.New("partner", tlp.Ceiling{Max: tlp.Amber}, false, []string{"*"}, []string{"inbox"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutKey(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	return text
}

// `whodunit serve` serves the store's intelligence over TAXII, audits
// every request, and stops cleanly when its context ends (SIGINT/SIGTERM).
func TestServeEndToEnd(t *testing.T) {
	const apt1 = "../../../shared/data/intel/stix/apt1.json"
	if _, err := os.Stat(apt1); err != nil {
		t.Skipf("shared data absent: %v", err)
	}
	db := filepath.Join(t.TempDir(), "w.db")
	if code, _, errs := runMain("--db", db, "intel", "import", apt1); code != 0 {
		t.Fatalf("import: %d %s", code, errs)
	}
	key := serveKey(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"--db", db, "serve", "--listen", "127.0.0.1:0", "--org", "Test CERT"}, strings.NewReader(""), io.Discard, &stderr)
	}()
	addr := waitFor(t, &stderr, regexp.MustCompile(`serving TAXII 2.1 at (http://[0-9.:]+)/taxii2/`))
	get := func(path string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Accept", "application/taxii+json;version=2.1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if code, d := get("/taxii2/"); code != 200 || d["title"] != "Test CERT" {
		t.Fatalf("discovery: %d %v", code, d)
	}
	code, env := get("/whodunit/collections/intel/objects/?match[type]=intrusion-set")
	if objs, _ := env["objects"].([]any); code != 200 || len(objs) != 1 {
		t.Fatalf("objects: %d %v", code, env)
	}
	cancel()
	select {
	case c := <-done:
		if c != 0 {
			t.Fatalf("serve exited %d: %s", c, stderr.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("serve did not stop")
	}
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var n int
	_ = st.Audit(context.Background(), store.AuditQuery{Key: "partner"}, func(e store.AuditEntry) error {
		n++
		return nil
	})
	if n != 2 {
		t.Fatalf("audit holds %d requests of the key, want 2", n)
	}
}

func waitFor(t *testing.T, b *lockedBuffer, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(b.String()); m != nil {
			return m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %s in %s", re, b.String())
	return ""
}

func TestServeUsage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "w.db")
	for _, args := range [][]string{
		{"serve", "--default-tlp", "purple"},
		{"serve", "--tls-cert", "c.pem"},
	} {
		if code, _, _ := runMain(append([]string{"--db", db}, args...)...); code != ExitUsage {
			t.Errorf("%v: exit %d", args, code)
		}
	}
	if code, _, errs := runMain("--db", db, "serve"); code != ExitError || !strings.Contains(errs, "no database") {
		t.Fatalf("no database: %d %s", code, errs)
	}
}
