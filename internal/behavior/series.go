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

// rec is one raw record waiting in a series' pending buffer.
type rec struct {
	start int64  // ms since the epoch
	dur   uint32 // ms
	size  uint32 // bytes (both directions); sizeUnknown when not known
	port  uint16 // source port
	tcp   bool
}

const sizeUnknown = math.MaxUint32

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

// sample points at a record behind a series.
type sample struct {
	file uint32
	line int64
}

// series is the bounded state of one series. Raw records wait in pend
// (at most MaxPending); they are sorted and folded into check-ins, whose
// intervals and sizes go into sketches and whose starts go into the hour of
// day histogram. Memory is therefore bounded whatever the series' length.
type series struct {
	count       int64
	first, last int64 // ms, earliest and latest record start
	port        uint16
	multiPort   bool
	proto       string

	pend []rec

	open      bool
	cur       checkin
	prevStart int64
	checkins  int64
	joined    int64 // records folded into an existing check-in
	late      int64 // records older than what was already folded

	ivl, size sketch
	sized     int64
	hours     [24]uint32

	connected int64 // ms, union of the spans of check-ins of at least LongConnPiece
	pieces    int64 // check-ins counted in connected
	coverEnd  int64
	longest   int64 // ms, longest check-in span

	strobeBucket int64
	strobeCount  uint32
	strobeMax    uint32

	// names seen for an address series (TLS SNI, HTTP Host, DNS answers),
	// with counts; addresses seen for a name series.
	names    [3]string
	nameN    [3]uint32
	dsts     [2]netip.Addr
	multiDst bool

	samples [3]sample
	nsample uint8
}

func (s *series) observe(r rec, cfg *Config, smp sample) {
	if s.count == 0 || r.start < s.first {
		s.first = r.start
	}
	if s.count == 0 || r.start > s.last {
		s.last = r.start
	}
	s.count++
	if s.nsample < uint8(len(s.samples)) {
		s.samples[s.nsample] = smp
		s.nsample++
	}
	// strobe: records per fixed window; late records count in the current one
	if w := cfg.StrobeWindow.Milliseconds(); w > 0 {
		b := r.start / w
		if b > s.strobeBucket || s.count == 1 {
			s.strobeBucket, s.strobeCount = b, 0
		}
		s.strobeCount = satAdd32(s.strobeCount, 1)
		if s.strobeCount > s.strobeMax {
			s.strobeMax = s.strobeCount
		}
	}
	if s.pend == nil {
		s.pend = make([]rec, 0, min(8, max(cfg.MaxPending, 2)))
	}
	s.pend = append(s.pend, r)
	if len(s.pend) >= max(cfg.MaxPending, 2) {
		s.flush(cfg, len(s.pend)/2)
	}
}

// flush sorts the pending records and folds the oldest n into check-ins.
func (s *series) flush(cfg *Config, n int) {
	p := s.pend
	slices.SortFunc(p, func(x, y rec) int { return cmp.Compare(x.start, y.start) })
	for _, r := range p[:n] {
		s.fold(r, cfg)
	}
	rest := copy(p, p[n:])
	s.pend = p[:rest]
}

// finish folds everything still pending and closes the open check-in.
func (s *series) finish(cfg *Config) {
	s.flush(cfg, len(s.pend))
	s.pend = nil
	if s.open {
		s.closeCheckin(cfg)
		s.open = false
	}
}

func (s *series) fold(r rec, cfg *Config) {
	end := r.start + int64(r.dur)
	if !s.open {
		s.open = true
		s.cur = newCheckin(r, end)
		return
	}
	c := &s.cur
	if r.start < c.lastStart {
		s.late++
		return
	}
	burst := r.start-c.lastStart <= cfg.BurstGap.Milliseconds()
	piece := r.tcp && c.tcp && r.port != 0 && r.port == c.port && r.start-c.end <= cfg.JoinGap.Milliseconds()
	if burst || piece {
		c.lastStart = r.start
		c.end = max(c.end, end)
		if r.size != sizeUnknown {
			c.size += int64(r.size)
			c.sized = true
		}
		c.port = r.port
		c.records++
		s.joined++
		return
	}
	s.closeCheckin(cfg)
	s.cur = newCheckin(r, end)
}

