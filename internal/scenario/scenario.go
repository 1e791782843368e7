// Package scenario writes test scenarios: copies of real Zeek logs into
// which it injects actors' activity — automated beacons around the clock and
// human operators working office hours in their own time zone — plus decoys,
// and a manifest of every injected line that carries an indicator. Tests and
// the demo use it to check attribution against a known truth.
package scenario

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Actor is one adversary to inject.
type Actor struct {
	Name      string   // for the manifest, e.g. "APT1"
	Domains   []string // C2 domains from real intelligence
	IPs       []string // C2 server addresses
	MD5s      []string // malware delivered to victims
	UTCOffset float64  // where the operators work
	Victims   int      // how many internal hosts are compromised
	// Sessions is how many hands-on-keyboard sessions the operators hold
	// across the period.
	Sessions int
	// Beacon is the implant's check-in interval; Jitter its spread (0–1).
	Beacon time.Duration
	Jitter float64
	// UserAgent of the implant's HTTP requests.
	UserAgent string
}

// Decoys are activity that must not be attributed with confidence.
type Decoys struct {
	// Warninglisted values (e.g. a public DNS resolver an intelligence
	// feed wrongly lists) contacted by ordinary hosts.
	WarninglistedIPs []string
	// SharedIPs are claimed by more than one actor.
	SharedIPs []string
	// UnknownBeacon is a server with no intelligence that a host beacons to.
	UnknownBeacon string
}

// Spec describes a scenario.
type Spec struct {
	Background string // a directory of Zeek logs (.log or .log.gz)
	Out        string
	Seed       int64
	Start      time.Time // zero: the background's first timestamp
	Days       int
	Actors     []Actor
	Decoys     Decoys
	// Files limits which background logs are copied (base names without
	// extension, e.g. "dns", "ssl"); empty copies every log.
	Files []string
	// MaxBackgroundLines caps the lines copied from each background log (0 = all).
	MaxBackgroundLines int
}

// Truth is one injected line and what it should make whodunit find.
type Truth struct {
	Actor string    `json:"actor"` // actor name, or "decoy" / "unknown"
	Kind  string    `json:"kind"`  // beacon, human, delivery, decoy-warninglisted, decoy-shared, unknown-beacon
	Field string    `json:"field"` // e.g. dns.query, tls.sni, http.host, conn.dst_ip, files.md5
	Value string    `json:"value"`
	Time  time.Time `json:"time"`
	File  string    `json:"file"`
	Line  int64     `json:"line"`
}

// Manifest lists what was injected.
type Manifest struct {
	Start   time.Time           `json:"start"`
	End     time.Time           `json:"end"`
	Victims map[string][]string `json:"victims"` // actor -> internal hosts
	Truths  []*Truth            `json:"truths"`
	Files   []string            `json:"files"`
}

type gen struct {
	spec  Spec
	rng   *rand.Rand
	logs  map[string]*zeekLog
	man   *Manifest
	hosts []string // internal hosts seen in the background
	used  map[string]bool
	uid   int
}

// Generate writes the scenario into spec.Out and returns its manifest (also
// written as manifest.json).
func Generate(spec Spec) (*Manifest, error) {
	if spec.Days <= 0 {
		spec.Days = 21
	}
	g := &gen{spec: spec, rng: rand.New(rand.NewSource(spec.Seed)), logs: map[string]*zeekLog{},
		man: &Manifest{Victims: map[string][]string{}}, used: map[string]bool{}}
	if err := g.readBackground(); err != nil {
		return nil, err
	}
	start := spec.Start
	if start.IsZero() {
		start = g.firstTS()
	}
	start = start.UTC().Truncate(24 * time.Hour)
	end := start.Add(time.Duration(spec.Days) * 24 * time.Hour)
	g.man.Start, g.man.End = start, end
	for _, a := range spec.Actors {
		if err := g.actor(a, start, end); err != nil {
			return nil, err
		}
	}
	g.decoys(spec.Decoys, start, end)
	if err := os.MkdirAll(spec.Out, 0o755); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(g.logs))
	for n := range g.logs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		file := filepath.Join(spec.Out, n+".log.gz")
		if err := writeGz(file, g.logs[n]); err != nil {
			return nil, err
		}
		g.man.Files = append(g.man.Files, file)
	}
	sort.SliceStable(g.man.Truths, func(i, j int) bool { return g.man.Truths[i].Time.Before(g.man.Truths[j].Time) })
	data, err := json.MarshalIndent(g.man, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(spec.Out, "manifest.json"), data, 0o644); err != nil {
		return nil, err
	}
	return g.man, nil
}

