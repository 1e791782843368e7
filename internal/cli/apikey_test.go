package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/apikey"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

func keyRun(t *testing.T, want int, args ...string) (string, string) {
	t.Helper()
	code, out, errs := runMain(args...)
	if code != want {
		t.Fatalf("%v: exit %d, want %d\n%s", args, code, want, errs)
	}
	return out, errs
}

// TestAPIKeyCommands creates a key, finds that exactly the printed text
// opens it in the store, lists it without its digest and revokes it.
func TestAPIKeyCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "new", "w.db")
	out, errs := keyRun(t, 0, "--db", db, "apikey", "create", "cert-b", "--tlp-max", "TLP:GREEN", "--read", "intel, findings", "--write", "inbox")
	text := strings.TrimSpace(out)
	if strings.Count(out, "\n") != 1 || !strings.HasPrefix(text, apikey.Prefix) || !strings.Contains(errs, "never again") {
		t.Fatalf("stdout %q, stderr %q: want the key alone on stdout and a warning on stderr", out, errs)
	}
	keyRun(t, 1, "--db", db, "apikey", "create", "cert-b", "--tlp-max", "green")
	keyRun(t, 2, "--db", db, "apikey", "create", "x", "--tlp-max", "red")
	keyRun(t, 2, "--db", db, "apikey", "create", "x", "--tlp-max", "amber+strict")
	keyRun(t, 2, "--db", db, "-q", "apikey", "create", "x", "--tlp-max", "green")
	soc, _ := keyRun(t, 0, "--db", db, "-q", "--json", "apikey", "create", "soc", "--tlp-max", "amber+strict", "--internal", "--admin", "--read", "*")
	var made struct{ Key, Name string }
	if err := json.Unmarshal([]byte(soc), &made); err != nil || made.Name != "soc" || !strings.HasPrefix(made.Key, apikey.Prefix) {
		t.Fatalf("create --json: %s, %v", soc, err)
	}

	var list []keyJSON
	js, _ := keyRun(t, 0, "--db", db, "--json", "apikey", "list")
	if err := json.Unmarshal([]byte(js), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "cert-b" || list[0].TLPMax != "green" || strings.Join(list[0].Read, ",") != "intel,findings" ||
		list[1].TLPMax != "amber+strict" || !list[1].Internal || !list[1].Admin || list[0].Revoked != nil {
		t.Fatalf("list: %s", js)
	}
	s := openKeys(t, db)
	k, err := apikey.Authenticate(context.Background(), s, text)
	if err != nil || k.ID != list[0].ID {
		t.Fatalf("the printed key does not open its record: %v", err)
	}
	table, _ := keyRun(t, 0, "--db", db, "apikey", "list")
	for _, secret := range []string{hex.EncodeToString(k.Hash), string(k.Hash), text} {
		if strings.Contains(table, secret) || strings.Contains(js, secret) {
			t.Fatal("apikey list shows a digest or the key")
		}
	}
	if !strings.Contains(table, "cert-b") || !strings.Contains(table, "intel,findings") {
		t.Fatalf("table:\n%s", table)
	}
	s.Close()

	keyRun(t, 0, "--db", db, "apikey", "revoke", "cert-b")
	keyRun(t, 1, "--db", db, "apikey", "revoke", "cert-b")
	s = openKeys(t, db)
	defer s.Close()
	if _, err := apikey.Authenticate(context.Background(), s, text); !errors.Is(err, apikey.ErrUnauthorized) {
		t.Fatalf("revoked key still opens: %v", err)
	}
}

