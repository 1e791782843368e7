package cli_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/store/postgres/pgtest"
)

// --db takes a PostgreSQL DSN: import, scan and attribute go to the
// server, and intel stats reads back what the import wrote.
func TestCommandsOnPostgres(t *testing.T) {
	// heavy and independent: runs beside the rest of the package
	t.Parallel()
	if testing.Short() {
		t.Skip("needs a PostgreSQL server")
	}
	dsn := pgtest.NewDatabase(t)
	run := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := runMainArgs(&out, &errb, append([]string{"--db", dsn}, args...)...); code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, errb.String())
		}
		return out.String()
	}
	run("-q", "intel", "import", "--actor", "APT1", filepath.Join(examplesDir, "intel", "actors", "APT1"))
	var st struct {
		Objects map[string]int `json:"objects"`
	}
	if err := json.Unmarshal([]byte(run("--json", "intel", "stats")), &st); err != nil {
		t.Fatal(err)
	}
	if st.Objects["indicator"] != 3080 {
		t.Errorf("%d indicators on the server, want the APT1 feeds' 3080", st.Objects["indicator"])
	}
	run("-q", "scan", filepath.Join(examplesDir, "telemetry", "dns.log.gz"))
	var doc struct {
		Summary struct {
			Sightings int `json:"sightings"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(run("--json", "attribute")), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Summary.Sightings == 0 {
		t.Error("no sightings analysed from the server")
	}
}
