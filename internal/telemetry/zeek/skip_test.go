package zeek_test

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/zeek"
)

// allGroups is every value group telemetry defines.
const allGroups = telemetry.GroupNames | telemetry.GroupHashes | telemetry.GroupJA3 | telemetry.GroupSerials |
	telemetry.GroupMail | telemetry.GroupUserAgent | telemetry.GroupFileName

// withoutGroups is ev with the fields of the skipped groups set to zero.
func withoutGroups(ev *telemetry.Event, g telemetry.ValueGroups) *telemetry.Event {
	c := ev.Clone()
	if g.Has(telemetry.GroupNames) {
		c.Query, c.Answers, c.CertSubject, c.CertSANs = "", nil, "", nil
	}
	if g.Has(telemetry.GroupHashes) {
		c.MD5, c.SHA1, c.SHA256, c.CertSHA1, c.CertSHA256, c.CertChain = "", "", "", "", "", nil
	}
	if g.Has(telemetry.GroupJA3) {
		c.JA3, c.JA3S = "", ""
	}
	if g.Has(telemetry.GroupSerials) {
		c.CertSerial, c.CertIssuer = "", ""
	}
	if g.Has(telemetry.GroupMail) {
		c.MailFrom, c.RcptTo, c.From, c.To, c.Subject = "", nil, "", nil, ""
	}
	if g.Has(telemetry.GroupUserAgent) {
		c.UserAgent = ""
	}
	if g.Has(telemetry.GroupFileName) {
		c.FileName = ""
	}
	return c
}

// normSlices makes empty slices nil, as Clone of a decode that filled
// nothing gives.
func normSlices(ev *telemetry.Event) *telemetry.Event {
	for _, p := range []*[]string{&ev.Answers, &ev.CertSANs, &ev.CertChain, &ev.RcptTo, &ev.To} {
		if len(*p) == 0 {
			*p = nil
		}
	}
	if len(ev.TTLs) == 0 {
		ev.TTLs = nil
	}
	return ev
}

// TestSkipGroupsOnRealLogs: with Needs.Skip the TSV and JSON readers give,
// on real WRCCDC and Stratosphere logs, exactly the MatchOnly events with
// the skipped groups' fields zero, and the same bad-record counts.
func TestSkipGroupsOnRealLogs(t *testing.T) {
	dir := sharedZeek(t)
	for _, name := range []string{"wrccdc-2018/dns.log.gz", "wrccdc-2018/ssl.log.gz", "wrccdc-2018/x509.log.gz",
		"wrccdc-2018/smtp.log.gz", "stratosphere/009-zeek-malicious/data/files.log.labeled",
		"wrccdc-2018/json/dns.json.gz", "wrccdc-2018/json/ssl.json.gz", "wrccdc-2018/json/x509.json.gz", "wrccdc-2018/json/smtp.json.gz"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			format := func(n telemetry.Needs) telemetry.Format {
				if strings.Contains(name, ".json") {
					return zeek.JSON{Needs: n}
				}
				return zeek.TSV{Needs: n}
			}
			full, badFull := readAll(t, path, format(telemetry.Needs{MatchOnly: true}))
			for _, g := range []telemetry.ValueGroups{allGroups, telemetry.GroupNames, telemetry.GroupHashes | telemetry.GroupSerials, telemetry.GroupMail} {
				skipped, badLean := readAll(t, path, format(telemetry.Needs{MatchOnly: true, Skip: g}))
				if len(full) < 50 || len(skipped) != len(full) || badLean != badFull {
					t.Fatalf("skip %b: %d events (%d bad) skipped, %d (%d bad) full", g, len(skipped), badLean, len(full), badFull)
				}
				changed := 0
				for i := range full {
					want := normSlices(withoutGroups(full[i], g))
					if !reflect.DeepEqual(want, normSlices(full[i].Clone())) {
						changed++
					}
					if got := normSlices(skipped[i]); !reflect.DeepEqual(got, want) {
						t.Fatalf("skip %b, event %d (line %d):\ngot  %+v\nwant %+v", g, i, full[i].Line, got, want)
					}
				}
				if g == allGroups && changed == 0 {
					t.Errorf("no event had a field to skip: the test proves nothing here")
				}
			}
		})
	}
}