func openKeys(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAuditCommand writes three entries and reads them back filtered.
func TestAuditCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "w.db")
	s := openKeys(t, db)
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i, e := range []store.AuditEntry{
		{Key: "cert-b", Method: "GET", Path: "/taxii2/", Status: 200, Remote: "127.0.0.1:5000"},
		{Key: "", Method: "GET", Path: "/whodunit/collections/", Status: 401, Remote: "127.0.0.1:5001"},
		{Key: "cert-b", Method: "GET", Path: "/whodunit/collections/intel/objects/?limit=2", Status: 200, Objects: 2, Took: 1500 * time.Microsecond},
	} {
		e.At = at.Add(time.Duration(i) * time.Hour)
		if err := s.PutAudit(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	var got []auditJSON
	js, _ := keyRun(t, 0, "--db", db, "--json", "audit", "--key", "cert-b", "--since", "2026-12-01T09:30:00Z")
	if err := json.Unmarshal([]byte(js), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Objects != 2 || got[0].Status != 200 || got[0].TookMS != 1.5 || !got[0].At.Equal(at.Add(2*time.Hour)) {
		t.Fatalf("audit --key --since: %s", js)
	}
	js, _ = keyRun(t, 0, "--db", db, "--json", "audit", "--limit", "2")
	if err := json.Unmarshal([]byte(js), &got); err != nil || len(got) != 2 || got[0].Status != 401 || got[0].Key != "" {
		t.Fatalf("audit --limit 2: %s, %v", js, err)
	}
	table, _ := keyRun(t, 0, "--db", db, "audit")
	if strings.Count(table, "\n") != 4 || !strings.Contains(table, "1.5ms") {
		t.Fatalf("table:\n%s", table)
	}
	keyRun(t, 2, "--db", db, "audit", "--since", "yesterday")
}

// The analysts' verdicts are in the audit listing, by time among the
// requests, with who decided and the note; --key and --limit apply.
func TestAuditListsVerdicts(t *testing.T) {
	db := filepath.Join(t.TempDir(), "w.db")
	s := openKeys(t, db)
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	ctx := context.Background()
	for i, e := range []store.AuditEntry{
		{Key: "lead", Method: "GET", Path: "/detections", Status: 200},
		{Key: "lead", Method: "POST", Path: "/verdicts", Status: 303},
		{Key: "other", Method: "GET", Path: "/", Status: 200},
	} {
		e.At = at.Add(time.Duration(2*i) * time.Minute)
		if err := s.PutAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	v, err := s.PutVerdict(ctx, store.Verdict{Kind: store.VerdictDetection, Target: "det-7", Decision: store.DecisionFalsePositive,
		Note: "nightly\nbackup", By: "lead", At: at.Add(3 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	var got []auditJSON
	js, _ := keyRun(t, 0, "--db", db, "--json", "audit")
	if err := json.Unmarshal([]byte(js), &got); err != nil {
		t.Fatal(err)
	}
	kinds := ""
	for _, e := range got {
		kinds += e.Kind[:1]
	}
	if kinds != "rrvr" || got[2].Verdict == nil || *got[2].Verdict != v || got[2].Key != "lead" {
		t.Fatalf("audit with a verdict (%s): %s", kinds, js)
	}
	js, _ = keyRun(t, 0, "--db", db, "--json", "audit", "--key", "other")
	if err := json.Unmarshal([]byte(js), &got); err != nil || len(got) != 1 || got[0].Kind != "request" {
		t.Fatalf("audit --key other: %s", js)
	}
	js, _ = keyRun(t, 0, "--db", db, "--json", "audit", "--limit", "2")
	if err := json.Unmarshal([]byte(js), &got); err != nil || len(got) != 2 || got[0].Kind != "verdict" {
		t.Fatalf("audit --limit 2: %s", js)
	}
	table, _ := keyRun(t, 0, "--db", db, "audit", "--key", "lead")
	if !strings.Contains(table, "VERDICT") || !strings.Contains(table, `detection det-7: false_positive (nightly\nbackup)`) || strings.Count(table, "\n") != 4 {
		t.Fatalf("table:\n%s", table)
	}
}

// The key and audit commands that only read create no store.
func TestKeyReadCommandsCreateNoStore(t *testing.T) {
	for _, args := range [][]string{{"apikey", "list"}, {"apikey", "revoke", "x"}, {"audit"}} {
		dir := t.TempDir()
		db := filepath.Join(dir, "sub", "none.db")
		_, errs := keyRun(t, 1, append([]string{"--db", db}, args...)...)
		if !strings.Contains(errs, "no database at "+db) {
			t.Errorf("%v: %q", args, errs)
		}
		if _, err := os.Stat(filepath.Join(dir, "sub")); !os.IsNotExist(err) {
			t.Errorf("%v created %s", args, filepath.Join(dir, "sub"))
		}
	}
}
