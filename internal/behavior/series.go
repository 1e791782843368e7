package behavior

import (
	"cmp"
	"math"
	"net/netip"
	"slices"
)

// layer says which records feed a series. Records of one connection may be
// seen twice (conn.log and http.log): series of different layers are kept
// apart and the conn layer is preferred when both exist.
type layer uint8

const (
	layerConn layer = iota // connection summaries
	layerApp               // HTTP requests and TLS handshakes
	layerDNS               // DNS queries (the query series)
)

func (l layer) String() string {
	switch l {
	case layerConn:
		return "conn"
	case layerApp:
		return "app"
	}
	return "dns"
}

// seriesKey identifies a series: a source and either a destination address
// or a destination name.
type seriesKey struct {
	src, dst netip.Addr
	name     string
	layer    layer
}

// rec is one raw record of a series, packed into 16 bytes because a series
// keeps all of them until Finish: check-ins are cut from the records in time
// order, and only a complete, sorted set gives the same check-ins whatever
// order the records arrived in.
type rec struct {
	key  uint64 // start (ms since the epoch, recStartBits) << 17 | source port << 1 | tcp
	dur  uint32 // ms
	size uint32 // bytes (both directions); sizeUnknown when not known
}

const (
	sizeUnknown  = math.MaxUint32
	recStartBits = 47 // ms since 1970, to the year 6429
	recStartMax  = 1<<recStartBits - 1
)

func newRec(start int64, dur, size uint32, port uint16, tcp bool) rec {
	start = min(max(start, 0), recStartMax) // out-of-range times are clamped, never wrapped
	k := uint64(start)<<17 | uint64(port)<<1
	if tcp {
		k |= 1
	}
	return rec{key: k, dur: dur, size: size}
}

func (r rec) start() int64 { return int64(r.key >> 17) }
func (r rec) port() uint16 { return uint16(r.key >> 1) }
func (r rec) isTCP() bool  { return r.key&1 == 1 }
func (r rec) end() int64   { return r.start() + int64(r.dur) }
func cmpRec(x, y rec) int {
	return cmp.Or(cmp.Compare(x.key, y.key), cmp.Compare(x.dur, y.dur), cmp.Compare(x.size, y.size))
}
func (r rec) sized() bool { return r.size != sizeUnknown }

// checkin is one contact of the source with the destination: one record,
// or several that are a burst (starts within BurstGap) or pieces of one TCP
// connection (same source port, within JoinGap of the previous end).
type checkin struct {
	start, lastStart, end int64
	size                  int64
	sized                 bool
	port                  uint16
	tcp                   bool
	records               int32
}

// sample points at a record behind a series. A series keeps the earliest
// ones (by time, then file name and line), whatever the order they came in.
type sample struct {
	ms   int64
	file string // interned by the analyzer
	line int64  // negative: a byte offset
}

func sampleLess(a, b sample) bool {
	if a.ms != b.ms {
		return a.ms < b.ms
	}
	if a.file != b.file {
		return a.file < b.file
	}
	return a.line < b.line
}

// samples keeps the three earliest samples.
type samples struct {
	s [3]sample
	n uint8
}

func (ss *samples) add(x sample) {
	i := int(ss.n)
	for i > 0 && sampleLess(x, ss.s[i-1]) {
		i--
	}
	if i < int(ss.n) && ss.s[i] == x || i > 0 && ss.s[i-1] == x || i >= len(ss.s) {
		return
	}
	if ss.n < uint8(len(ss.s)) {
		ss.n++
	}
	copy(ss.s[i+1:ss.n], ss.s[i:ss.n-1])
	ss.s[i] = x
}

func (ss *samples) merge(o *samples) {
	for _, x := range o.s[:o.n] {
		ss.add(x)
	}
}

// series is the state of one series: counters over every record, and the
// records themselves (the MaxRecords earliest), folded into check-ins,
// sketches and histograms by fold at Finish.
type series struct {
	count       int64
	first, last int64 // ms, earliest and latest record start
	minPort     uint16
	maxPort     uint16
	proto       string // the smallest protocol name seen

	recs []rec

	// names seen for an address series (TLS SNI, HTTP Host, DNS answers),
	// with counts; addresses seen for a name series.
	names    nameCounts
	dsts     [2]netip.Addr // the smallest two
	multiDst bool

	smp samples

	folded // filled by fold
}

