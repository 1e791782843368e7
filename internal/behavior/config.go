package behavior

import (
	"net/netip"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/geo"
)

// Config holds every threshold of the analytics. DefaultConfig documents the
// defaults; the README explains how each one is used.
type Config struct {
	// Threshold is the score from which a finding is a detection to act on.
	Threshold float64
	// ReportFloor: findings whose raw score is below it are not returned.
	ReportFloor float64

	// Internal lists the organisation's own networks. Series from an
	// external source to an internal destination (inbound) are skipped
	// unless AnalyseInbound; internal→internal ones unless AnalyseInternal.
	Internal        []netip.Prefix
	AnalyseInbound  bool
	AnalyseInternal bool

	// Beaconing.
	MinCheckins int           // fewer check-ins give no beacon score
	BurstGap    time.Duration // records starting this close to the previous one are one check-in
	JoinGap     time.Duration // a record on the same source port this soon after the previous one ends continues it (Zeek splits long or retried connections)
	Weights     BeaconWeights

	// Long connections: the connected time of a pair (union of its
	// connections) scores 0 at LongConnMin and 1 at LongConnMax on a log
	// scale, or by the share of the observed period it covers (0 at
	// LongConnShareLo, 1 at LongConnShareHi) once it is at least
	// LongConnShareMin long.
	LongConnMin, LongConnMax         time.Duration
	LongConnShareLo, LongConnShareHi float64
	LongConnShareMin                 time.Duration
	// LongConnPiece: only check-ins (connections, with their rejoined
	// pieces) at least this long count towards the connected time, so that
	// a flood of short requests is not mistaken for one long connection.
	LongConnPiece time.Duration

	// Strobes: the most records of one pair within one StrobeWindow scores 0
	// at StrobeLo and 1 at StrobeHi (log scale).
	StrobeWindow       time.Duration
	StrobeLo, StrobeHi float64

	// DNS tunnelling per (source, registered domain).
	TunnelMinUnique int     // fewer unique subdomains are not assessed
	TunnelUniqueLo  float64 // unique subdomains: 0 here …
	TunnelUniqueHi  float64 // … 1 here (log scale)

	// DGA per source host: distinct registered domains that failed (NXDOMAIN).
	DGAMinFailed int
	DGAFailedLo  float64
	DGAFailedHi  float64

	// Rare destinations: once at least RareMinHosts internal sources are seen,
	// a destination reached by at most RareMaxSources of them raises the
	// score by RareFactor; one reached by at least CommonShare of them lowers
	// it by CommonFactor.
	RareMinHosts   int
	RareMaxSources int
	RareFactor     float64
	CommonShare    float64
	CommonFactor   float64

	// BenignRules map the name of a known-benign list (warninglist or
	// allowlist) to a score factor; the first matching rule wins, and a list
	// no rule names is reported with factor 1 (no effect).
	BenignRules []BenignRule

	// VendorServices is the project's own list of vendor update, telemetry
	// and push hosts, looked up with the Benign given to New and by
	// Reapply. nil: not used.
	VendorServices Benign
	// Locator, when set, gives the autonomous system of each finding's
	// destination (Detection.DstASN, DstASOrg). The analyzer never loads a
	// database by itself: callers pass one (geo.Default, geo.OpenMMDB).
	Locator geo.Locator
	// Networks are autonomous systems of vendors and clouds: a destination
	// in one is reported as on the list "whodunit vendor networks: GROUP",
	// whose factor BenignRules give. Needs DstASN, hence Locator.
	Networks []VendorNetwork

	// Dual-stack hosts: a connection from Y to an address that a DNS answer
	// gave to X (another family: one IPv4, one IPv6) at most AliasWindow
	// earlier, with no answer to Y itself, links X and Y; with links over at
	// least AliasMinAddrs distinct addresses they are one host (DGA state is
	// joined, findings name both).
	AliasWindow   time.Duration
	AliasMinAddrs int

	// Bounds on memory.
	MaxSeries  int // series (and DNS tunnel, DGA states) analysed; see README: bounds
	MaxRecords int // records analysed per series: the earliest are kept
	MaxBuckets int // buckets per sketch
	MaxNames   int // (source, address) pairs whose names (DNS, TLS, HTTP) are remembered
}

// BeaconWeights are the weights of the beacon score's parts. Parts that
// cannot be measured (sizes unknown, series too short for the hours of the
// day) are left out and the remaining weights rescaled.
type BeaconWeights struct {
	IntervalMAD, IntervalSkew float64
	SizeMAD, SizeSkew         float64
	Hours, Coverage           float64
}

