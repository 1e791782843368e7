package match

import "github.com/whodunit-project/whodunit/internal/telemetry"

// Unread is the set of value groups no indicator of s can match: a
// reader feeding only Match may leave their fields zero (see
// telemetry.Needs.Skip) and Match gives the same sightings. It mirrors
// what Match reads for each table; STIX patterns are not covered (they may
// compare any field), so a caller with patterns must not skip.
func (s *Snapshot) Unread() telemetry.ValueGroups {
	var g telemetry.ValueGroups
	hasDomain := s.domains.n > 0
	hasIP := len(s.ip4) > 0 || len(s.ip6) > 0 || s.cidr4 != nil || s.cidr6
	// query, answers, certificate names: domains and addresses (host)
	if !hasDomain && !hasIP {
		g |= telemetry.GroupNames
	}
	if len(s.strs[clsHash]) == 0 {
		g |= telemetry.GroupHashes
	}
	if len(s.strs[clsJA3]) == 0 && len(s.strs[clsJA3S]) == 0 {
		g |= telemetry.GroupJA3
	}
	if len(s.strs[clsSerial]) == 0 {
		g |= telemetry.GroupSerials
	}
	// an e-mail address is also matched by its domain
	if len(s.strs[clsEmail]) == 0 && len(s.strs[clsSubject]) == 0 && !hasDomain {
		g |= telemetry.GroupMail
	}
	if len(s.strs[clsUA]) == 0 {
		g |= telemetry.GroupUserAgent
	}
	if len(s.strs[clsFileName]) == 0 {
		g |= telemetry.GroupFileName
	}
	return g
}
