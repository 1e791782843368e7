package scenario_test

import (
	"os"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/scenario"
)

func TestWriteDebugScenario(t *testing.T) {
	out := os.Getenv("SCENARIO_OUT")
	if out == "" {
		t.Skip("set SCENARIO_OUT")
	}
	_, err := scenario.Generate(scenario.Spec{Background: "../../../shared/data/telemetry/zeek/wrccdc-2018", Out: out, Seed: 7, Days: 21, Files: []string{"dns", "ssl"},
		Actors: []scenario.Actor{
			{Name: "APT1", Domains: []string{"hugesoft.org", "msnhome.org", "arrowservice.net"}, IPs: []string{"223.166.10.20", "58.246.3.4"}, MD5s: []string{"001dd76872d80801692ff942308c64e6"}, UTCOffset: 8, Victims: 3, Sessions: 60, Beacon: 10 * time.Minute, Jitter: 0.2},
		},
		Decoys: scenario.Decoys{WarninglistedIPs: []string{"8.8.8.8"}, SharedIPs: []string{"203.0.113.77"}, UnknownBeacon: "45.77.1.2"}})
	if err != nil {
		t.Fatal(err)
	}
}
