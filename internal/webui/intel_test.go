package webui_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/webui"
)

const apt1FQDN = "/work/shared/data/intel/apt1/apt1-fqdn.dat"

type inventoryAnswer struct {
	Sources []struct {
		Name    string
		Objects int
	}
	Subscriptions []struct{ Name string }
	Types         []struct {
		Type  string
		Count int
	}
	Total int
}

// upload posts one file as multipart; csrf "" sends none.
func (e *env) upload(c *http.Client, bearer, path, name, csrf string, content []byte) (int, string) {
	e.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if csrf != "" {
		_ = mw.WriteField("csrf", csrf)
	}
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(content)
	_ = mw.Close()
	req, err := http.NewRequest(http.MethodPost, e.base+path, &b)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	code, body, _ := e.do(c, req)
	return code, body
}

func readData(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("real data not available: %v", err)
	}
	return b
}

// The page's and the API's figures are the store's; an upload of a real
// file changes them; a file refused whole shows why and changes nothing.
func TestIntelligencePage(t *testing.T) {
	e := newEnv(t, webui.Config{})
	key := e.key("lead", "amber", true)
	ctx := context.Background()
	stats, err := e.db.IntelStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sums, err := e.db.SourceSummaries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var inv inventoryAnswer
	if code := e.getJSON(key, "/api/v1/intel", &inv); code != http.StatusOK {
		t.Fatalf("intel API: %d", code)
	}
	for _, tc := range inv.Types {
		if stats.Objects[tc.Type] != tc.Count {
			t.Errorf("%s: API says %d, store %d", tc.Type, tc.Count, stats.Objects[tc.Type])
		}
	}
	if len(inv.Types) != len(stats.Objects) || len(inv.Sources) != len(sums) || len(sums) == 0 {
		t.Fatalf("types %d/%d, sources %d/%d", len(inv.Types), len(stats.Objects), len(inv.Sources), len(sums))
	}
	if inv.Sources[0].Objects != sums[len(sums)-1].Objects {
		t.Errorf("newest source: %d objects, store %d", inv.Sources[0].Objects, sums[len(sums)-1].Objects)
	}
	browser := e.browser(key)
	code, body, _ := e.do(browser, mustReq(t, http.MethodGet, e.base+"/intel", ""))
	doc := parse(t, body)
	if code != http.StatusOK || byID(doc, "intel-total") != strconv.Itoa(inv.Total) {
		t.Fatalf("page: %d, total %q, want %d", code, byID(doc, "intel-total"), inv.Total)
	}
	csrf := attrOf(doc, "input", "name", "csrf", "value")

	// A real list, uploaded through the form.
	code, body = e.upload(browser, "", "/intel/import", "apt1-fqdn.dat", csrf, readData(t, apt1FQDN))
	if code != http.StatusOK || byID(parse(t, body), "import-error") != "" {
		t.Fatalf("upload: %d %s", code, byID(parse(t, body), "import-error"))
	}
	var after inventoryAnswer
	e.getJSON(key, "/api/v1/intel", &after)
	if after.Total <= inv.Total || len(after.Sources) != len(inv.Sources)+1 || after.Sources[0].Name != "lead" {
		t.Fatalf("after the upload: total %d (was %d), sources %d (was %d), newest %q", after.Total, inv.Total, len(after.Sources), len(inv.Sources), after.Sources[0].Name)
	}

	// A real STIX bundle cut short: refused whole, naming the file.
	stix := readData(t, "/work/shared/data/intel/stix/apt1.json")
	code, body = e.upload(http.DefaultClient, key, "/api/v1/intel/import", "apt1-cut.json", "", stix[:len(stix)/2])
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "apt1-cut.json") || strings.Contains(body, os.TempDir()) {
		t.Fatalf("cut bundle: %d %s", code, body)
	}
	var same inventoryAnswer
	e.getJSON(key, "/api/v1/intel", &same)
	if same.Total != after.Total || len(same.Sources) != len(after.Sources) {
		t.Errorf("a refused file changed the store: total %d → %d, sources %d → %d", after.Total, same.Total, len(after.Sources), len(same.Sources))
	}
}

// Bad lines of a list are reported with the file and line.
func TestImportReportsLines(t *testing.T) {
	e := newEnv(t, webui.Config{})
	key := e.key("lead", "amber", true)
	content := append(readData(t, apt1FQDN), []byte("not a valid line at all\there\n")...)
	code, body := e.upload(http.DefaultClient, key, "/api/v1/intel/import", filepath.Base(apt1FQDN), "", content)
	t.Logf("%d %s", code, body[:min(len(body), 600)])
	if code != http.StatusCreated && code != http.StatusUnprocessableEntity {
		t.Fatalf("upload: %d %s", code, body)
	}
	if !strings.Contains(body, "apt1-fqdn.dat:") {
		t.Errorf("no file:line in %s", body)
	}
}

// Partners neither see the inventory nor import; a session needs its
// CSRF token to import.
func TestIntelligenceRefusals(t *testing.T) {
	e := newEnv(t, webui.Config{})
	partner := e.key("partner", "amber", false)
	lead := e.key("lead", "amber", true)
	if code := e.getJSON(partner, "/api/v1/intel", &inventoryAnswer{}); code != http.StatusForbidden {
		t.Errorf("partner inventory: %d", code)
	}
	data := readData(t, apt1FQDN)
	if code, _ := e.upload(http.DefaultClient, partner, "/api/v1/intel/import", "apt1-fqdn.dat", "", data); code != http.StatusForbidden {
		t.Errorf("partner import: %d", code)
	}
	browser := e.browser(lead)
	for _, tok := range []string{"", "forged"} {
		if code, _ := e.upload(browser, "", "/intel/import", "apt1-fqdn.dat", tok, data); code != http.StatusForbidden {
			t.Errorf("import with csrf %q: %d", tok, code)
		}
	}
	var inv inventoryAnswer
	e.getJSON(lead, "/api/v1/intel", &inv)
	for _, s := range inv.Sources {
		if s.Name == "lead" {
			t.Error("a refused upload was imported")
		}
	}
}
