package storetest

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/store"
)

// TriageDetections are detections built to tie and to differ in every
// field a DetectionQuery filters or sorts by: analytics in mixed case,
// IPv4, IPv6 with and without a zone and no address at all, names with
// LIKE's special characters, equal scores, times and counts.
func TriageDetections() []behavior.Detection {
	r := rand.New(rand.NewPCG(7, 13))
	analytics := []string{behavior.Beacon, "Beacon", behavior.DNSTunnel, behavior.LongConn, behavior.Strobe}
	srcs := []netip.Addr{{}, netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("10.0.0.40"), netip.MustParseAddr("9.255.0.1"),
		netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("fe80::1%eth0"), netip.MustParseAddr("::ffff:10.0.0.5")}
	dsts := []netip.Addr{{}, netip.MustParseAddr("203.0.113.9"), netip.MustParseAddr("2001:db8::53")}
	names := []string{"", "C2.Example.com", "c2_example.com", "100%.example.net", `back\slash.example`, "update.example.org"}
	dets := make([]behavior.Detection, 120)
	for i := range dets {
		dets[i] = behavior.Detection{ID: fmt.Sprintf("det-%03d", r.IntN(1000)*1000+i), Analytic: analytics[r.IntN(len(analytics))],
			Src: srcs[r.IntN(len(srcs))], Dst: dsts[r.IntN(len(dsts))], DstName: names[r.IntN(len(names))],
			DstPort: uint16([]int{0, 53, 443}[r.IntN(3)]), Score: float64(r.IntN(6)) / 5,
			FirstSeen: t0.Add(time.Duration(r.IntN(4)) * time.Hour), Count: int64(r.IntN(4)),
			Suppressed: r.IntN(5) == 0, Facts: []string{"fact"}}
	}
	return dets
}

func detectionsPage(t *testing.T, s store.Store) {
	if err := s.PutDetections(ctx, TriageDetections()); err != nil {
		t.Fatal(err)
	}
	CheckDetectionsPage(t, s)
}

// CheckDetectionsPage checks every filter and order of DetectionsPage,
// each page, over a store holding TriageDetections, against the same
// selection done in Go; the upgrade tests run it on a store whose key
// columns a migration filled.
func CheckDetectionsPage(t *testing.T, s store.FindingReader) {
	t.Helper()
	all := TriageDetections()
	queries := []store.DetectionQuery{{}, {Above: true, Threshold: 0.6}, {MinScore: 0.4}, {Analytic: "BEACON"},
		{Host: "10.0.0.5"}, {Host: "fe80::1%eth0"}, {Dst: "C2"}, {Dst: "%"}, {Dst: "_"}, {Dst: `\`}, {Dst: ":443"},
		{Match: "2001:db8::53"}, {Match: "c2.example.COM"}, {Match: all[3].ID}, {ID: all[5].ID}, {ID: "det-none"}, {Match: "10.0.0.40", Above: true, Threshold: 0.2}}
	for _, base := range queries {
		for _, sort := range store.DetectionSorts {
			for _, desc := range []bool{false, true} {
				q := base
				q.Sort, q.Desc = sort, desc
				checkDetectionPages(t, s, q, selectDetections(all, q))
			}
		}
	}
	if _, err := s.DetectionsPage(ctx, store.DetectionQuery{Sort: "score; DROP TABLE detections"}); err == nil {
		t.Error("an unknown sort was accepted")
	}
	if _, err := s.DetectionsPage(ctx, store.DetectionQuery{Limit: store.MaxDetectionPage + 1}); err == nil {
		t.Error("a limit above MaxDetectionPage was accepted")
	}
}

// checkDetectionPages reads q in pages of 7 and the total alone.
func checkDetectionPages(t *testing.T, s store.FindingReader, q store.DetectionQuery, want []string) {
	t.Helper()
	var got []string
	for q.Offset, q.Limit = 0, 7; ; q.Offset += 7 {
		pg, err := s.DetectionsPage(ctx, q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		if pg.Total != len(want) {
			t.Fatalf("%+v: total %d, want %d", q, pg.Total, len(want))
		}
		if len(pg.Items) == 0 {
			break
		}
		for _, d := range pg.Items {
			got = append(got, d.ID)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%+v:\n got %v\nwant %v", q, got, want)
	}
	q.Offset, q.Limit = 0, 0
	if pg, err := s.DetectionsPage(ctx, q); err != nil || pg.Total != len(want) || len(pg.Items) != 0 {
		t.Errorf("%+v total only: %d items, total %d, %v; want %d", q, len(pg.Items), pg.Total, err, len(want))
	}
}

// selectDetections is DetectionQuery's meaning, written in Go.
func selectDetections(all []behavior.Detection, q store.DetectionQuery) []string {
	var kept []behavior.Detection
	for _, d := range all {
		dst, fold := d.Destination(), strings.ToLower
		switch {
		case q.Above && (d.Suppressed || d.Score < q.Threshold), d.Score < q.MinScore, q.ID != "" && d.ID != q.ID,
			q.Analytic != "" && !strings.EqualFold(d.Analytic, q.Analytic),
			q.Host != "" && (!d.Src.IsValid() || d.Src.String() != q.Host),
			q.Dst != "" && !strings.Contains(fold(dst), fold(q.Dst)),
			q.Match != "" && d.ID != q.Match && (!d.Src.IsValid() || d.Src.String() != q.Match) &&
				(!d.Dst.IsValid() || d.Dst.String() != q.Match) && !strings.EqualFold(d.DstName, q.Match):
			continue
		}
		kept = append(kept, d)
	}
	slices.SortFunc(kept, func(a, b behavior.Detection) int {
		c := cmp.Or(compareDetections(q.Sort, &a, &b), cmp.Compare(a.ID, b.ID))
		if q.Desc {
			c = -c
		}
		return c
	})
	ids := []string{}
	for _, d := range kept {
		ids = append(ids, d.ID)
	}
	return ids
}

func compareDetections(sort string, a, b *behavior.Detection) int {
	switch sort {
	case "analytic":
		return cmp.Compare(a.Analytic, b.Analytic)
	case "host":
		return a.Src.Compare(b.Src)
	case "destination":
		return cmp.Compare(a.Destination(), b.Destination())
	case "first_seen":
		return a.FirstSeen.Compare(b.FirstSeen)
	case "count":
		return cmp.Compare(a.Count, b.Count)
	}
	return cmp.Compare(a.Score, b.Score)
}
