package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/cli"
	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/scenario"
)

var sharedData = filepath.Join("..", "..", "..", "shared", "data")

func needShared(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(sharedData); err != nil {
		t.Skip("shared data not present")
	}
}

// pick draws n indicator values of a Zeek intel file, deterministically.
func pick(t *testing.T, path string, n int, rng *rand.Rand) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var all []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		all = append(all, strings.SplitN(line, "\t", 2)[0])
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	return all[:n]
}

func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// campaignOf finds the campaign holding a victim.
func campaignOf(doc *report.Document, victim string) *report.Campaign {
	for i := range doc.Campaigns {
		for _, v := range doc.Campaigns[i].Victims {
			if v == victim {
				return &doc.Campaigns[i]
			}
		}
	}
	return nil
}

var confident = map[string]bool{"likely": true, "very likely": true, "almost certain": true}

// TestHuntScenarios injects two actors and three decoys into the real
// WRCCDC logs and checks the attribution against the truth.
func TestHuntScenarios(t *testing.T) {
	// heavy and independent: runs beside the rest of the package
	t.Parallel()
	needShared(t)
	if testing.Short() {
		t.Skip("end-to-end scenario")
	}
	rng := rand.New(rand.NewSource(42))
	dir := t.TempDir()
	apt1 := filepath.Join(sharedData, "intel", "apt1")
	// APT28's C2 names as FireEye's OpenIOC gives them ("contains" terms).
	apt28Domains := []string{"login-osce.org", "smigroup-online.co.uk", "standartnevvs.com"}
	apt28MD5 := []string{"272f0fde35dbdfccbca1e33373b3570d"}
	m, err := scenario.Generate(scenario.Spec{
		Background: filepath.Join(sharedData, "telemetry", "zeek", "wrccdc-2018"), Out: filepath.Join(dir, "logs"),
		Seed: 42, Days: 21, Files: []string{"dns", "ssl"}, MaxBackgroundLines: 20000,
		Actors: []scenario.Actor{
			{Name: "APT1", Domains: pick(t, filepath.Join(apt1, "apt1-fqdn.dat"), 3, rng), IPs: []string{"223.166.12.34", "58.246.20.7"},
				MD5s: pick(t, filepath.Join(apt1, "apt1-md5.dat"), 2, rng), UTCOffset: 8, Victims: 3, Sessions: 60, Beacon: 15 * time.Minute, Jitter: 0.3},
			{Name: "APT28", Domains: apt28Domains, IPs: []string{"95.213.11.45"}, MD5s: apt28MD5,
				UTCOffset: 3, Victims: 2, Sessions: 60, Beacon: 20 * time.Minute, Jitter: 0.2},
		},
		Decoys: scenario.Decoys{WarninglistedIPs: []string{"8.8.8.8"}, SharedIPs: []string{"185.86.151.2"}, UnknownBeacon: "45.77.1.2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Decoy intelligence: a feed that wrongly lists a public resolver as
	// APT1's, and an address two vendors each give to a different actor.
	wlFeed := filepath.Join(dir, "feed-wl.txt")
	sharedFeed := filepath.Join(dir, "feed-shared.txt")
	os.WriteFile(wlFeed, []byte("8.8.8.8\n"), 0o644)
	os.WriteFile(sharedFeed, []byte("185.86.151.2\n"), 0o644)
	out := filepath.Join(dir, "out")
	stdout, stderr, code := runCLI(t, "hunt", "--out", out,
		"--intel", filepath.Join("..", "..", "examples", "intel", "attack-subset.json.gz"),
		"--intel", filepath.Join(sharedData, "intel", "misp-galaxy", "threat-actor.json"),
		"--intel", filepath.Join(sharedData, "intel", "misp-warninglists", "lists", "public-dns-v4"),
		"--intel", filepath.Join(sharedData, "intel", "openioc", "APT28"),
		"--actor-intel", "APT1="+apt1,
		"--actor-intel", "APT1="+wlFeed,
		"--actor-intel", "APT1="+sharedFeed, "--actor-intel", "APT28="+sharedFeed,
		"--logs", filepath.Join(dir, "logs"))
	if code != 0 {
		t.Fatalf("hunt exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	data, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc report.Document
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		actor  string
		offset float64
	}{{"APT1", 8}, {"APT28", 3}} {
		for _, v := range m.Victims[tc.actor] {
			c := campaignOf(&doc, v)
			if c == nil {
				t.Errorf("%s victim %s is in no campaign", tc.actor, v)
				continue
			}
			a := c.Attribution
			if a.Actor != tc.actor || !confident[a.Estimate] {
				t.Errorf("%s victim %s: attributed to %q, %s (%.2f); reasons %v", tc.actor, v, a.Actor, a.Estimate, a.Likelihood, a.Reasons)
			}
			if !a.OperatorUTCOffset.Enough || math.Abs(a.OperatorUTCOffset.Hours-tc.offset) > 1 {
				t.Errorf("%s: operator offset %+v, want %+.0f ± 1", tc.actor, a.OperatorUTCOffset, tc.offset)
			}
			if len(a.Alternatives) == 0 {
				t.Errorf("%s: no alternative stated", tc.actor)
			}
		}
	}
	for _, kind := range []string{"decoy-warninglisted", "decoy-shared", "unknown"} {
		for _, v := range m.Victims[kind] {
			c := campaignOf(&doc, v)
			if c == nil {
				continue // nothing attributable at all is a correct outcome
			}
			a := c.Attribution
			if a.Actor != "" && confident[a.Estimate] {
				t.Errorf("%s victim %s attributed to %s, %s (%.2f)", kind, v, a.Actor, a.Estimate, a.Likelihood)
			}
			for _, vv := range c.Victims {
				for _, actor := range []string{"APT1", "APT28"} {
					for _, av := range m.Victims[actor] {
						if vv == av {
							t.Errorf("%s victim %s was joined into %s's campaign %s", kind, v, actor, c.ID)
						}
					}
				}
			}
		}
	}
	if !strings.Contains(stdout, "APT1") {
		t.Errorf("summary does not name APT1:\n%s", stdout)
	}
}
