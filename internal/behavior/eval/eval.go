// Package eval measures the behavioural analytics on real, labelled traffic:
// the Stratosphere Zeek captures shipped in the shared data directory. For
// each dataset it runs an Analyzer over the logs and scores its detections
// against the labels the people who captured the traffic gave each flow.
//
// Definitions (also printed with the table):
//
//   - A series is a source and a destination address (or, for DNS
//     tunnelling, a source and a registered domain; for DGA, a source host).
//     It is malicious when most of its labelled records are labelled
//     Malicious.
//   - A detection is a finding at or above the threshold that is not
//     suppressed; it is a true positive when its series is malicious.
//     Several detections of one series (beacon and long connection) count
//     once.
//   - Precision = detected malicious series / detected series.
//   - Recall is given twice: over every malicious series, and over the
//     assessable ones — outbound (not filtered by direction) with at least
//     MinCheckins records, the least a behavioural analytic can judge.
//   - A pair also counts as found when a DGA detection names its source
//     host, by either of its addresses (Detection.SrcAliases).
//   - Labels the traffic contradicts (Dataset.Disputed) are counted as
//     labelled; the figures with them set aside are given beside.
package eval

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/zeek"
)

// Dataset is one labelled capture.
type Dataset struct {
	Name  string
	About string
	Files []string // relative to the stratosphere directory, fed in order
	// Internal is the capture's own network (as an analyst would configure
	// it); nil keeps the default private ranges.
	Internal []netip.Prefix
	// Labeler gives the label of a record when the files carry none;
	// nil uses the label column.
	Labeler func(ev *telemetry.Event) string
	// LabelRule says in words where the labels come from.
	LabelRule string
	// Note says what the analytics can and cannot judge in this capture.
	Note string
	// Expect is the target for the capture (ExpectC2, ExpectDGA,
	// ExpectBenign); CheckTargets tests it.
	Expect string
	// Disputed are labels that the traffic contradicts, with the reason.
	// They are counted as labelled; the report marks them and gives the
	// figures with them set aside as well.
	Disputed []Dispute
}

// Dispute is a label of the capture that the traffic itself contradicts.
// It covers the series of Src to Dst (an address or name; empty: every
// series of Src).
type Dispute struct {
	Src    netip.Addr
	Dst    string
	Reason string
}

func (d Dispute) covers(u unit) bool {
	if u.src != d.Src {
		return false
	}
	switch {
	case d.Dst == "":
		return true
	case u.dst.IsValid():
		return u.dst.String() == d.Dst
	}
	return u.name == d.Dst
}

func (d Dispute) String() string {
	dst := d.Dst
	if dst == "" {
		dst = "*"
	}
	return fmt.Sprintf("%s → %s: %s", d.Src, dst, d.Reason)
}

// Targets of the datasets.
const (
	ExpectC2     = "every malicious C2 series detected, no false positive"
	ExpectDGA    = "the DGA activity flagged, naming every address of the host"
	ExpectBenign = "nothing detected: periodic and long-lived benign series below the threshold or suppressed, with the reason"
)

// simdaName matches the names of the Simda DGA seen in capture 005
// (seven letters, the fourth a "y", under .com).
var simdaName = regexp.MustCompile(`^[a-z]{3}y[a-z]{3}\.com$`)

