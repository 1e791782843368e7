package telemetry

// Needs says which Event fields the consumer of a reader reads, so that
// a reader may leave the others undecoded. The zero value is everything:
// a caller that narrows it promises not to read what it gave up.
type Needs struct {
	// MatchOnly: only what the indicator matcher reads and a sighting
	// carries (time, uid, addresses and ports, the matchable values). A
	// reader may leave connection statistics (proto, service, duration,
	// bytes, packets, state), DNS query types, codes and TTLs, the HTTP
	// method, status and referrer, the TLS version, certificate validity
	// dates, MIME types, file sizes, notice signatures and labels zero.
	// A malformed value in such a column is then not noticed either.
	MatchOnly bool
}
