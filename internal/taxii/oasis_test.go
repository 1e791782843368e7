package taxii_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// oasisReport is what testdata/oasis_client_check.py saw through the OASIS
// reference client (taxii2-client).
type oasisReport struct {
	Title            string   `json:"title"`
	APIRoots         []string `json:"api_roots"`
	Default          string   `json:"default"`
	Versions         []string `json:"versions"`
	MaxContentLength int64    `json:"max_content_length"`
	Collections      []struct {
		ID       string `json:"id"`
		Alias    string `json:"alias"`
		CanRead  bool   `json:"can_read"`
		CanWrite bool   `json:"can_write"`
	} `json:"collections"`
	IntelIDs          []string `json:"intel_ids"`
	IntelPages        int      `json:"intel_pages"`
	IntelManifestIDs  []string `json:"intel_manifest_ids"`
	IntelIndicatorIDs []string `json:"intel_indicator_ids"`
	GetObjectIDs      []string `json:"get_object_ids"`
	VersionsOfFirst   []string `json:"versions_of_first"`
	Status            struct {
		Status       string   `json:"status"`
		TotalCount   int      `json:"total_count"`
		SuccessCount int      `json:"success_count"`
		FailureCount int      `json:"failure_count"`
		PendingCount int      `json:"pending_count"`
		Successes    []string `json:"successes"`
	} `json:"status"`
	StatusAgain    string   `json:"status_again"`
	InboxObjectIDs []string `json:"inbox_object_ids"`
	AfterDelete    int      `json:"after_delete"`
}

// oasisClient finds the OASIS reference TAXII client: the directory that
// holds its taxii2client package (WHODUNIT_OASIS_TAXII_CLIENT) and a Python
// with its dependencies, requests, six and pytz (WHODUNIT_OASIS_PYTHON,
// python3 by default). Its package is not one this machine's registries
// carry, so the test skips, saying so, when it is not given.
func oasisClient(t *testing.T) (dir, python string) {
	dir = os.Getenv("WHODUNIT_OASIS_TAXII_CLIENT")
	if dir == "" {
		t.Skip("SKIPPED: set WHODUNIT_OASIS_TAXII_CLIENT to a checkout of the OASIS taxii2-client to run this check (docs/taxii.md)")
	}
	if _, err := os.Stat(filepath.Join(dir, "taxii2client", "v21")); err != nil {
		t.Fatalf("WHODUNIT_OASIS_TAXII_CLIENT=%s: no taxii2client/v21 package there: %v", dir, err)
	}
	python = os.Getenv("WHODUNIT_OASIS_PYTHON")
	if python == "" {
		python = "python3"
	}
	return dir, python
}

// TestOASISClient runs the OASIS reference TAXII 2.1 client against the
// real server on loopback, over the APT1 bundle: discovery, API root,
// collections, paging objects and the manifest by next, a type filter,
// one object and its versions, a POST to the inbox followed to its final
// status, and a DELETE. What the client saw must equal what the store
// serves.
func TestOASISClient(t *testing.T) {
	dir, python := oasisClient(t)
	f := apt1Fixture(t)
	addr := startServer(t, f)
	// What the store serves before the client posts anything (a POST to
	// the inbox is imported, and so becomes intelligence too).
	intel := idsOf(f.all("amber", intelC+"objects/", 1000))
	inds := idsOf(f.all("amber", intelC+"objects/?match[type]=indicator", 1000))
	posted := medallionObjects(t)[:3]
	envFile := filepath.Join(t.TempDir(), "envelope.json")
	if err := os.WriteFile(envFile, envelopeOf(posted), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "testdata/oasis_client_check.py", addr+"/taxii2/", f.keys["amber"], envFile)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("OASIS client: %v\n%s", err, stderr.String())
	}
	var got oasisReport
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("client report: %v\n%s", err, out)
	}
	checkOASISDiscovery(t, got, addr)
	checkOASISReads(t, got, intel, inds)
	checkOASISWrites(t, got, posted)
}

func checkOASISDiscovery(t *testing.T, got oasisReport, addr string) {
	t.Helper()
	if got.Title == "" || got.Default != addr+root || !slices.Equal(got.APIRoots, []string{addr + root}) {
		t.Errorf("discovery: title %q, default %q, roots %v", got.Title, got.Default, got.APIRoots)
	}
	if !slices.Contains(got.Versions, "application/taxii+json;version=2.1") || got.MaxContentLength <= 0 {
		t.Errorf("API root: versions %v, max_content_length %d", got.Versions, got.MaxContentLength)
	}
	perms := map[string][2]bool{}
	for _, c := range got.Collections {
		perms[c.Alias] = [2]bool{c.CanRead, c.CanWrite}
	}
	want := map[string][2]bool{"intel": {true, false}, "findings": {true, false}, "inbox": {true, true}}
	for alias, p := range want {
		if perms[alias] != p {
			t.Errorf("collection %s: client saw can_read/can_write %v, want %v", alias, perms[alias], p)
		}
	}
}

func checkOASISReads(t *testing.T, got oasisReport, want, inds []string) {
	t.Helper()
	if !slices.Equal(got.IntelIDs, want) {
		t.Errorf("client paged %d intel objects, the store serves %d (or in another order)", len(got.IntelIDs), len(want))
	}
	if pages := (len(want) + 6) / 7; got.IntelPages != pages {
		t.Errorf("client read %d pages of 7, want %d", got.IntelPages, pages)
	}
	if !slices.Equal(got.IntelManifestIDs, want) {
		t.Errorf("manifest: client saw %d entries, want %d in the objects' order", len(got.IntelManifestIDs), len(want))
	}
	if !slices.Equal(got.IntelIndicatorIDs, inds) {
		t.Errorf("match[type]=indicator: client saw %d, want %d", len(got.IntelIndicatorIDs), len(inds))
	}
	if !slices.Equal(got.GetObjectIDs, want[:1]) || len(got.VersionsOfFirst) == 0 {
		t.Errorf("object %s: client got %v with versions %v", want[0], got.GetObjectIDs, got.VersionsOfFirst)
	}
}

func checkOASISWrites(t *testing.T, got oasisReport, posted []json.RawMessage) {
	t.Helper()
	var ids []string
	for _, raw := range posted {
		ids = append(ids, head(t, raw).ID)
	}
	slices.Sort(ids)
	s := got.Status
	if s.Status != "complete" || s.TotalCount != len(posted) || s.SuccessCount != len(posted) ||
		s.FailureCount != 0 || s.PendingCount != 0 || !slices.Equal(s.Successes, ids) || got.StatusAgain != "complete" {
		t.Errorf("status of a POST of %d objects: %+v, again %q", len(posted), s, got.StatusAgain)
	}
	if first := head(t, posted[0]).ID; !slices.Equal(got.InboxObjectIDs, []string{first}) || got.AfterDelete != 404 {
		t.Errorf("inbox object %s: client got %v, then %d after DELETE", first, got.InboxObjectIDs, got.AfterDelete)
	}
}

func idsOf(hs []stixHead) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.ID
	}
	return out
}
