package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/cli"
	"github.com/whodunit-project/whodunit/internal/report"
)

// The findings collection carries the report's attribution: on the demo's
// store (real APT1 intelligence, real background logs), every campaign the
// report attributes to an actor is served with an attributed-to
// relationship to that actor, with the likelihood as its confidence, and
// the actor beside it; a campaign the report leaves unnamed has none.
func TestFindingsCarryTheReportsAttribution(t *testing.T) {
	dir, demo := demoDB(t)
	var doc report.Document
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil || json.Unmarshal(data, &doc) != nil {
		t.Fatalf("report.json: %v", err)
	}
	db := copyStore(t, demo)
	key := strings.TrimSpace(runOK(t, "--db", db, "apikey", "create", "partner", "--tlp-max", "amber", "--read", "findings"))
	base := serveStore(t, db)

	objs := fetchAll(t, base+"/whodunit/collections/findings/objects/", key)
	served := map[string]bool{}
	var rels []attribution
	for _, raw := range objs {
		var o struct {
			ID   string `json:"id"`
			Type string `json:"type"`
			attribution
		}
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		served[o.ID] = true
		if o.Type == "relationship" && o.RelType == "attributed-to" {
			rels = append(rels, o.attribution)
		}
	}
	named := 0
	for _, c := range doc.Campaigns {
		a := c.Attribution
		if !a.Named {
			continue
		}
		named++
		rel := findAttribution(rels, a.ActorID)
		if rel == nil || !served[rel.Source] || !served[a.ActorID] {
			t.Errorf("campaign %s, named %s by the report: attributed-to %+v, actor served %v", c.ID, a.Actor, rel, served[a.ActorID])
			continue
		}
		if want := int(math.Round(a.Likelihood * 100)); rel.Confidence != want {
			t.Errorf("attributed-to %s: confidence %d, the report's likelihood %.2f", a.Actor, rel.Confidence, a.Likelihood)
		}
	}
	if named == 0 || len(rels) != named {
		t.Fatalf("the report names %d actors; findings serve %d attributed-to relationships", named, len(rels))
	}
	t.Logf("%d of %d campaigns named; %d objects in findings", named, len(doc.Campaigns), len(objs))
}

type attribution struct {
	RelType    string `json:"relationship_type"`
	Source     string `json:"source_ref"`
	Target     string `json:"target_ref"`
	Confidence int    `json:"confidence"`
}

func findAttribution(rels []attribution, actor string) *attribution {
	for i := range rels {
		if rels[i].Target == actor && strings.HasPrefix(rels[i].Source, "campaign--") {
			return &rels[i]
		}
	}
	return nil
}

// copyStore copies a SQLite store (and its WAL, if any), so that serving
// it writes nothing into the shared demo store.
func copyStore(t *testing.T, db string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "w.db")
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(db + suffix)
		if err != nil && suffix != "" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := runMainArgs(&out, &errb, args...); code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errb.String())
	}
	return out.String()
}

// serveStore runs `whodunit serve` on db until the test ends and returns
// its base URL.
func serveStore(t *testing.T, db string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(ctx, []string{"--db", db, "serve", "--listen", "127.0.0.1:0"}, strings.NewReader(""), io.Discard,
			writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return stderr.Write(p) }))
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	re := regexp.MustCompile(`serving TAXII 2.1 at (http://[0-9.:]+)/taxii2/`)
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		m := re.FindStringSubmatch(stderr.String())
		mu.Unlock()
		if m != nil {
			return m[1]
		}
	}
	t.Fatal("serve did not start")
	return ""
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// fetchAll pages a TAXII collection's objects to the end.
func fetchAll(t *testing.T, target, key string) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	next := ""
	for {
		req, _ := http.NewRequest(http.MethodGet, target+"?next="+next, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Accept", "application/taxii+json;version=2.1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			More    bool              `json:"more"`
			Next    string            `json:"next"`
			Objects []json.RawMessage `json:"objects"`
		}
		err = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", target, resp.StatusCode, err)
		}
		out = append(out, e.Objects...)
		if !e.More {
			return out
		}
		next = e.Next
	}
}
