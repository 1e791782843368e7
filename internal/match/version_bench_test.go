package match_test

import (
	"bytes"
	"testing"

	"github.com/whodunit-project/whodunit/internal/intel/warninglist"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/scan/benchgen"
)

// BenchmarkWarninglistCompile compares the cost the version adds for
// every real MISP warninglist (hashing their content) with compiling them.
func BenchmarkWarninglistCompile(b *testing.B) {
	lists := realWarninglists(b)
	b.Run("set-only", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := warninglist.NewSet(lists); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("snapshot", func(b *testing.B) {
		for b.Loop() {
			if _, err := match.Compile(nil, match.Options{Warninglists: lists}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkInputs1M writes the inputs stream of 1,000,000 mixed
// indicators and builds a snapshot from it, as a scan worker on another
// machine would (MB is the stream's size).
func BenchmarkInputs1M(b *testing.B) {
	objs := benchgen.Objects(benchgen.Indicators(1_000_000, 1))
	var buf bytes.Buffer
	b.Run("write", func(b *testing.B) {
		for b.Loop() {
			buf.Reset()
			if err := match.WriteInputs(&buf, objs, match.Options{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(buf.Len())/1e6, "MB")
	})
	b.Run("read-and-build", func(b *testing.B) {
		for b.Loop() {
			if _, err := match.BuildFromInputs(bytes.NewReader(buf.Bytes()), nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
