package sqlite_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
)

// Objects and sightings of testdata/schema2.db. That database was written
// by the schema-2 store (commit b3431e0, before intel's JSON tags had
// names) from exactly these values, imported as the sources below; the
// upgrade test reads it with today's code and expects these values back.

var fixtureT0 = time.Date(2013, 2, 18, 9, 30, 0, 123456789, time.UTC)

const (
	fixtureGreen = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
	fixtureAPT1  = "intrusion-set--6a2e693f-24e5-451a-9f88-b36a108e5662"
	fixtureInd   = "indicator--00000000-0000-4000-8000-0000000000f1"
)

// fixtureSources is each source's objects, in import order.
func fixtureSources() [][]*intel.Object {
	t0 := fixtureT0
	apt1 := &intel.Object{ID: fixtureAPT1, Type: intel.TypeIntrusionSet, SpecVersion: "2.1", Name: "APT1",
		Description: "PLA Unit 61398", Aliases: []string{"Comment Crew", "Comment Panda"}, Created: t0, Modified: t0, Confidence: 85,
		Labels: []string{"espionage"}, Markings: []string{fixtureGreen}, CreatedBy: "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5",
		ExternalRefs: []intel.ExternalRef{{SourceName: "mitre-attack", ExternalID: "G0006", URL: "https://attack.mitre.org/groups/G0006"}},
		Raw:          []byte(`{"type":"intrusion-set","x_mitre_version":"1.4"}`),
		Actor: &intel.ActorSpec{Country: "CN", StateSponsor: "PLA", Motivations: []string{"espionage"}, Sophistication: "expert",
			ResourceLevel: "government", Goals: []string{"IP theft"}, Roles: []string{"agent"}, Victims: []string{"US"}, TargetSectors: []string{"aerospace"}}}
	oldInd := &intel.Object{ID: fixtureInd, Type: intel.TypeIndicator, SpecVersion: "2.1", Name: "old.example", Created: t0, Modified: t0,
		Confidence: -1, Indicator: &intel.IndicatorSpec{PatternType: "stix", Pattern: "[domain-name:value = 'old.example']",
			Observables: []intel.Observable{{Type: intel.Domain, Value: "old.example"}}}}
	ind := &intel.Object{ID: fixtureInd, Type: intel.TypeIndicator, SpecVersion: "2.1", Name: "C2", Description: "beacon",
		Created: t0, Modified: t0.Add(time.Hour), Revoked: false, Confidence: 70, Labels: []string{"malicious-activity"},
		Markings: []string{fixtureGreen}, CreatedBy: "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
		ExternalRefs: []intel.ExternalRef{{SourceName: "report", Description: "appendix D"}},
		KillChain:    []intel.KillChainPhase{{KillChainName: "lockheed-martin-cyber-kill-chain", PhaseName: "command-and-control"}},
		Raw:          []byte(`{"type":"indicator","x_custom":1}`),
		Indicator: &intel.IndicatorSpec{PatternType: "stix", Pattern: "[ipv4-addr:value = '198.51.100.7'] OR [x509-certificate:serial_number = '01']",
			ValidFrom: t0, ValidUntil: t0.Add(365 * 24 * time.Hour),
			Observables: []intel.Observable{{Type: intel.IPv4, Value: "198.51.100.7", Port: 443}, {Type: intel.X509Serial, Value: "01", Issuer: "CN=Root"}},
			HostOnly:    false, Context: true, Warninglists: []string{"List of known IPv4 public DNS resolvers"}}}
	host := &intel.Object{ID: "indicator--00000000-0000-4000-8000-0000000000f2", Type: intel.TypeIndicator, Name: "x.exe", Confidence: -1,
		Created: t0, Modified: t0, Revoked: true, Indicator: &intel.IndicatorSpec{PatternType: "openioc", Pattern: "ProcessItem/name is 'x.exe'", HostOnly: true}}
	uses := &intel.Object{ID: "relationship--00000000-0000-4000-8000-0000000000f3", Type: intel.TypeRelationship, SpecVersion: "2.1",
		Created: t0, Modified: t0, Confidence: -1, Relationship: &intel.RelationshipSpec{Type: "indicates", SourceRef: fixtureInd,
			TargetRef: fixtureAPT1, StartTime: t0, StopTime: t0.Add(48 * time.Hour)}}
	green := &intel.Object{ID: fixtureGreen, Type: intel.TypeMarkingDef, SpecVersion: "2.1", Name: "TLP:GREEN", Created: t0, Modified: t0,
		Confidence: -1, Marking: &intel.MarkingSpec{DefinitionType: "tlp", TLP: "green", TLPVersion: "2.0", Statement: "share with the community"}}
	sdo := &intel.Object{ID: "sighting--00000000-0000-4000-8000-0000000000f4", Type: intel.TypeSighting, SpecVersion: "2.1", Created: t0,
		Modified: t0, Confidence: -1, Sighting: &intel.SightingSpec{SightingOfRef: fixtureInd, ObservedDataRefs: []string{"observed-data--1"},
			WhereSightedRefs: []string{"identity--2"}, Count: 3, FirstSeen: t0, LastSeen: t0.Add(time.Minute)}}
	report := []*intel.Object{green, apt1, oldInd, host, uses, sdo}
	// a list with --actor and --tlp: stored as shaped rows
	var list []*intel.Object
	for i := 0; i < 300; i++ {
		v := fmt.Sprintf("h%03d.apt1.example", i)
		ob := intel.Observable{Type: intel.Domain, Value: v}
		id := intel.DeriveID(intel.TypeIndicator, string(ob.Type), v)
		list = append(list, &intel.Object{ID: id, Type: intel.TypeIndicator, SpecVersion: "2.1", Name: v, Confidence: 50,
			Markings: []string{fixtureGreen}, Created: t0, Modified: t0, Raw: []byte(`{"value":"` + v + `"}`),
			Indicator: &intel.IndicatorSpec{PatternType: "stix", Pattern: ob.STIXPattern(), Observables: []intel.Observable{ob}, ValidFrom: t0}},
			&intel.Object{ID: intel.DeriveID(intel.TypeRelationship, "indicates", id, fixtureAPT1), Type: intel.TypeRelationship,
				SpecVersion: "2.1", Confidence: 50, Markings: []string{fixtureGreen}, Created: t0, Modified: t0,
				Relationship: &intel.RelationshipSpec{Type: "indicates", SourceRef: id, TargetRef: fixtureAPT1}})
	}
	return [][]*intel.Object{report, {ind}, list}
}

// fixtureSightings are the sightings stored in testdata/schema2.db.
func fixtureSightings() []match.Sighting {
	var out []match.Sighting
	for i := int64(0); i < 5; i++ {
		out = append(out, match.Sighting{IndicatorID: fixtureInd, Snapshot: "snap-1", Type: intel.IPv4, Indicator: "198.51.100.7",
			Field: "conn.dst_ip", Value: "198.51.100.7", Direction: "dst", Time: fixtureT0.Add(time.Duration(i) * time.Minute),
			File: "conn.log", Line: 10 + i, UID: fmt.Sprintf("C%d", i), SrcIP: netip.MustParseAddr(fmt.Sprintf("10.0.0.%d", i+1)),
			DstIP: netip.MustParseAddr("198.51.100.7"), SrcPort: 40000, DstPort: 443})
	}
	return out
}