func newCheckin(r rec, end int64) checkin {
	c := checkin{start: r.start, lastStart: r.start, end: end, port: r.port, tcp: r.tcp, records: 1}
	if r.size != sizeUnknown {
		c.size, c.sized = int64(r.size), true
	}
	return c
}

func (s *series) closeCheckin(cfg *Config) {
	c := &s.cur
	if s.checkins > 0 {
		s.ivl.add(float64(c.start-s.prevStart), cfg.MaxBuckets)
	}
	s.prevStart = c.start
	s.checkins++
	if c.sized {
		s.size.add(float64(c.size), cfg.MaxBuckets)
		s.sized++
	}
	s.hours[hourOfDay(c.start)] = satAdd32(s.hours[hourOfDay(c.start)], 1)
	span := c.end - c.start
	s.longest = max(s.longest, span)
	if span < cfg.LongConnPiece.Milliseconds() {
		return
	}
	s.pieces++
	if c.end > s.coverEnd {
		s.connected += c.end - max(c.start, s.coverEnd)
		s.coverEnd = c.end
	}
}

func hourOfDay(ms int64) int {
	h := (ms / 3_600_000) % 24
	if h < 0 {
		h += 24
	}
	return int(h)
}

func (s *series) addName(name string) {
	for i := range s.names {
		if s.names[i] == name {
			s.nameN[i] = satAdd32(s.nameN[i], 1)
			return
		}
	}
	for i := range s.names {
		if s.names[i] == "" {
			s.names[i], s.nameN[i] = cloneName(name), 1
			return
		}
	}
}

// topName is the name seen most often for an address series.
func (s *series) topName() string {
	best := -1
	for i := range s.names {
		if s.names[i] != "" && (best < 0 || s.nameN[i] > s.nameN[best]) {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return s.names[best]
}

func (s *series) addDst(a netip.Addr) {
	switch {
	case !a.IsValid() || s.multiDst:
	case !s.dsts[0].IsValid():
		s.dsts[0] = a
	case s.dsts[0] == a:
	default:
		s.dsts[1] = a
		s.multiDst = true
	}
}

// mergeFrom folds o (the same series seen by another shard) into s. Check-in
// boundaries across the shards are lost, so sharding by source address,
// which never splits a series, is the supported use.
func (s *series) mergeFrom(o *series, cfg *Config) {
	s.finish(cfg)
	o.finish(cfg)
	if o.count == 0 {
		return
	}
	if s.count == 0 || o.first < s.first {
		s.first = o.first
	}
	if o.last > s.last {
		s.last = o.last
	}
	s.count += o.count
	s.multiPort = s.multiPort || o.multiPort || s.port != o.port
	s.checkins += o.checkins
	s.joined += o.joined
	s.late += o.late
	s.ivl.merge(&o.ivl, cfg.MaxBuckets)
	s.size.merge(&o.size, cfg.MaxBuckets)
	s.sized += o.sized
	for i := range s.hours {
		s.hours[i] = satAdd32(s.hours[i], o.hours[i])
	}
	s.connected += o.connected
	s.pieces += o.pieces
	s.longest = max(s.longest, o.longest)
	s.strobeMax = max(s.strobeMax, o.strobeMax)
	for i := range o.names {
		if o.names[i] != "" {
			s.addName(o.names[i])
		}
	}
	for _, d := range o.dsts {
		s.addDst(d)
	}
	s.multiDst = s.multiDst || o.multiDst
}

func cloneName(s string) string {
	if s == "" {
		return ""
	}
	return string(append([]byte(nil), s...))
}