// folded is what fold computes from the records.
type folded struct {
	analysed  int64 // records folded (the earliest MaxRecords)
	afirst    int64 // ms, first and last analysed record start
	alast     int64
	checkins  int64
	joined    int64 // records folded into an existing check-in
	prevStart int64
	cur       checkin
	ivl, size sketch
	sized     int64
	hours     [24]uint32
	connected int64 // ms, union of the spans of check-ins of at least LongConnPiece
	pieces    int64 // check-ins counted in connected
	coverEnd  int64
	longest   int64 // ms, longest check-in span
	strobeMax uint32
}

func newSeries(proto string, port uint16) *series {
	return &series{proto: proto, minPort: port, maxPort: port}
}

func (s *series) multiPort() bool { return s.minPort != s.maxPort }

// port is the destination port, when the series used one.
func (s *series) port() uint16 { return s.minPort }

func (s *series) observe(r rec, ms int64, cfg *Config, smp sample) {
	if s.count == 0 || ms < s.first {
		s.first = ms
	}
	if s.count == 0 || ms > s.last {
		s.last = ms
	}
	s.count++
	s.smp.add(smp)
	s.recs = append(s.recs, r)
	if limit := cfg.maxRecords(); len(s.recs) >= 2*limit {
		s.truncate(limit)
	}
}

// see notes a destination port and protocol of a record.
func (s *series) see(proto string, port uint16) {
	s.minPort, s.maxPort = min(s.minPort, port), max(s.maxPort, port)
	if proto < s.proto {
		s.proto = internProto(proto)
	}
}

// truncate sorts the records and keeps the earliest limit: the same ones
// whatever the order they arrived in.
func (s *series) truncate(limit int) {
	slices.SortFunc(s.recs, cmpRec)
	if len(s.recs) > limit {
		s.recs = slices.Clip(s.recs[:limit])
	}
}

// fold computes the check-ins, sketches and histograms from the records,
// in time order. The records are released.
func (s *series) fold(cfg *Config) {
	s.truncate(cfg.maxRecords())
	f := folded{}
	w := cfg.StrobeWindow.Milliseconds()
	var bucket int64
	var inBucket uint32
	for i, r := range s.recs {
		if i == 0 {
			f.afirst = r.start()
			f.cur = newCheckin(r)
		} else {
			f.add(r, cfg)
		}
		f.alast = r.start()
		if w > 0 {
			if b := r.start() / w; i == 0 || b != bucket {
				bucket, inBucket = b, 0
			}
			inBucket = satAdd32(inBucket, 1)
			f.strobeMax = max(f.strobeMax, inBucket)
		}
	}
	if len(s.recs) > 0 {
		f.closeCheckin(cfg)
	}
	f.analysed = int64(len(s.recs))
	s.folded = f
	s.recs = nil
}

// add folds the next record (in time order) into the open check-in or
// opens a new one.
func (f *folded) add(r rec, cfg *Config) {
	c := &f.cur
	burst := r.start()-c.lastStart <= cfg.BurstGap.Milliseconds()
	piece := r.isTCP() && c.tcp && r.port() != 0 && r.port() == c.port && r.start()-c.end <= cfg.JoinGap.Milliseconds()
	if burst || piece {
		c.lastStart = r.start()
		c.end = max(c.end, r.end())
		if r.sized() {
			c.size += int64(r.size)
			c.sized = true
		}
		c.port = r.port()
		c.records++
		f.joined++
		return
	}
	f.closeCheckin(cfg)
	f.cur = newCheckin(r)
}

func newCheckin(r rec) checkin {
	c := checkin{start: r.start(), lastStart: r.start(), end: r.end(), port: r.port(), tcp: r.isTCP(), records: 1}
	if r.sized() {
		c.size, c.sized = int64(r.size), true
	}
	return c
}

