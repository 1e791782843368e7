package queue

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/scan"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// realPiece reads the second chunk of a real Zeek log as a worker would,
// for seeds: its job and its result.
func realPiece(t testing.TB) (Job, *Result) {
	t.Helper()
	dir := needShared(t, "telemetry", "zeek", "stratosphere", "001-zeek-scenario-malicious")
	cfg := scan.Config{Paths: []string{filepath.Join(dir, "conn.log")}, Registry: registry(), ChunkSize: 8 << 10}
	var job Job
	var res *Result
	n := 0
	_, err := scan.Cut(context.Background(), cfg, func(p scan.Piece, data []byte, _ io.Reader) error {
		if n++; n != 2 {
			return nil
		}
		job = Job{Scan: "00ff", Index: 1, Snapshot: "seed", Piece: p}
		res = &Result{Scan: "00ff", Index: 1, Path: p.Path, Worker: "seed"}
		counts, err := scan.ScanPiece(context.Background(), scan.PieceConfig{Registry: registry(),
			OnEvent: func(ev *telemetry.Event) {
				if Analysed(ev) {
					res.Features = append(res.Features, features(ev))
				}
			}}, p, bytes.NewReader(data))
		res.Counts = counts
		return err
	})
	if err != nil || res == nil {
		t.Fatalf("cutting a real log: %v", err)
	}
	res.Sightings = []match.Sighting{{IndicatorID: "indicator--1", Field: "conn.dst_ip", Value: "10.0.0.1", Source: "s/conn.log", File: job.Piece.Path, Line: 300}}
	return job, res
}

// A result survives its encoding exactly.
func TestResultRoundTrip(t *testing.T) {
	_, res := realPiece(t)
	if len(res.Features) == 0 {
		t.Fatal("the real chunk gave no features")
	}
	data, err := EncodeResult(nil, res)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeResult(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Features) != len(res.Features) || got.Counts.Events != res.Counts.Events {
		t.Fatalf("decoded %d features, %d events; want %d, %d", len(got.Features), got.Counts.Events, len(res.Features), res.Counts.Events)
	}
	for i := range res.Features {
		a, b := res.Features[i], got.Features[i]
		if !a.Time.Equal(b.Time) || a.SrcIP != b.SrcIP || a.DstIP != b.DstIP || a.Line != b.Line || a.SrcBytes != b.SrcBytes ||
			a.Duration != b.Duration || a.Proto != b.Proto || a.DstPort != b.DstPort {
			t.Fatalf("feature %d: %+v, decoded as %+v", i, a, b)
		}
	}
	// every truncation is an error, never a panic or a shorter result
	for _, cut := range []int{len(data) - 1, len(data) / 2, 7} {
		if _, err := DecodeResult(data[:cut]); !errors.Is(err, ErrBadMessage) {
			t.Errorf("truncated at %d: err %v, want ErrBadMessage", cut, err)
		}
	}
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
		if _, err := DecodeResult(again); err != nil {
			t.Fatalf("re-encoded result does not decode: %v", err)
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
