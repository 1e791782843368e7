package geo

import (
	"hash/maphash"
	"net/netip"
	"sync"
)

// Cache bounds: telemetry holds few distinct addresses compared with its
// events, but a scan of the whole Internet must not grow memory without end.
const (
	DefaultCacheSize = 1 << 20
	cacheShards      = 64
)

// cached memoises a Locator's answers for one run.
type cached struct {
	next       Locator
	seed       maphash.Seed
	shardLimit int
	shards     [cacheShards]cacheShard
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[netip.Addr]cacheEntry
}

type cacheEntry struct {
	info Info
	ok   bool
}

// Cached wraps l so that each distinct address is looked up once per run;
// it is safe for concurrent use. It holds at most DefaultCacheSize answers:
// a full shard is emptied and starts again, which keeps the hot addresses
// of a long scan cheap without an LRU's bookkeeping. Unknown answers are
// cached too. Zones and IPv4-mapped forms share one entry. A *DB is
// returned as it is: its lookups cost no more than a cache hit.
func Cached(l Locator) Locator {
	switch l := l.(type) {
	case *cached, *DB:
		return l
	}
	return newCached(l, DefaultCacheSize)
}

func newCached(l Locator, size int) *cached {
	c := &cached{next: l, seed: maphash.MakeSeed(), shardLimit: max(1, size/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[netip.Addr]cacheEntry)
	}
	return c
}

func (c *cached) Lookup(a netip.Addr) (Info, bool) {
	if !a.IsValid() {
		return Info{}, false
	}
	a = normalise(a)
	b := a.As16()
	s := &c.shards[maphash.Bytes(c.seed, b[:])%cacheShards]
	s.mu.RLock()
	e, hit := s.m[a]
	s.mu.RUnlock()
	if hit {
		return e.info, e.ok
	}
	info, ok := c.next.Lookup(a)
	s.mu.Lock()
	if len(s.m) >= c.shardLimit {
		clear(s.m)
	}
	s.m[a] = cacheEntry{info, ok}
	s.mu.Unlock()
	return info, ok
}