func (f *folded) closeCheckin(cfg *Config) {
	c := &f.cur
	if f.checkins > 0 {
		f.ivl.add(float64(c.start-f.prevStart), cfg.MaxBuckets)
	}
	f.prevStart = c.start
	f.checkins++
	if c.sized {
		f.size.add(float64(c.size), cfg.MaxBuckets)
		f.sized++
	}
	f.hours[hourOfDay(c.start)] = satAdd32(f.hours[hourOfDay(c.start)], 1)
	span := c.end - c.start
	f.longest = max(f.longest, span)
	if span < cfg.LongConnPiece.Milliseconds() {
		return
	}
	f.pieces++
	if c.end > f.coverEnd {
		f.connected += c.end - max(c.start, f.coverEnd)
		f.coverEnd = c.end
	}
}

func hourOfDay(ms int64) int {
	h := (ms / 3_600_000) % 24
	if h < 0 {
		h += 24
	}
	return int(h)
}

// nameCounts counts the names seen for a series. It keeps the maxNameCounts
// smallest names: a name that is kept was never dropped, so its count is
// complete, and the kept set does not depend on arrival order.
type nameCounts struct {
	names []string // sorted
	n     []uint32
}

const maxNameCounts = 32

func (c *nameCounts) add(name string, n uint32) {
	i, found := slices.BinarySearch(c.names, name)
	if found {
		c.n[i] = satAdd32(c.n[i], n)
		return
	}
	if i >= maxNameCounts {
		return
	}
	c.names = slices.Insert(c.names, i, cloneName(name))
	c.n = slices.Insert(c.n, i, n)
	if len(c.names) > maxNameCounts {
		c.names, c.n = c.names[:maxNameCounts], c.n[:maxNameCounts]
	}
}

// top is the name seen most often (ties: the smallest).
func (c *nameCounts) top() string {
	best := -1
	for i := range c.names {
		if best < 0 || c.n[i] > c.n[best] {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return c.names[best]
}

func (c *nameCounts) merge(o *nameCounts) {
	for i, n := range o.names {
		c.add(n, o.n[i])
	}
}

func (s *series) addName(name string) { s.names.add(name, 1) }

// topName is the name seen most often for an address series.
func (s *series) topName() string { return s.names.top() }

// addDst keeps the two smallest destinations, so that a name series that
// reached one address knows it, whatever the order.
func (s *series) addDst(a netip.Addr) {
	switch {
	case !a.IsValid() || a == s.dsts[0] || a == s.dsts[1]:
	case !s.dsts[0].IsValid():
		s.dsts[0] = a
	case a.Less(s.dsts[0]):
		s.dsts[0], s.dsts[1] = a, s.dsts[0]
		s.multiDst = true
	case !s.dsts[1].IsValid() || a.Less(s.dsts[1]):
		s.dsts[1] = a
		s.multiDst = true
	}
}

// mergeFrom adds o (the same series seen by another shard) to s: exact,
// since both still hold their records.
func (s *series) mergeFrom(o *series, cfg *Config) {
	if o.count == 0 {
		return
	}
	if s.count == 0 || o.first < s.first {
		s.first = o.first
	}
	if s.count == 0 || o.last > s.last {
		s.last = o.last
	}
	if s.count == 0 {
		s.minPort, s.maxPort, s.proto = o.minPort, o.maxPort, o.proto
	} else {
		s.minPort, s.maxPort = min(s.minPort, o.minPort), max(s.maxPort, o.maxPort)
		s.proto = min(s.proto, o.proto)
	}
	s.count += o.count
	s.recs = append(s.recs, o.recs...)
	if limit := cfg.maxRecords(); len(s.recs) >= 2*limit {
		s.truncate(limit)
	}
	s.names.merge(&o.names)
	for _, d := range o.dsts {
		s.addDst(d)
	}
	s.multiDst = s.multiDst || o.multiDst
	s.smp.merge(&o.smp)
}

func cloneName(s string) string {
	if s == "" {
		return ""
	}
	return string(append([]byte(nil), s...))
}
