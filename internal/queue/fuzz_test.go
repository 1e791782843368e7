package queue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/obsindex"
	"github.com/whodunit-project/whodunit/internal/scan"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// realPiece reads the second chunk of a real Zeek log as a worker would,
// for seeds: its job and its result.
func realPiece(t testing.TB) (Job, *Result) {
	job, res, _ := realPieceEvents(t)
	return job, res
}

// realPieceEvents is realPiece with a copy of the events its result holds
// the features of.
func realPieceEvents(t testing.TB) (Job, *Result, []telemetry.Event) {
	t.Helper()
	dir := needShared(t, "telemetry", "zeek", "stratosphere", "001-zeek-scenario-malicious")
	cfg := scan.Config{Paths: []string{filepath.Join(dir, "conn.log")}, Registry: registry(), ChunkSize: 8 << 10}
	var job Job
	var res *Result
	var events []telemetry.Event
	n := 0
	_, err := scan.Cut(context.Background(), cfg, func(p scan.Piece, data []byte, _ io.Reader) error {
		if n++; n != 2 {
			return nil
		}
		job = Job{Scan: "00ff", Index: 1, Snapshot: "seed", Piece: p}
		res = &Result{Scan: "00ff", Index: 1, Path: p.Path, Worker: "seed"}
		col := obsindex.NewCollector()
		counts, err := scan.ScanPiece(context.Background(), scan.PieceConfig{Registry: registry(),
			OnEvent: func(ev *telemetry.Event) {
				if Analysed(ev) {
					res.AddFeatures(ev)
					events = append(events, analysedCopy(ev))
				}
				col.ObserveFrom(ev, p.Source)
			}}, p, bytes.NewReader(data))
		res.Counts = counts
		res.Observations = col.Flush()
		return err
	})
	if err != nil || res == nil {
		t.Fatalf("cutting a real log: %v", err)
	}
	res.Sightings = []match.Sighting{
		{IndicatorID: "indicator--1", Type: "ipv4-addr", Field: "conn.dst_ip", Value: "10.0.0.1", Direction: "dst", Source: "s/conn.log",
			File: job.Piece.Path, Line: 300, Offset: 41234, Time: time.Unix(1522000000, 123456789).UTC(), Kind: telemetry.KindConn,
			SrcIP: netip.MustParseAddr("192.168.1.5"), DstIP: netip.MustParseAddr("10.0.0.1"), SrcPort: 51234, DstPort: 443, UID: "Cabc"},
		{IndicatorID: "indicator--1", Type: "ipv4-addr", Field: "conn.dst_ip", Value: "10.0.0.1", Source: "s/conn.log", File: job.Piece.Path,
			Line: 301, Suppressed: true, Warninglist: "list", Retrospective: true},
	}
	return job, res, events
}

// analysedCopy is ev with only the fields AddFeatures keeps.
func analysedCopy(ev *telemetry.Event) telemetry.Event {
	f := telemetry.Event{Kind: ev.Kind, Time: ev.Time, Line: ev.Line, Offset: ev.Offset, SrcIP: ev.SrcIP, DstIP: ev.DstIP,
		SrcPort: ev.SrcPort, DstPort: ev.DstPort, Duration: ev.Duration, SrcBytes: ev.SrcBytes, DstBytes: ev.DstBytes,
		SrcPackets: ev.SrcPackets, DstPackets: ev.DstPackets, Proto: strings.Clone(ev.Proto), Query: strings.Clone(ev.Query),
		QType: strings.Clone(ev.QType), RCode: strings.Clone(ev.RCode), Host: strings.Clone(ev.Host), SNI: strings.Clone(ev.SNI)}
	for _, a := range ev.Answers {
		f.Answers = append(f.Answers, strings.Clone(a))
	}
	return f
}

// decodedFeatures copies the events a result holds.
func decodedFeatures(t testing.TB, r *Result) []telemetry.Event {
	t.Helper()
	var out []telemetry.Event
	if err := r.EachFeature(func(ev *telemetry.Event) { out = append(out, analysedCopy(ev)) }); err != nil {
		t.Fatal(err)
	}
	return out
}