func writeGz(path string, l *zeekLog) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(f)
	if err := l.write(zw, path); err != nil {
		f.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (g *gen) readBackground() error {
	if g.spec.Background == "" {
		return nil
	}
	entries, err := os.ReadDir(g.spec.Background)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		base := strings.TrimSuffix(strings.TrimSuffix(name, ".gz"), ".log")
		if e.IsDir() || !(strings.HasSuffix(name, ".log") || strings.HasSuffix(name, ".log.gz")) {
			continue
		}
		if len(g.spec.Files) > 0 && !contains(g.spec.Files, base) {
			continue
		}
		f, err := os.Open(filepath.Join(g.spec.Background, name))
		if err != nil {
			return err
		}
		var r io.Reader = f
		if strings.HasSuffix(name, ".gz") {
			zr, err := gzip.NewReader(f)
			if err != nil {
				f.Close()
				return fmt.Errorf("%s: %w", name, err)
			}
			r = zr
		}
		l, err := readLog(r, name)
		f.Close()
		if err != nil {
			return err
		}
		if g.spec.MaxBackgroundLines > 0 && len(l.lines) > g.spec.MaxBackgroundLines {
			l.lines = l.lines[:g.spec.MaxBackgroundLines]
		}
		g.logs[base] = l
		if base == "dns" || base == "conn" || base == "ssl" {
			g.collectHosts(l)
		}
	}
	sort.Strings(g.hosts)
	return nil
}

// collectHosts remembers the private originators of the background, the
// hosts a real compromise would be on.
func (g *gen) collectHosts(l *zeekLog) {
	col := -1
	for i, f := range l.fields {
		if f == "id.orig_h" {
			col = i
		}
	}
	if col < 0 {
		return
	}
	seen := map[string]bool{}
	for _, h := range g.hosts {
		seen[h] = true
	}
	for _, ln := range l.lines {
		parts := strings.Split(ln.text, "\t")
		if col >= len(parts) {
			continue
		}
		a, err := netip.ParseAddr(parts[col])
		if err == nil && a.Is4() && a.IsPrivate() && !seen[parts[col]] {
			seen[parts[col]] = true
			g.hosts = append(g.hosts, parts[col])
		}
	}
}

