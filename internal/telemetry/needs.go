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
	// dates, MIME types, file sizes, alert and notice signatures (with
	// their ids and severities) and labels zero.
	// A malformed value in such a column is then not noticed either.
	MatchOnly bool
	// Skip names groups of matchable values the consumer does not read
	// either (no loaded indicator can match them): a reader may leave
	// their fields zero. Zero skips nothing. Time, uid, addresses and
	// ports are never in a group: a sighting carries them.
	Skip ValueGroups
}

// ValueGroups is a set of groups of matchable Event fields, each group
// being what one family of indicator types is matched against.
type ValueGroups uint16

// The groups. Each lists the fields a reader may leave zero when the
// group is skipped.
const (
	// GroupNames: Query, Answers, CertSubject, CertSANs (matched as
	// domains or addresses).
	GroupNames ValueGroups = 1 << iota
	// GroupHashes: MD5, SHA1, SHA256, CertSHA1, CertSHA256, CertChain.
	GroupHashes
	// GroupJA3: JA3, JA3S.
	GroupJA3
	// GroupSerials: CertSerial, CertIssuer.
	GroupSerials
	// GroupMail: MailFrom, RcptTo, From, To, Subject.
	GroupMail
	// GroupUserAgent: UserAgent.
	GroupUserAgent
	// GroupFileName: FileName.
	GroupFileName
)

// Has reports whether every group of h is in g.
func (g ValueGroups) Has(h ValueGroups) bool { return g&h == h }