// A result survives its encoding exactly, and again when read twice.
func TestResultRoundTrip(t *testing.T) {
	_, res, events := realPieceEvents(t)
	if len(events) == 0 {
		t.Fatal("the real chunk gave no features")
	}
	data, got := roundTrip(t, res)
	if got.FeatureCount() != len(events) || got.Counts.Events != res.Counts.Events {
		t.Fatalf("decoded %d features, %d events; want %d, %d", got.FeatureCount(), got.Counts.Events, len(events), res.Counts.Events)
	}
	for pass := 0; pass < 2; pass++ {
		if diff := firstDifference(events, decodedFeatures(t, got)); diff != "" {
			t.Fatalf("pass %d: %s", pass, diff)
		}
	}
	if !reflect.DeepEqual(got.Sightings, res.Sightings) {
		t.Fatalf("sightings decoded as\n%+v\nwant\n%+v", got.Sightings, res.Sightings)
	}
	if len(res.Observations) == 0 {
		t.Fatal("the real chunk gave no observations")
	}
	// as the store keeps them: times in UTC, no record uid
	if diff := cmp.Diff(res.Observations, got.Observations, cmpopts.EquateComparable(netip.Addr{}), cmpopts.EquateApproxTime(0)); diff != "" {
		t.Fatalf("observations decoded differently (-sent +decoded):\n%s", diff)
	}
	// every truncation is an error, never a panic or a shorter result
	for _, cut := range []int{len(data) - 1, len(data) / 2, 7} {
		if _, err := DecodeResult(data[:cut]); !errors.Is(err, ErrBadMessage) {
			t.Errorf("truncated at %d: err %v, want ErrBadMessage", cut, err)
		}
	}
}

// Past maxDict distinct values, strings and addresses are written whole
// and still read back.
func TestResultBeyondTheNumbering(t *testing.T) {
	res := &Result{Scan: "ab", Path: "dns.log"}
	var events []telemetry.Event
	base := time.Unix(1522000000, 0).UTC()
	for i := 0; i < maxDict+100; i++ {
		ev := telemetry.Event{Kind: telemetry.KindDNS, Time: base.Add(time.Duration(i%7-3) * time.Second), Line: int64(i), Offset: int64(i * 90),
			SrcIP: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), DstIP: netip.MustParseAddr("8.8.8.8"),
			Proto: "udp", Query: fmt.Sprintf("host%d.example.com", i), Answers: []string{"a.example.com", fmt.Sprint(i)}}
		res.AddFeatures(&ev)
		events = append(events, analysedCopy(&ev))
		res.Sightings = append(res.Sightings, match.Sighting{IndicatorID: fmt.Sprintf("indicator--%d", i), Value: ev.Query, Time: ev.Time, SrcIP: ev.SrcIP})
	}
	_, got := roundTrip(t, res)
	if diff := firstDifference(events, decodedFeatures(t, got)); diff != "" {
		t.Fatal(diff)
	}
	if !reflect.DeepEqual(got.Sightings, res.Sightings) {
		t.Fatal("sightings beyond the numbering differ")
	}
}

// roundTrip encodes res and decodes the message.
func roundTrip(t *testing.T, res *Result) ([]byte, *Result) {
	t.Helper()
	data, err := EncodeResult(nil, res)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeResult(data)
	if err != nil {
		t.Fatal(err)
	}
	return data, got
}

func firstDifference(want, got []telemetry.Event) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d events, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(want[i], got[i]) {
			return fmt.Sprintf("event %d: %+v, decoded as %+v", i, want[i], got[i])
		}
	}
	return ""
}

func FuzzDecodeResult(f *testing.F) {
	_, res := realPiece(f)
	data, err := EncodeResult(nil, res)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:len(data)/3])
	f.Add([]byte(resultMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeResult(b)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error %v does not wrap ErrBadMessage", err)
			}
			return
		}
		again, err := EncodeResult(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeResult(again)
		if err != nil {
			t.Fatalf("re-encoded result does not decode: %v", err)
		}
		if back.FeatureCount() != r.FeatureCount() || len(back.Sightings) != len(r.Sightings) || len(back.Observations) != len(r.Observations) {
			t.Fatal("re-encoded result lost events or sightings")
		}
		if err := r.EachFeature(func(*telemetry.Event) {}); err != nil {
			t.Fatalf("an accepted result's events do not decode: %v", err)
		}
	})
}

func FuzzDecodeJob(f *testing.F) {
	job, _ := realPiece(f)
	job.Object = chunkObject(job.Scan, job.Index)
	data, err := jsonJob(job)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"scan":"ab","index":-1}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		j, err := DecodeJob(b)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error %v does not wrap ErrBadMessage", err)
			}
			return
		}
		if !validID(j.Scan) || j.Index < 0 || j.Piece.Path == "" || j.Piece.StartOffset < 0 {
			t.Fatalf("accepted an invalid job: %+v", j)
		}
	})
}