// Datasets lists the captures used by make eval, with their labelling.
func Datasets() []Dataset {
	ctu := []netip.Prefix{netip.MustParsePrefix("147.32.0.0/16")}
	simdaIPs := map[netip.Addr]bool{}
	return []Dataset{
		{Name: "001", About: "NjRAT", Files: []string{"001-zeek-scenario-malicious/labeled-conn.log"},
			LabelRule: "label column", Expect: ExpectC2},
		{Name: "003", About: "AndroidTester RAT on port 1337", Expect: ExpectC2,
			Files: []string{"003-zeek-scenario-malicious/dns.log", "003-zeek-scenario-malicious/conn.log"},
			Labeler: func(ev *telemetry.Event) string {
				if ev.DstPort == 1337 || ev.SrcPort == 1337 {
					return "Malicious"
				}
				return "Background"
			},
			LabelRule: "no label column; the dataset README: malicious connections are those on port 1337/TCP"},
		{Name: "005", About: "Simda, DGA", Expect: ExpectDGA,
			Files: []string{"005-zeek-scenario-malicious/dns.log", "005-zeek-scenario-malicious/conn.log", "005-zeek-scenario-malicious/http.log"},
			Labeler: func(ev *telemetry.Event) string {
				q := strings.ToLower(ev.Query)
				if ev.Kind == telemetry.KindHTTP {
					q = strings.ToLower(ev.Host)
				}
				if simdaName.MatchString(q) {
					for _, a := range ev.Answers {
						if ip, err := netip.ParseAddr(a); err == nil {
							simdaIPs[ip.Unmap()] = true
						}
					}
					return "Malicious"
				}
				if simdaIPs[ev.DstIP.Unmap()] {
					return "Malicious"
				}
				return "Background"
			},
			LabelRule: "no label column; the README says Simda with DGA traffic: records naming a Simda-pattern domain ([a-z]{3}y[a-z]{3}.com), or reaching an address such a name resolved to, are Malicious",
			Note: "the capture lasts 6 minutes: the Simda connections are one burst that no timing analytic (beacon, long connection) can judge; " +
				"they count as found when the DGA detection names their source host, whose IPv6 address made the look-ups and IPv4 address the connections"},
		stratoMixed("008", "benign Windows host (Microsoft, ESET, Dropbox), attacked from the Internet", ctu),
		{Name: "009", About: "Kovter (no conn log)", Expect: ExpectC2,
			Files:     []string{"009-zeek-malicious/data/dns.log.labeled", "009-zeek-malicious/data/http.log.labeled", "009-zeek-malicious/data/ssl.log.labeled"},
			LabelRule: "label column (every record of the infected host 192.168.1.113 is Malicious)",
			Disputed: []Dispute{
				{Src: netip.MustParseAddr("192.168.1.122"), Reason: "labelled Background, but all day it broadcasts NetBIOS look-ups, every 79 s, for four random-looking names under .su, .biz and .work " +
					"(Windows broadcasts a dotted name when DNS could not resolve it): a bot retrying dead C2 domains, by all appearances a second infected host; " +
					"the capture sees only its broadcasts"},
				{Src: netip.MustParseAddr("192.168.1.113"), Dst: "23.4.249.223", Reason: "www.microsoft.com on Akamai, labelled Malicious only because every record of the infected host is; a connectivity check, not C2"},
			}},
		stratoMixed("010", "benign Windows host, attacked from the Internet", ctu),
		stratoMixed("011", "benign Windows host, attacked from the Internet", ctu),
		stratoMixed("012", "benign Windows host, attacked from the Internet", ctu),
	}
}

func stratoMixed(n, about string, internal []netip.Prefix) Dataset {
	dir := map[string]string{"008": "008-zeek-mixed", "010": "010-zeek-mixed", "011": "011-zeek-mixed", "012": "012-zeek-mixed"}[n]
	return Dataset{Name: n, About: about, Internal: internal, Expect: ExpectBenign,
		Files:     []string{dir + "/data/dns.log.labeled", dir + "/data/conn.log.labeled", dir + "/data/http.log.labeled", dir + "/data/ssl.log.labeled"},
		LabelRule: "label column; internal network 147.32.0.0/16 (the capture's university network)"}
}

// unit identifies a ground-truth series.
type unit struct {
	kind string // "pair", "name", "domain", "host"
	src  netip.Addr
	dst  netip.Addr
	name string
}

func (u unit) String() string {
	switch u.kind {
	case "pair":
		return u.src.String() + " → " + u.dst.String()
	case "host":
		return u.src.String()
	}
	return u.src.String() + " → " + u.name
}

type tally struct {
	records, malicious, labelled int64
	detail                       map[string]*int64
	assessable                   bool
}

func (t *tally) add(label, detail string) {
	t.records++
	if label == "" {
		return
	}
	t.labelled++
	if strings.HasPrefix(strings.ToLower(label), "malicious") {
		t.malicious++
	}
	if t.detail == nil {
		t.detail = map[string]*int64{}
	}
	if detail == "" || detail == "(empty)" || detail == "-" {
		detail = label
	} else {
		detail = label + "/" + detail
	}
	// Event strings alias the reader's buffer. Assigning to an existing map
	// key would replace the stored key with the aliased string, so counts
	// are updated through a pointer and keys are copied once.
	n, ok := t.detail[detail]
	if !ok {
		n = new(int64)
		t.detail[strings.Clone(detail)] = n
	}
	*n++
}

func (t *tally) isMalicious() bool { return t.labelled > 0 && 2*t.malicious > t.labelled }