func (g *gen) firstTS() time.Time {
	first := 0.0
	for _, l := range g.logs {
		for _, ln := range l.lines {
			if ln.ts > 0 && (first == 0 || ln.ts < first) {
				first = ln.ts
			}
		}
	}
	if first == 0 {
		return time.Date(2018, 3, 24, 0, 0, 0, 0, time.UTC)
	}
	return time.Unix(int64(first), 0).UTC()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// victim picks an internal host not used by anyone else yet.
func (g *gen) victim(i int) string {
	for _, h := range g.hosts {
		if !g.used[h] && g.rng.Intn(3) == 0 {
			g.used[h] = true
			return h
		}
	}
	for _, h := range g.hosts {
		if !g.used[h] {
			g.used[h] = true
			return h
		}
	}
	h := fmt.Sprintf("10.250.%d.%d", i/250, 10+i%240)
	g.used[h] = true
	return h
}

func (g *gen) log(name string) *zeekLog {
	if l, ok := g.logs[name]; ok {
		return l
	}
	l := newLog(name, g.man.Start)
	g.logs[name] = l
	return l
}

func (g *gen) newUID() string {
	g.uid++
	return "Cwd" + strconv.FormatInt(int64(g.uid)*7919+100000, 36)
}

func (g *gen) port() string { return strconv.Itoa(49152 + g.rng.Intn(16000)) }

// inject adds a record to a log, with a truth when value is an indicator.
func (g *gen) inject(logName string, ts time.Time, fields map[string]string, truth *Truth) {
	if truth != nil {
		truth.Time = ts
		g.man.Truths = append(g.man.Truths, truth)
	}
	g.log(logName).add(Record{TS: ts, Fields: fields, Truth: truth})
}

func (g *gen) dns(ts time.Time, actor, kind, victim, query, answer string) {
	g.inject("dns", ts, map[string]string{"uid": g.newUID(), "id.orig_h": victim, "id.orig_p": g.port(), "id.resp_h": "10.0.0.100",
		"id.resp_p": "53", "proto": "udp", "trans_id": strconv.Itoa(g.rng.Intn(65535)), "rtt": "0.031", "query": query,
		"qclass": "1", "qclass_name": "C_INTERNET", "qtype": "1", "qtype_name": "A", "rcode": "0", "rcode_name": "NOERROR",
		"AA": "F", "TC": "F", "RD": "T", "RA": "T", "Z": "0", "answers": answer, "TTLs": "300.000000", "rejected": "F"},
		&Truth{Actor: actor, Kind: kind, Field: "dns.query", Value: query})
}

func (g *gen) conn(ts time.Time, victim, server, port, service string, dur float64, out, in int) string {
	uid := g.newUID()
	g.inject("conn", ts, map[string]string{"uid": uid, "id.orig_h": victim, "id.orig_p": g.port(), "id.resp_h": server, "id.resp_p": port,
		"proto": "tcp", "service": service, "duration": strconv.FormatFloat(dur, 'f', 6, 64), "orig_bytes": strconv.Itoa(out),
		"resp_bytes": strconv.Itoa(in), "conn_state": "SF", "local_orig": "T", "local_resp": "F", "missed_bytes": "0", "history": "ShADadFf",
		"orig_pkts": strconv.Itoa(4 + out/1400), "orig_ip_bytes": strconv.Itoa(out + 200), "resp_pkts": strconv.Itoa(4 + in/1400),
		"resp_ip_bytes": strconv.Itoa(in + 200)}, nil)
	return uid
}

// officeTime draws a moment of the working day, local time: a weekday on
// or after a random day of the period, between 08:30 and 18:00 outside lunch.
func (g *gen) officeTime(start time.Time, days int, offset float64) time.Time {
	day := start.Add(time.Duration(g.rng.Intn(days)) * 24 * time.Hour)
	for day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
		day = day.Add(24 * time.Hour)
	}
	h := 8.5 + g.rng.Float64()*8 // 08:30–16:30, shifted past lunch below
	if h >= 12 {
		h += 1.5 // lunch 12:00–13:30
	}
	// local clock time h on that day, expressed in UTC
	return day.Add(time.Duration((h - offset) * float64(time.Hour)))
}

