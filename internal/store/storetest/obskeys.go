package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/obsindex"
	"github.com/whodunit-project/whodunit/internal/store"
)

// ObservationKeys lists exactly the keys Observations streams, with the
// ports of an address's first record, under the same filters; and
// ObservationTypes the types they have.
func observationKeys(t *testing.T, s store.Store) {
	if types, err := s.ObservationTypes(ctx); err != nil || len(types) != 0 {
		t.Fatalf("types of an empty index: %v, %v", types, err)
	}
	var list []obsindex.Observation
	for m, v := range []string{"a.example", "b.example", "c.example"} {
		o := observation(intel.Domain, v, "dns.query", m, "10.0.0.1")
		o.Records[0].DstPort = 53 // not an address: not listed
		list = append(list, o)
	}
	ip := observation(intel.IPv4, "198.51.100.7", "conn.dst_ip", 9, "10.0.0.2")
	ip.Records[0].SrcPort, ip.Records[0].DstPort = 49152, 443
	later := observation(intel.IPv4, "198.51.100.7", "conn.dst_ip", 20, "10.0.0.3")
	later.Records[0].DstPort = 8443 // not the first record: not listed
	url := observation(intel.URL, "http://c.example/x", "http.url", 1, "10.0.0.4")
	url.Records = nil
	list = append(list, ip, later, url)
	if err := s.PutObservations(ctx, list); err != nil {
		t.Fatal(err)
	}
	for _, q := range []store.ObservationQuery{{}, {Types: []intel.ValueType{intel.IPv4}}, {SeenSince: t0.Add(2 * time.Minute)}} {
		var want []obsindex.KeyPorts
		for _, o := range observationsOf(t, s, q) {
			k := obsindex.KeyPorts{Key: o.Key()}
			if len(o.Records) > 0 && (o.Type == intel.IPv4 || o.Type == intel.IPv6) {
				k.SrcPort, k.DstPort = o.Records[0].SrcPort, o.Records[0].DstPort
			}
			want = append(want, k)
		}
		var got []obsindex.KeyPorts
		if err := s.ObservationKeys(ctx, q, func(k obsindex.KeyPorts) error {
			got = append(got, k)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(got, func(a, b obsindex.KeyPorts) int { return obsindex.CompareKeys(a.Key, b.Key) })
		if diff := cmp.Diff(want, got); diff != "" || len(want) == 0 {
			t.Errorf("keys of %+v (-want +got):\n%s", q, diff)
		}
	}
	types, err := s.ObservationTypes(ctx)
	want := []intel.ValueType{intel.Domain, intel.IPv4, intel.URL}
	slices.Sort(want) // in the stores' byte order
	if err != nil || !slices.Equal(types, want) {
		t.Errorf("types %v, %v; want %v", types, err, want)
	}
}