func (t *tally) labels() string {
	var ks []string
	for k, v := range t.detail {
		ks = append(ks, fmt.Sprintf("%s×%d", k, *v))
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

// Finding is one detection with its ground truth.
type Finding struct {
	Detection behavior.Detection
	Unit      string
	Malicious bool
	Labels    string
	Disputed  string // the reason, when the label of this series is disputed
}

// Result is the evaluation of one dataset.
type Result struct {
	Dataset    Dataset
	Events     int64
	BadRecords int64
	Threshold  float64

	Series, MaliciousSeries, Assessable int
	DetectedSeries, TruePositives       int
	FoundMalicious, FoundAssessable     int

	// The same with the disputed labels set aside.
	UndisputedDetected, UndisputedTP        int
	UndisputedAssessable, UndisputedFoundAs int

	Found       []Finding // detected malicious series (best finding each)
	FalsePos    []Finding // detected series that are not malicious
	Missed      []string  // assessable malicious series not detected
	Lowered     []Finding // findings with raw score ≥ threshold brought below it by a modifier or suppressed
	Findings    []behavior.Detection
	AnalyzerSts behavior.Stats
}

// Precision is TP / detected series (1 when nothing was detected).
func (r *Result) Precision() float64 {
	if r.DetectedSeries == 0 {
		return 1
	}
	return float64(r.TruePositives) / float64(r.DetectedSeries)
}

// Recall is found / malicious series over every malicious series.
func (r *Result) Recall() float64 { return ratio(r.FoundMalicious, r.MaliciousSeries) }

// RecallAssessable is the recall over assessable malicious series.
func (r *Result) RecallAssessable() float64 { return ratio(r.FoundAssessable, r.Assessable) }

// PrecisionUndisputed and RecallUndisputed set the disputed labels aside.
func (r *Result) PrecisionUndisputed() float64 {
	if r.UndisputedDetected == 0 {
		return 1
	}
	return float64(r.UndisputedTP) / float64(r.UndisputedDetected)
}

// RecallUndisputed is RecallAssessable without the disputed series.
func (r *Result) RecallUndisputed() float64 {
	return ratio(r.UndisputedFoundAs, r.UndisputedAssessable)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// Run evaluates one dataset found under root (the stratosphere directory).
func Run(root string, ds Dataset, cfg behavior.Config, benign behavior.Benign) (*Result, error) {
	if ds.Internal != nil {
		cfg.Internal = append(append([]netip.Prefix(nil), cfg.Internal...), ds.Internal...)
	}
	an := behavior.New(cfg, benign)
	res := &Result{Dataset: ds, Threshold: cfg.Threshold}
	truth := map[unit]*tally{}
	count := func(u unit, label, detail string) {
		t := truth[u]
		if t == nil {
			t = &tally{}
			u.name = strings.Clone(u.name) // event strings alias the reader's buffer
			truth[u] = t
		}
		t.add(label, detail)
	}
	for _, rel := range ds.Files {
		path := filepath.Join(root, rel)
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			continue
		}
		err := readZeek(path, func(ev *telemetry.Event) {
			res.Events++
			label, detail := ev.Label, ev.DetailedLabel
			if ds.Labeler != nil {
				label, detail = ds.Labeler(ev), ""
			}
			an.Observe(ev)
			src, dst := ev.SrcIP.Unmap(), ev.DstIP.Unmap()
			switch ev.Kind {
			case telemetry.KindConn, telemetry.KindHTTP, telemetry.KindTLS:
				count(unit{kind: "pair", src: src, dst: dst}, label, detail)
				if n := eventName(ev); n != "" {
					count(unit{kind: "name", src: src, name: n}, label, detail)
				}
			case telemetry.KindDNS:
				q := strings.TrimSuffix(strings.ToLower(ev.Query), ".")
				count(unit{kind: "name", src: src, name: q}, label, detail)
				if reg, ok := behavior.RegisteredDomain(q); ok {
					count(unit{kind: "domain", src: src, name: reg}, label, detail)
				}
			}
			count(unit{kind: "host", src: src}, label, detail)
		}, &res.BadRecords)
		if err != nil {
			return nil, err
		}
	}
	dets := an.Finish()
	res.Findings = dets
	res.AnalyzerSts = an.Stats()

	// which pair series could an analytic judge?
	for u, t := range truth {
		if u.kind != "pair" {
			continue
		}
		res.Series++
		if !t.isMalicious() {
			continue
		}
		res.MaliciousSeries++
		if t.records >= int64(cfg.MinCheckins) && outbound(&cfg, u.src, u.dst) {
			t.assessable = true
			res.Assessable++
		}
	}

	best := map[unit]Finding{}
	for _, d := range dets {
		u := unitOf(d)
		t := truth[u]
		f := Finding{Detection: d, Unit: u.String(), Disputed: ds.dispute(u)}
		if t != nil {
			f.Malicious, f.Labels = t.isMalicious(), t.labels()
		}
		if d.RawScore >= cfg.Threshold && !cfg.Detected(d) {
			res.Lowered = append(res.Lowered, f)
		}
		if !cfg.Detected(d) {
			continue
		}
		if b, ok := best[u]; !ok || d.Score > b.Detection.Score {
			best[u] = f
		}
	}
	for _, f := range best {
		res.DetectedSeries++
		if f.Disputed == "" {
			res.UndisputedDetected++
		}
		if f.Malicious {
			res.TruePositives++
			if f.Disputed == "" {
				res.UndisputedTP++
			}
			res.Found = append(res.Found, f)
		} else {
			res.FalsePos = append(res.FalsePos, f)
		}
	}
	// a malicious pair is found when a detection names it, or names one
	// of its names or the source host (DGA)
	for u, t := range truth {
		if u.kind != "pair" || !t.isMalicious() {
			continue
		}
		disputed := ds.dispute(u)
		if t.assessable && disputed == "" {
			res.UndisputedAssessable++
		}
		if pairFound(u, best, truth) {
			res.FoundMalicious++
			if t.assessable {
				res.FoundAssessable++
				if disputed == "" {
					res.UndisputedFoundAs++
				}
			}
		} else if t.assessable {
			m := fmt.Sprintf("%s (%d records, %s)", u, t.records, t.labels())
			if disputed != "" {
				m += " [disputed label, see above]"
			}
			res.Missed = append(res.Missed, m)
		}
	}
	sortFindings(res.Found)
	sortFindings(res.FalsePos)
	sortFindings(res.Lowered)
	sort.Strings(res.Missed)
	return res, nil
}

// dispute returns the reason when the label of u is disputed.
func (ds *Dataset) dispute(u unit) string {
	for _, d := range ds.Disputed {
		if d.covers(u) {
			return d.Reason
		}
	}
	return ""
}

func sortFindings(fs []Finding) {
	sort.Slice(fs, func(i, j int) bool {
		if fs[i].Detection.Score != fs[j].Detection.Score {
			return fs[i].Detection.Score > fs[j].Detection.Score
		}
		return fs[i].Unit < fs[j].Unit
	})
}

func pairFound(u unit, best map[unit]Finding, truth map[unit]*tally) bool {
	if _, ok := best[u]; ok {
		return true
	}
	for bu, f := range best {
		if !f.Malicious {
			continue
		}
		if bu.kind == "host" && slices.Contains(f.Detection.SrcAliases, u.src) {
			return true // the detection names the host by its other address
		}
		if bu.src != u.src {
			continue
		}
		switch bu.kind {
		case "host":
			return true
		case "name", "domain":
			// the name series covers this pair when the detection names
			// the address's name
			if f.Detection.Dst == u.dst {
				return true
			}
		}
	}
	return false
}

func unitOf(d behavior.Detection) unit {
	switch {
	case d.Analytic == behavior.DGA:
		return unit{kind: "host", src: d.Src}
	case d.Analytic == behavior.DNSTunnel:
		return unit{kind: "domain", src: d.Src, name: d.DstName}
	case d.Dst.IsValid():
		return unit{kind: "pair", src: d.Src, dst: d.Dst}
	}
	return unit{kind: "name", src: d.Src, name: d.DstName}
}

func outbound(cfg *behavior.Config, src, dst netip.Addr) bool {
	in := func(a netip.Addr) bool {
		for _, p := range cfg.Internal {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	si, di := in(src), in(dst)
	return !(di && !si && !cfg.AnalyseInbound) && !(si && di && !cfg.AnalyseInternal)
}

func eventName(ev *telemetry.Event) string {
	h := ev.Host
	if ev.Kind == telemetry.KindTLS {
		h = ev.SNI
	}
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	if h == "" || h == "-" {
		return ""
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 && strings.Count(h, ":") == 1 {
		h = h[:i]
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return ""
	}
	return h
}

// readZeek feeds every record of a Zeek TSV log to fn, counting bad ones.
func readZeek(path string, fn func(*telemetry.Event), bad *int64) error {
	in, err := fileio.Open(path, fileio.DefaultLimits)
	if err != nil {
		return err
	}
	defer in.Close()
	r, err := zeek.TSV{}.Open(in.R, path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var ev telemetry.Event
	for {
		err := r.Next(&ev)
		if err == io.EOF {
			return nil
		}
		if telemetry.IsRecordError(err) {
			*bad++
			continue
		}
		if err != nil {
			return err
		}
		fn(&ev)
	}
}