func (g *gen) actor(a Actor, start, end time.Time) error {
	if len(a.Domains) == 0 || len(a.IPs) == 0 {
		return fmt.Errorf("actor %s needs domains and IPs", a.Name)
	}
	if a.Beacon <= 0 {
		a.Beacon = 10 * time.Minute
	}
	if a.UserAgent == "" {
		a.UserAgent = "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1)"
	}
	days := int(end.Sub(start).Hours() / 24)
	for v := 0; v < a.Victims; v++ {
		victim := g.victim(len(g.used))
		g.man.Victims[a.Name] = append(g.man.Victims[a.Name], victim)
		domain := a.Domains[v%len(a.Domains)]
		server := a.IPs[v%len(a.IPs)]
		// Delivery: the implant arrives by HTTP on the first working morning.
		if len(a.MD5s) > 0 {
			t := g.officeTime(start, 2, a.UTCOffset)
			md5 := a.MD5s[v%len(a.MD5s)]
			uid := g.conn(t, victim, server, "80", "http", 2.5, 420, 96000)
			g.inject("files", t.Add(time.Second), map[string]string{"fuid": "F" + uid[3:], "uid": uid, "id.orig_h": server, "id.orig_p": "80",
				"id.resp_h": victim, "id.resp_p": g.port(), "source": "HTTP", "depth": "0", "analyzers": "MD5,SHA1", "mime_type": "application/x-dosexec",
				"filename": "update.exe", "duration": "0.4", "local_orig": "F", "is_orig": "F", "seen_bytes": "96000", "total_bytes": "96000",
				"missing_bytes": "0", "overflow_bytes": "0", "timedout": "F", "md5": md5},
				&Truth{Actor: a.Name, Kind: "delivery", Field: "files.md5", Value: md5})
		}
		// Beacons around the clock: TLS to the C2 name, a DNS lookup every 6 hours.
		next := start.Add(time.Duration(g.rng.Int63n(int64(a.Beacon))))
		lastDNS := time.Time{}
		for t := next; t.Before(end); {
			if t.Sub(lastDNS) >= 6*time.Hour {
				g.dns(t.Add(-200*time.Millisecond), a.Name, "beacon", victim, domain, server)
				lastDNS = t
			}
			uid := g.conn(t, victim, server, "443", "ssl", 0.8+g.rng.Float64()*0.2, 310+g.rng.Intn(20), 1190+g.rng.Intn(40))
			g.inject("ssl", t, map[string]string{"uid": uid, "id.orig_h": victim, "id.orig_p": g.port(), "id.resp_h": server, "id.resp_p": "443",
				"version": "TLSv12", "cipher": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "curve": "secp256r1", "server_name": domain,
				"resumed": "F", "established": "T", "ssl_history": "CsxknGIi"},
				&Truth{Actor: a.Name, Kind: "beacon", Field: "tls.sni", Value: domain})
			j := 1 + a.Jitter*(2*g.rng.Float64()-1)
			t = t.Add(time.Duration(float64(a.Beacon) * j))
		}
	}
	// Hands on keyboard: sessions in office hours, local time.
	victims := g.man.Victims[a.Name]
	for s := 0; s < a.Sessions; s++ {
		t := g.officeTime(start, days, a.UTCOffset)
		vi := g.rng.Intn(len(victims))
		victim := victims[vi]
		domain := a.Domains[(vi+s)%len(a.Domains)]
		server := a.IPs[vi%len(a.IPs)]
		g.dns(t, a.Name, "human", victim, domain, server)
		n := 3 + g.rng.Intn(6)
		for k := 0; k < n; k++ {
			tt := t.Add(time.Duration(k*20+g.rng.Intn(20)) * time.Second)
			uid := g.conn(tt, victim, server, "80", "http", 1+g.rng.Float64()*4, 400+g.rng.Intn(4000), 200+g.rng.Intn(90000))
			g.inject("http", tt, map[string]string{"uid": uid, "id.orig_h": victim, "id.orig_p": g.port(), "id.resp_h": server, "id.resp_p": "80",
				"trans_depth": "1", "method": []string{"GET", "POST"}[g.rng.Intn(2)], "host": domain,
				"uri":     fmt.Sprintf("/%s/%d.htm", []string{"news", "images", "cgi", "login"}[g.rng.Intn(4)], g.rng.Intn(100000)),
				"version": "1.1", "user_agent": a.UserAgent, "request_body_len": "0", "response_body_len": strconv.Itoa(g.rng.Intn(90000)),
				"status_code": "200", "status_msg": "OK"},
				&Truth{Actor: a.Name, Kind: "human", Field: "http.host", Value: domain})
		}
	}
	return nil
}

func (g *gen) decoys(d Decoys, start, end time.Time) {
	days := int(end.Sub(start).Hours() / 24)
	contact := func(kind, ip string) {
		victim := g.victim(len(g.used))
		g.man.Victims[kind] = append(g.man.Victims[kind], victim)
		for i := 0; i < 12; i++ {
			t := start.Add(time.Duration(g.rng.Int63n(int64(days) * int64(24*time.Hour))))
			uid := g.conn(t, victim, ip, "443", "ssl", 0.5, 500, 3000)
			_ = uid
			g.man.Truths = append(g.man.Truths, &Truth{Actor: "decoy", Kind: kind, Field: "conn.dst_ip", Value: ip, Time: t})
			l := g.log("conn")
			l.lines[len(l.lines)-1].truth = g.man.Truths[len(g.man.Truths)-1]
		}
	}
	for _, ip := range d.WarninglistedIPs {
		contact("decoy-warninglisted", ip)
	}
	for _, ip := range d.SharedIPs {
		contact("decoy-shared", ip)
	}
	if d.UnknownBeacon != "" {
		victim := g.victim(len(g.used))
		g.man.Victims["unknown"] = append(g.man.Victims["unknown"], victim)
		for t := start.Add(time.Minute); t.Before(end); t = t.Add(time.Duration(float64(5*time.Minute) * (0.9 + 0.2*g.rng.Float64()))) {
			g.conn(t, victim, d.UnknownBeacon, "8443", "-", 0.3, 220, 180)
		}
	}
}
