package storetest

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store"
)

var addrEq = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// seen is a sighting of indicator ind, value v, between src and dst at
// t0+sec, from line line of dns.log.
func seen(ind, v, src, dst string, sec, line int64) match.Sighting {
	return match.Sighting{IndicatorID: ind, Snapshot: "v1", Type: intel.Domain, Indicator: "evil.example", Field: "dns.query",
		Value: v, Time: t0.Add(time.Duration(sec) * time.Second), File: "dns.log", Line: line,
		SrcIP: netip.MustParseAddr(src), DstIP: netip.MustParseAddr(dst), SrcPort: 5353, DstPort: 53}
}

func putSightings(t *testing.T, s store.Store, list ...match.Sighting) int {
	t.Helper()
	n, err := s.PutSightings(ctx, list)
	if err != nil {
		t.Fatalf("PutSightings: %v", err)
	}
	return n
}

func lines(t *testing.T, s store.Store, q store.SightingQuery) []int64 {
	t.Helper()
	var out []int64
	if err := s.Sightings(ctx, q, func(sg *match.Sighting) error {
		out = append(out, sg.Line)
		return nil
	}); err != nil {
		t.Fatalf("Sightings(%+v): %v", q, err)
	}
	return out
}

func sightingFilters(t *testing.T, s store.Store) {
	putSightings(t, s,
		seen(ind1, "a.evil.example", "10.0.0.5", "10.0.0.1", 0, 1),
		seen(ind1, "b.evil.example", "10.0.0.6", "10.0.0.1", 60, 2),
		seen(ind2, "a.evil.example", "10.0.0.1", "192.0.2.7", 120, 3),
		seen(ind2, "c.bad.example", "2001:db8::1", "2001:db8::53", 180, 4))
	before := time.Now()
	time.Sleep(2 * time.Millisecond) // a clock coarser than the gap would tie
	putSightings(t, s, seen(ind1, "d.evil.example", "10.0.0.9", "10.0.0.1", 240, 5))
	for name, tc := range map[string]struct {
		q    store.SightingQuery
		want []int64
	}{
		"all":             {store.SightingQuery{}, []int64{1, 2, 3, 4, 5}},
		"indicator":       {store.SightingQuery{IndicatorID: ind2}, []int64{3, 4}},
		"value":           {store.SightingQuery{Value: "a.evil.example"}, []int64{1, 3}},
		"value is exact":  {store.SightingQuery{Value: "evil.example"}, nil},
		"host as source":  {store.SightingQuery{Host: "10.0.0.5"}, []int64{1}},
		"host either end": {store.SightingQuery{Host: "10.0.0.1"}, []int64{1, 2, 3, 5}},
		"host ipv6":       {store.SightingQuery{Host: "2001:DB8::53"}, []int64{4}},
		"since":           {store.SightingQuery{Since: t0.Add(time.Minute)}, []int64{2, 3, 4, 5}},
		"until":           {store.SightingQuery{Until: t0.Add(2 * time.Minute)}, []int64{1, 2}},
		"since and until": {store.SightingQuery{Since: t0.Add(time.Minute), Until: t0.Add(3 * time.Minute)}, []int64{2, 3}},
		"added after":     {store.SightingQuery{AddedAfter: before}, []int64{5}},
		"limit":           {store.SightingQuery{Limit: 2}, []int64{1, 2}},
		"together":        {store.SightingQuery{IndicatorID: ind1, Host: "10.0.0.1", Since: t0.Add(time.Second), Limit: 1}, []int64{2}},
	} {
		if diff := cmp.Diff(tc.want, lines(t, s, tc.q)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	if err := s.Sightings(ctx, store.SightingQuery{Host: "not-an-address"}, func(*match.Sighting) error { return nil }); err == nil {
		t.Error("a host that is no address: no error")
	}
}

// readPages pages through q, limit at a time, from after.
func readPages(t *testing.T, s store.Store, q store.SightingQuery, after store.Cursor, limit int) ([]store.StoredSighting, store.Cursor, int) {
	t.Helper()
	var all []store.StoredSighting
	pages := 0
	for {
		p, err := s.SightingsPage(ctx, q, after, limit)
		if err != nil {
			t.Fatalf("SightingsPage: %v", err)
		}
		pages++
		if len(p.Sightings) > limit {
			t.Fatalf("page of %d, limit %d", len(p.Sightings), limit)
		}
		all = append(all, p.Sightings...)
		if len(p.Sightings) == 0 && p.Next != after {
			t.Fatalf("an empty page moved the cursor")
		}
		after = p.Next
		if !p.More {
			return all, after, pages
		}
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
	}
}

func keysOf(list []store.StoredSighting) []string {
	var out []string
	for i := range list {
		out = append(out, list[i].Sighting.Key())
	}
	return out
}

func sightingPages(t *testing.T, s store.Store) {
	var batch []match.Sighting
	for i := int64(0); i < 23; i++ {
		batch = append(batch, seen(ind1, fmt.Sprintf("h%02d.evil.example", i), "10.0.0.5", "10.0.0.1", 100-i, i))
		if len(batch) == 7 {
			putSightings(t, s, batch...)
			batch = nil
		}
	}
	putSightings(t, s, batch...)
	whole, err := s.SightingsPage(ctx, store.SightingQuery{}, "", 1000)
	if err != nil || whole.More || len(whole.Sightings) != 23 {
		t.Fatalf("one page: %d sightings, more %v, err %v", len(whole.Sightings), whole.More, err)
	}
	paged, _, pages := readPages(t, s, store.SightingQuery{}, "", 3)
	if pages != 8 {
		t.Errorf("23 sightings in pages of 3: %d pages", pages)
	}
	if diff := cmp.Diff(keysOf(whole.Sightings), keysOf(paged)); diff != "" {
		t.Errorf("pages differ from one read (-one +pages):\n%s", diff)
	}
	if diff := cmp.Diff(whole.Sightings, paged, addrEq); diff != "" {
		t.Errorf("paged sightings differ (-one +pages):\n%s", diff)
	}
	keys := map[string]bool{}
	for i, st := range paged {
		if keys[st.Sighting.Key()] {
			t.Errorf("sighting %s twice", st.Sighting.Key())
		}
		keys[st.Sighting.Key()] = true
		if st.Added.IsZero() {
			t.Errorf("sighting %d without an added time", i)
		}
		if i > 0 && st.Added.Before(paged[i-1].Added) {
			t.Errorf("sighting %d added %v before the one before it (%v)", i, st.Added, paged[i-1].Added)
		}
	}
	// the first batch was stored before the second: strictly earlier
	if !paged[6].Added.Before(paged[7].Added) {
		t.Errorf("batches share an added time: %v, %v", paged[6].Added, paged[7].Added)
	}
	// filters apply to pages
	odd, _, _ := readPages(t, s, store.SightingQuery{Value: "h05.evil.example"}, "", 2)
	if len(odd) != 1 || odd[0].Sighting.Line != 5 {
		t.Errorf("filtered pages: %v", keysOf(odd))
	}
	// added-after picks up after a batch, as TAXII's added_after does
	after, _, _ := readPages(t, s, store.SightingQuery{AddedAfter: paged[13].Added}, "", 4)
	if diff := cmp.Diff(keysOf(paged[14:]), keysOf(after)); diff != "" {
		t.Errorf("added after the second batch (-want +got):\n%s", diff)
	}
}

func sightingsAddedWhilePaging(t *testing.T, s store.Store) {
	for i := int64(0); i < 10; i++ {
		putSightings(t, s, seen(ind1, fmt.Sprintf("m%02d.evil.example", i), "10.0.0.5", "10.0.0.1", i, i))
	}
	first, err := s.SightingsPage(ctx, store.SightingQuery{}, "", 4)
	if err != nil || len(first.Sightings) != 4 || !first.More {
		t.Fatalf("first page: %d, more %v, err %v", len(first.Sightings), first.More, err)
	}
	// new sightings, with keys and times that sort before and after the old
	late := []match.Sighting{seen(ind1, "a-late.evil.example", "10.0.0.5", "10.0.0.1", -100, 100),
		seen(ind2, "z-late.evil.example", "10.0.0.5", "10.0.0.1", 100, 101)}
	putSightings(t, s, late...)
	rest, end, _ := readPages(t, s, store.SightingQuery{}, first.Next, 4)
	got := keysOf(rest)
	if len(got) != 8 {
		t.Fatalf("after the first page: %d sightings, want the 6 old and 2 new", len(got))
	}
	lateKeys := []string{late[0].Key(), late[1].Key()}
	sort.Strings(lateKeys)
	tail := append([]string(nil), got[6:]...)
	sort.Strings(tail)
	if diff := cmp.Diff(lateKeys, tail); diff != "" {
		t.Errorf("the sightings added while paging are not last (-want +got):\n%s", diff)
	}
	for _, k := range keysOf(first.Sightings) {
		for _, l := range got {
			if k == l {
				t.Errorf("%s on the first page and again later", k)
			}
		}
	}
	// the cursor at the end picks up what is stored next
	putSightings(t, s, seen(ind1, "later.evil.example", "10.0.0.5", "10.0.0.1", 0, 200))
	more, _, _ := readPages(t, s, store.SightingQuery{}, end, 4)
	if len(more) != 1 || more[0].Sighting.Line != 200 {
		t.Errorf("from the last cursor: %v, want the one sighting stored since", keysOf(more))
	}
}

func badCursor(t *testing.T, s store.Store) {
	putSightings(t, s, sighting(1))
	good, err := s.SightingsPage(ctx, store.SightingQuery{}, "", 1)
	if err != nil || good.Next == "" {
		t.Fatalf("page: %+v, %v", good, err)
	}
	for _, c := range []store.Cursor{"not a cursor!", "bm90IGEgY3Vyc29y", good.Next[:len(good.Next)-3]} {
		if _, err := s.SightingsPage(ctx, store.SightingQuery{}, c, 10); !errors.Is(err, store.ErrBadCursor) {
			t.Errorf("cursor %q: err = %v, want ErrBadCursor", c, err)
		}
	}
}

func concurrentPutSightings(t *testing.T, s store.Store) {
	const workers, perWorker = 8, 60
	var mu sync.Mutex
	total := 0
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			// worker w writes lines [w*30, w*30+60): each line is written by two workers
			var batch []match.Sighting
			for i := 0; i < perWorker; i++ {
				batch = append(batch, sighting(int64(w*perWorker/2+i)))
				if len(batch) == 15 {
					n, err := s.PutSightings(ctx, batch)
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					total += n
					mu.Unlock()
					batch = nil
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent PutSightings: %v", err)
	}
	distinct := (workers + 1) * perWorker / 2
	if total != distinct {
		t.Errorf("new counts sum to %d, want %d distinct", total, distinct)
	}
	got := lines(t, s, store.SightingQuery{})
	if len(got) != distinct {
		t.Errorf("%d sightings stored, want %d", len(got), distinct)
	}
	for i, l := range got {
		if l != int64(i) {
			t.Fatalf("sighting %d is line %d: lost or doubled", i, l)
		}
	}
}

func campaign(id, actor string, like float64, data string) store.CampaignRecord {
	return store.CampaignRecord{ID: id, Actor: actor, Estimate: "likely", Confidence: "moderate", Likelihood: like,
		FirstSeen: t0, LastSeen: t0.Add(21 * 24 * time.Hour), Data: []byte(data)}
}

func analyses(t *testing.T, s store.Store) {
	if _, err := s.Analysis(ctx, ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("latest of none: err = %v, want ErrNotFound", err)
	}
	// JSON as a renderer writes it, spacing and key order its own
	doc1 := `{"title":"run one",  "campaigns":[ {"id":"C-1"} ],"a":1.50}`
	r1, err := s.PutAnalysis(ctx, store.Analysis{Snapshot: "snap-1", Created: t0, Document: []byte(doc1),
		Campaigns: []store.CampaignRecord{campaign("C-1", "APT1", 0.72, `{"id":"C-1", "likelihood":0.72}`), campaign("C-2", "", 0.1, `{}`)}})
	if err != nil {
		t.Fatal(err)
	}
	if r1.ID == "" || r1.Seq == 0 || !r1.Created.Equal(t0) {
		t.Errorf("first run stored as %q seq %d at %v", r1.ID, r1.Seq, r1.Created)
	}
	doc2 := `{"title":"run two"}`
	r2, err := s.PutAnalysis(ctx, store.Analysis{Snapshot: "snap-2", Document: []byte(doc2),
		Campaigns: []store.CampaignRecord{campaign("c-1", "APT1", 0.91, `{"id":"c-1","likelihood":0.91}`)}})
	if err != nil {
		t.Fatal(err)
	}
	if r2.ID == r1.ID || r2.Seq <= r1.Seq || r2.Created.IsZero() {
		t.Errorf("second run: %q seq %d at %v after %q seq %d", r2.ID, r2.Seq, r2.Created, r1.ID, r1.Seq)
	}
	for _, id := range []string{"", store.LatestAnalysis, r2.ID} {
		got, err := s.Analysis(ctx, id)
		if err != nil {
			t.Fatalf("Analysis(%q): %v", id, err)
		}
		if diff := cmp.Diff(&r2, got); diff != "" {
			t.Errorf("Analysis(%q) (-put +read):\n%s", id, diff)
		}
	}
	got, err := s.Analysis(ctx, r1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&r1, got); diff != "" {
		t.Errorf("first run (-put +read):\n%s", diff)
	}
	if string(got.Document) != doc1 || string(got.Campaigns[0].Data) != `{"id":"C-1", "likelihood":0.72}` {
		t.Errorf("JSON not kept byte for byte: %s / %s", got.Document, got.Campaigns[0].Data)
	}
	if _, err := s.Analysis(ctx, "no-such-run"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown run: err = %v, want ErrNotFound", err)
	}
	list, err := s.Analyses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.AnalysisInfo{{ID: r2.ID, Seq: r2.Seq, Created: r2.Created, Snapshot: "snap-2", Campaigns: 1},
		{ID: r1.ID, Seq: r1.Seq, Created: r1.Created, Snapshot: "snap-1", Campaigns: 2}}
	if diff := cmp.Diff(want, list); diff != "" {
		t.Errorf("Analyses, newest first (-want +got):\n%s", diff)
	}
	hist, err := s.CampaignVersions(ctx, "C-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].AnalysisID != r1.ID || hist[1].AnalysisID != r2.ID ||
		hist[0].Campaign.Likelihood != 0.72 || hist[1].Campaign.ID != "c-1" || !hist[0].Created.Equal(r1.Created) ||
		string(hist[1].Campaign.Data) != `{"id":"c-1","likelihood":0.91}` {
		t.Errorf("history of C-1: %+v", hist)
	}
	if h, err := s.CampaignVersions(ctx, "c-2"); err != nil || len(h) != 1 || h[0].AnalysisSeq != r1.Seq {
		t.Errorf("history of c-2: %+v, %v", h, err)
	}
	if _, err := s.CampaignVersions(ctx, "C-404"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown campaign: err = %v, want ErrNotFound", err)
	}
}

func analysisRefusesBadInput(t *testing.T, s store.Store) {
	for name, a := range map[string]store.Analysis{
		"document not JSON": {Document: []byte(`{"open":`)},
		"campaign not JSON": {Campaigns: []store.CampaignRecord{campaign("C-1", "", 0, `nope`)}},
		"campaign twice":    {Campaigns: []store.CampaignRecord{campaign("C-1", "", 0, `{}`), campaign("c-1", "", 0, `{}`)}},
		"campaign no id":    {Campaigns: []store.CampaignRecord{campaign("", "", 0, `{}`)}},
		"reserved id":       {ID: "latest"},
	} {
		if _, err := s.PutAnalysis(ctx, a); err == nil {
			t.Errorf("%s: stored", name)
		}
	}
	if _, err := s.PutAnalysis(ctx, store.Analysis{ID: "run-x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutAnalysis(ctx, store.Analysis{ID: "run-x"}); err == nil || !strings.Contains(err.Error(), "run-x") {
		t.Errorf("the same id twice: err = %v", err)
	}
	if list, err := s.Analyses(ctx); err != nil || len(list) != 1 {
		t.Errorf("after refused runs: %+v, %v; want the one run", list, err)
	}
}

func statsCountFlags(t *testing.T, s store.Store) {
	const tlpGreen, tlpAmber = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
	network := indicator(ind1, "evil.example", t0)
	network.Markings = []string{tlpGreen, tlpAmber}
	host := indicator(ind2, "host.example", t0)
	host.Indicator.Observables, host.Indicator.HostOnly, host.Indicator.Pattern = nil, true, "ProcessItem/name is 'x.exe'"
	host.Markings = []string{tlpGreen}
	ctxOnly := indicator("indicator--00000000-0000-4000-8000-000000000003", "ctx.example", t0)
	ctxOnly.Indicator.Context = true
	ctxOnly.Indicator.Warninglists = []string{"Top domains"}
	pattern := indicator("indicator--00000000-0000-4000-8000-000000000004", "p.example", t0)
	pattern.Indicator.Observables = nil
	pattern.Indicator.Pattern = "[domain-name:value = 'p.example'] AND [ipv4-addr:value = '198.51.100.1']"
	put(t, s, "f", network, host, ctxOnly, pattern)
	st, err := s.IntelStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := []int{st.Network, st.HostOnly, st.Context, st.Warninglisted, st.IndicatorTypes["stix-pattern"], st.ByMarking[tlpGreen], st.ByMarking[tlpAmber]}
	if diff := cmp.Diff([]int{2, 1, 1, 1, 1, 2, 1}, got); diff != "" {
		t.Errorf("network, host-only, context, warninglisted, pattern-only, green, amber (-want +got):\n%s\n%+v", diff, st)
	}
}