// BenignRule gives the score factor for known-benign lists whose name matches
// List, a case-insensitive pattern where * matches any run of characters
// ("microsoft-azure*", "*amazon aws*").
type BenignRule struct {
	List   string
	Factor float64 // 0 suppresses
	Why    string
}

// DefaultConfig returns the defaults:
//
//   - Threshold 0.7, ReportFloor 0.4.
//   - Internal: RFC 1918, 100.64/10 (CGNAT), fc00::/7, link-local and loopback;
//     inbound and internal→internal series skipped, as RITA does.
//   - Beacons: at least 8 check-ins; records within 3 s of each other are one
//     check-in; a record on the same source port within 15 min of the
//     previous end continues it (TCP only). Weights: interval MAD 0.40,
//     interval skew 0.20, size MAD 0.12, size skew 0.08, hours 0.10,
//     coverage 0.10 — timing dominates, the rest corroborates.
//   - Long connections: 1 h → 0, 12 h → 1; or 25 % → 0, 75 % → 1 of the
//     observed period once connected at least 30 min; only connections
//     (with their rejoined pieces) of at least 1 min count.
//   - Strobes: 200 → 0, 2,000 → 1 records of one pair in 10 min.
//   - DNS tunnels: at least 30 unique subdomains; 30 → 0, 1,000 → 1.
//   - DGA: at least 10 failed registered domains; 10 → 0, 200 → 1.
//   - Rare destinations: with ≥ 10 internal hosts, ≤ 1 source ×1.15;
//     ≥ 50 % of sources ×0.8.
//   - Benign lists: see DefaultBenignRules; the project's vendor lists
//     (VendorServices, Networks) are on; no Locator.
//   - Dual-stack hosts: answer → connection within 10 s, over at least 3
//     addresses.
//   - Memory: 250,000 series, 131,072 records per series (three weeks of a
//     15 s beacon), 128 buckets per sketch, 200,000 (source, address) pairs
//     with names.
func DefaultConfig() Config {
	services, networks := mustVendorData()
	return Config{
		Threshold:   0.7,
		ReportFloor: 0.4,
		Internal: []netip.Prefix{
			netip.MustParsePrefix("10.0.0.0/8"),
			netip.MustParsePrefix("172.16.0.0/12"),
			netip.MustParsePrefix("192.168.0.0/16"),
			netip.MustParsePrefix("100.64.0.0/10"),
			netip.MustParsePrefix("169.254.0.0/16"),
			netip.MustParsePrefix("127.0.0.0/8"),
			netip.MustParsePrefix("fc00::/7"),
			netip.MustParsePrefix("fe80::/10"),
			netip.MustParsePrefix("::1/128"),
		},
		MinCheckins: 8,
		BurstGap:    3 * time.Second,
		JoinGap:     15 * time.Minute,
		Weights: BeaconWeights{
			IntervalMAD: 0.40, IntervalSkew: 0.20,
			SizeMAD: 0.12, SizeSkew: 0.08,
			Hours: 0.10, Coverage: 0.10,
		},
		LongConnMin:      time.Hour,
		LongConnMax:      12 * time.Hour,
		LongConnShareLo:  0.25,
		LongConnShareHi:  0.75,
		LongConnShareMin: 30 * time.Minute,
		LongConnPiece:    time.Minute,
		StrobeWindow:     10 * time.Minute,
		StrobeLo:         200,
		StrobeHi:         2000,
		TunnelMinUnique:  30,
		TunnelUniqueLo:   30,
		TunnelUniqueHi:   1000,
		DGAMinFailed:     10,
		DGAFailedLo:      10,
		DGAFailedHi:      200,
		RareMinHosts:     10,
		RareMaxSources:   1,
		RareFactor:       1.15,
		CommonShare:      0.5,
		CommonFactor:     0.8,
		BenignRules:      DefaultBenignRules(),
		VendorServices:   services,
		Networks:         networks,
		AliasWindow:      10 * time.Second,
		AliasMinAddrs:    3,
		MaxSeries:        250_000,
		MaxRecords:       defaultMaxRecords,
		MaxBuckets:       128,
		MaxNames:         200_000,
	}
}

