package storetest

import (
	"context"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/obsindex"
	"github.com/whodunit-project/whodunit/internal/store"
)

var addrEqual = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// observation is one sighting of value in field at minute m by host.
func observation(t intel.ValueType, value, field string, m int, host string) obsindex.Observation {
	at := t0.Add(time.Duration(m) * time.Minute)
	h := netip.MustParseAddr(host)
	return obsindex.Observation{Type: t, Value: value, Field: field, First: at, Last: at, Count: 1, Hosts: []netip.Addr{h},
		Records: []obsindex.Record{{Source: "sensor/dns.log", File: "/logs/dns.log", Line: int64(10 + m), Offset: int64(100 * m), Time: at, SrcIP: h}}}
}

func observationsOf(t *testing.T, s store.Store, q store.ObservationQuery) []obsindex.Observation {
	t.Helper()
	var got []obsindex.Observation
	if err := s.Observations(ctx, q, func(o *obsindex.Observation) error {
		got = append(got, *o)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// Stored observations merge as obsindex.MergeAll does, whatever order
// and batches they come in.
func observationsMerge(t *testing.T, s store.Store) {
	var all []obsindex.Observation
	for m := 0; m < 12; m++ {
		all = append(all, observation(intel.Domain, "evil.example.com", "dns.query", 11-m, "10.0.0."+strconv.Itoa(1+m)))
	}
	all = append(all, observation(intel.IPv4, "198.51.100.7", "conn.dst_ip", 3, "10.0.0.2"))
	for _, part := range [][]obsindex.Observation{all[5:9], all[:5], all[9:]} {
		if err := s.PutObservations(ctx, part); err != nil {
			t.Fatal(err)
		}
	}
	want := obsindex.MergeAll(append([]obsindex.Observation(nil), all...))
	got := observationsOf(t, s, store.ObservationQuery{})
	if diff := cmp.Diff(want, got, addrEqual); diff != "" {
		t.Errorf("observations (-want +got):\n%s", diff)
	}
	if len(got) != 2 || got[0].Count != 12 || len(got[0].Hosts) != obsindex.MaxHosts || len(got[0].Records) != obsindex.MaxRecords {
		t.Fatalf("merged: %+v", got)
	}
	if !got[0].First.Equal(t0) || !got[0].Last.Equal(t0.Add(11*time.Minute)) || !got[0].Records[3].Time.Equal(got[0].Last) {
		t.Errorf("first/last %v %v, records %+v", got[0].First, got[0].Last, got[0].Records)
	}
	st, err := s.ObservationStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Values != 2 || st.Records != 13 || st.ByType[intel.Domain] != 1 || st.ByType[intel.IPv4] != 1 || !st.First.Equal(t0) {
		t.Errorf("stats %+v", st)
	}
	// a bad batch leaves the index as it was
	bad := []obsindex.Observation{observation(intel.Domain, "new.example.com", "dns.query", 1, "10.0.0.1")}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.PutObservations(cancelled, bad); err == nil {
		t.Error("PutObservations with a cancelled context succeeded")
	}
	if after := observationsOf(t, s, store.ObservationQuery{}); len(after) != 2 {
		t.Errorf("after a failed put: %d observations, want 2", len(after))
	}
}

func observationLookups(t *testing.T, s store.Store) {
	list := []obsindex.Observation{
		observation(intel.Domain, "a.example.com", "dns.query", 1, "10.0.0.1"),
		observation(intel.Domain, "a.example.com", "tls.sni", 2, "10.0.0.1"),
		observation(intel.Domain, "b.example.com", "dns.query", 30, "10.0.0.3"),
		observation(intel.MD5, "0123456789abcdef0123456789abcdef", "files.md5", 40, "10.0.0.4"),
	}
	if err := s.PutObservations(ctx, list); err != nil {
		t.Fatal(err)
	}
	var got []string
	keys := []store.ObservationKey{{Type: intel.Domain, Value: "a.example.com"}, {Type: intel.Domain, Value: "missing.example.com"}, {Type: intel.MD5, Value: "0123456789abcdef0123456789abcdef"}, {Type: intel.Domain, Value: "a.example.com"}}
	if err := s.LookupObservations(ctx, keys, func(o *obsindex.Observation) error {
		got = append(got, o.Value+" "+o.Field)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"a.example.com dns.query", "a.example.com tls.sni", "0123456789abcdef0123456789abcdef files.md5"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lookup (-want +got):\n%s", diff)
	}
	if n := len(observationsOf(t, s, store.ObservationQuery{Types: []intel.ValueType{intel.MD5}})); n != 1 {
		t.Errorf("md5 observations: %d, want 1", n)
	}
	if n := len(observationsOf(t, s, store.ObservationQuery{SeenSince: t0.Add(30 * time.Minute)})); n != 2 {
		t.Errorf("observations seen since minute 30: %d, want 2", n)
	}
}

// A retrospective sighting is stored and read back as one, and a scan
// that later sees the same record does not add it again.
func retrospectiveSightings(t *testing.T, s store.Store) {
	sg := sighting(20)
	sg.Retrospective = true
	if n, err := s.PutSightings(ctx, []match.Sighting{sg}); err != nil || n != 1 {
		t.Fatalf("put: n=%d err=%v", n, err)
	}
	if n, err := s.PutSightings(ctx, []match.Sighting{sighting(20)}); err != nil || n != 0 {
		t.Fatalf("the same record found by a scan: n=%d err=%v, want 0 new", n, err)
	}
	var got []match.Sighting
	if err := s.Sightings(ctx, store.SightingQuery{}, func(x *match.Sighting) error {
		got = append(got, *x)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].Retrospective || !got[0].Time.Equal(sg.Time) {
		t.Errorf("read back %+v, want one retrospective sighting at %v", got, sg.Time)
	}
}
