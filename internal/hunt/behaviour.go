package hunt

import (
	"runtime"
	"sync"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// shardedAnalyzer runs the behaviour analytics sharded by source address,
// so that the scan's workers rarely wait for each other; the shards merge
// at the end.
type shardedAnalyzer struct {
	shards []*analyzerShard
}

type analyzerShard struct {
	mu sync.Mutex
	a  *behavior.Analyzer
}

func newShardedAnalyzer(cfg behavior.Config, benign behavior.Benign) *shardedAnalyzer {
	n := 4 * runtime.GOMAXPROCS(0)
	s := &shardedAnalyzer{shards: make([]*analyzerShard, n)}
	for i := range s.shards {
		s.shards[i] = &analyzerShard{a: behavior.New(cfg, benign)}
	}
	return s
}

// Observe is safe for concurrent use.
func (s *shardedAnalyzer) Observe(ev *telemetry.Event) {
	sh := s.shards[behavior.Shard(ev, len(s.shards))]
	sh.mu.Lock()
	sh.a.Observe(ev)
	sh.mu.Unlock()
}

// Finish merges the shards and scores every series.
func (s *shardedAnalyzer) Finish() []behavior.Detection {
	a := s.shards[0].a
	for _, sh := range s.shards[1:] {
		a.Merge(sh.a)
	}
	return a.Finish()
}

// Above counts the detections that are not suppressed and score at least
// the analytics' threshold: the ones that feed campaigns.
func Above(dets []behavior.Detection) int {
	th := behavior.DefaultConfig().Threshold
	n := 0
	for i := range dets {
		if !dets[i].Suppressed && dets[i].Score >= th {
			n++
		}
	}
	return n
}