// DefaultBenignRules sort the MISP warninglists into four groups; each rule
// names a list by its directory name and by its title, so that either form
// of list name works:
//
//   - the user's allowlist, public resolvers, CRL/OCSP, captive-portal
//     checks and special-use names: suppressed (factor 0);
//   - vendor update and telemetry services (Microsoft, Office 365, Windows
//     endpoints, Google domains, Apple, the project's "whodunit vendor
//     services") and security vendors' own networks: ×0.3;
//   - popular sites (the top-N lists) and large software vendors' networks
//     (Microsoft, Apple, Google, Dropbox): ×0.6 — popular is not harmless,
//     compromised and abused sites are popular too, and these networks also
//     host customer clouds and shared files;
//   - cloud and CDN address ranges and networks: ×0.8 — C2 is often hosted
//     or fronted there, so the score is lowered only a little.
//
// Lists no rule names (dynamic DNS, VPNs, sinkholes, scanners, …) are
// reported but leave the score unchanged: they are not benign infrastructure.
func DefaultBenignRules() []BenignRule {
	const (
		suppress = "known-benign infrastructure"
		service  = "known update, telemetry or infrastructure service"
		secvend  = "network of a security vendor: its products' own update, reputation, telemetry and push traffic; it hosts nobody else"
		popular  = "popular site (popular is not harmless)"
		softvend = "network of a large software vendor: mostly its own update, telemetry and push services, but it also hosts customer clouds and shared files, which C2 can use"
		cloud    = "shared cloud or CDN address (C2 can be hosted or fronted here)"
	)
	groups := []struct {
		factor   float64
		why      string
		patterns []string
	}{
		{0, "on the user's allowlist", []string{"allowlist*"}},
		{0, suppress, []string{"public-dns-*", "*public dns resolvers*", "crl-*", "crl and ocsp*",
			"captive-portals", "captive portal*", "rfc6761", "*special-use domain names*"}},
		{0.3, service, []string{"microsoft", "*known microsoft domains*", "microsoft-office365", "microsoft-office365-ip",
			"microsoft-office365-cn", "*office 365 urls*", "*office 365 ip address ranges*", "microsoft-win10-connection-endpoints",
			"*windows 10 connection endpoints*", "google", "*known google domains*", "apple", "*known apple ip ranges*",
			"whodunit vendor services"}},
		{0.3, secvend, []string{NetworkListName + ": security vendor"}},
		{0.6, popular, []string{"alexa", "tranco*", "cisco_top*", "cloudflare-top*", "majestic_million", "moz-top500", "top *"}},
		{0.6, softvend, []string{NetworkListName + ": software vendor"}},
		{0.8, cloud, []string{"amazon-aws", "*amazon aws*", "microsoft-azure", "microsoft-azure-china", "microsoft-azure-germany",
			"microsoft-azure-us-gov", "*microsoft azure*datacenter*", "google-gcp", "*google cloud platform*", "oracle-oci",
			"*oracle cloud*", "akamai", "*akamai ip ranges*", "cloudflare", "*cloudflare ip ranges*", "fastly", "*fastly ip*",
			"bunny-net", "*bunny.net*", "stackpath", "*stackpath*", "ovh-cluster", "*ovh cluster*", "github", "*github ip ranges*",
			"wikimedia", "*wikimedia address ranges*", "zscaler", "*zscaler ip*", NetworkListName + ": cloud hosting"}},
	}
	var rules []BenignRule
	for _, g := range groups {
		for _, p := range g.patterns {
			rules = append(rules, BenignRule{List: p, Factor: g.factor, Why: g.why})
		}
	}
	return rules
}

// rule returns the first rule matching list, or a neutral rule.
func (c *Config) rule(list string) BenignRule {
	for _, r := range c.BenignRules {
		if glob(strings.ToLower(r.List), strings.ToLower(list)) {
			return r
		}
	}
	return BenignRule{List: list, Factor: 1, Why: "listed, but not as benign infrastructure"}
}

const defaultMaxRecords = 1 << 17

func (c *Config) maxRecords() int {
	if c.MaxRecords <= 0 {
		return defaultMaxRecords
	}
	return c.MaxRecords
}

func (c *Config) isInternal(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range c.Internal {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// glob matches name against pattern, where * matches any run of characters.
func glob(pattern, name string) bool {
	star := strings.IndexByte(pattern, '*')
	if star < 0 {
		return pattern == name
	}
	if !strings.HasPrefix(name, pattern[:star]) {
		return false
	}
	rest := pattern[star+1:]
	name = name[star:]
	for i := 0; i <= len(name); i++ {
		if glob(rest, name[i:]) {
			return true
		}
	}
	return false
}
