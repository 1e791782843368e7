package benchgen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
)

// Config says what corpus to make.
type Config struct {
	Dir         string // output directory (created)
	Size        int64  // total bytes of logs, approximately (≥ 1 MB)
	Seed        uint64
	FilesPerLog int // files per log type; 0 = 2
	// PlantEvery plants one indicator value in about one record of every
	// PlantEvery; 0 = 10000.
	PlantEvery int
}

// FileInfo describes one generated file.
type FileInfo struct {
	Path    string `json:"path"`
	Log     string `json:"log"`
	Bytes   int64  `json:"bytes"`
	Records int64  `json:"records"`
}

// Manifest is what GenerateCorpus made and the sightings a scan must find
// with any indicator set made by Indicators with the same seed.
type Manifest struct {
	Seed    uint64           `json:"seed"`
	Bytes   int64            `json:"bytes"`
	Records int64            `json:"records"`
	Files   []FileInfo       `json:"files"`
	Planted int64            `json:"planted"`          // expected sightings in total
	ByField map[string]int64 `json:"planted_by_field"` // expected sightings by event field
	// Real marks a corpus of replicated real logs (GenerateRealCorpus):
	// real traffic may hit the synthetic indicators too, so Planted is
	// the least a scan finds, not the exact count.
	Real bool `json:"real,omitempty"`
}

// share of the corpus bytes per log type.
var logShare = []struct {
	log   string
	share float64
}{{"conn", 0.42}, {"dns", 0.25}, {"ssl", 0.13}, {"http", 0.13}, {"files", 0.07}}

// GenerateCorpus writes the corpus and returns its manifest (also written
// as manifest.json in the directory). Files are generated in parallel; the
// output depends only on the Config.
func GenerateCorpus(cfg Config) (*Manifest, error) {
	if cfg.FilesPerLog <= 0 {
		cfg.FilesPerLog = 2
	}
	if cfg.PlantEvery <= 0 {
		cfg.PlantEvery = 10000
	}
	if cfg.Size < 1<<20 {
		cfg.Size = 1 << 20
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	w := newWorld(cfg.Seed)
	type job struct {
		log   string
		idx   int
		bytes int64
	}
	var jobs []job
	for _, ls := range logShare {
		per := int64(float64(cfg.Size) * ls.share / float64(cfg.FilesPerLog))
		for i := 0; i < cfg.FilesPerLog; i++ {
			jobs = append(jobs, job{ls.log, i, per})
		}
	}
	results := make([]fileResult, len(jobs))
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			path := filepath.Join(cfg.Dir, fmt.Sprintf("%s.%02d.log", j.log, j.idx))
			results[i], errs[i] = w.writeFile(path, j.log, j.idx, j.bytes, cfg)
		}()
	}
	wg.Wait()
	m := &Manifest{Seed: cfg.Seed, ByField: map[string]int64{}}
	for i, r := range results {
		if errs[i] != nil {
			return nil, errs[i]
		}
		m.Files = append(m.Files, r.info)
		m.Bytes += r.info.Bytes
		m.Records += r.info.Records
		for f, n := range r.planted {
			m.ByField[f] += n
			m.Planted += n
		}
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(filepath.Join(cfg.Dir, "manifest.json"), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	return m, nil
}

// world is the shared background: hosts, domains, their addresses and
// certificates, user agents, JA3 fingerprints. Read-only once built.
type world struct {
	seed      uint64
	planted   *plantedSet
	internal  []netip.Addr
	resolvers []netip.Addr
	domains   []bgDomain
	external  []netip.Addr // addresses not behind a domain (scans, p2p, NTP)
	uas       []string
	ja3       []string
	ja3s      []string
}

type bgDomain struct {
	name  string
	addrs []netip.Addr
	cert  string // SHA-256 fingerprint of its certificate
	inter string // intermediate CA fingerprint
}

var bgTLDs = []string{"com", "com", "com", "com", "net", "org", "io", "de", "co.uk", "fr", "jp", "ru", "cn", "info", "edu", "gov"}

var syllables = []string{"ka", "lo", "mi", "ne", "ta", "ro", "su", "vi", "da", "fe", "go", "hu", "ja", "ki", "ma", "no",
	"pa", "qua", "ri", "se", "to", "un", "ver", "wa", "xen", "yo", "zu", "ber", "cor", "dex", "fin", "gra", "hol", "int",
	"lex", "mon", "net", "oft", "pro", "sys", "tek", "ult", "wire", "zon", "cloud", "data", "soft", "web", "app", "link"}

func bgName(r *rand.Rand) string {
	n := 2 + r.IntN(3)
	b := make([]byte, 0, 16)
	for i := 0; i < n; i++ {
		b = append(b, syllables[r.IntN(len(syllables))]...)
	}
	return string(b)
}

// bgIP is a public-looking address ending in an even octet.
func bgIP(r *rand.Rand) netip.Addr {
	return netip.AddrFrom4([4]byte{publicOctet(r), byte(r.IntN(256)), byte(r.IntN(256)), byte(2 + 2*r.IntN(127))})
}

var bgUAs = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36 Edg/121.0.0.0",
	"Microsoft-CryptoAPI/10.0", "Windows-Update-Agent/10.0.10011.16384 Client-Protocol/2.50", "Microsoft-Delivery-Optimization/10.0",
	"curl/7.88.1", "Wget/1.21.3", "python-requests/2.31.0", "Go-http-client/1.1", "Debian APT-HTTP/1.3 (2.6.1)",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1",
	"okhttp/4.12.0", "Dropbox Desktop Client/192.4.4605", "ESET Update/16.0", "Spotify/1.2.31.1205 Win32_x86_64/0 (PC desktop)",
}

func newWorld(seed uint64) *world {
	r := rand.New(rand.NewPCG(seed, 0xb0a4d))
	w := &world{seed: seed, planted: newPlanted(seed)}
	for i := 0; i < 3000; i++ {
		w.internal = append(w.internal, netip.AddrFrom4([4]byte{10, byte(r.IntN(8)), byte(r.IntN(256)), byte(1 + r.IntN(254))}))
	}
	w.resolvers = []netip.Addr{netip.AddrFrom4([4]byte{10, 0, 0, 53}), netip.AddrFrom4([4]byte{10, 0, 0, 54})}
	names := map[string]bool{}
	for len(w.domains) < 20000 {
		n := bgName(r) + "." + bgTLDs[r.IntN(len(bgTLDs))]
		if names[n] {
			continue
		}
		names[n] = true
		d := bgDomain{name: n, cert: randHex(r, 32), inter: randHex(r, 32)}
		for k := 1 + r.IntN(3); k > 0; k-- {
			d.addrs = append(d.addrs, bgIP(r))
		}
		w.domains = append(w.domains, d)
	}
	for i := 0; i < 100000; i++ {
		w.external = append(w.external, bgIP(r))
	}
	w.uas = bgUAs
	for i := 0; i < 150; i++ {
		w.ja3 = append(w.ja3, randHex(r, 16))
	}
	for i := 0; i < 60; i++ {
		w.ja3s = append(w.ja3s, randHex(r, 16))
	}
	return w
}

// zipf picks an index in [0,n) with a heavy head, like real traffic.
type zipfPick struct{ z *rand.Zipf }

func newZipf(r *rand.Rand, n int, s float64) zipfPick {
	return zipfPick{rand.NewZipf(r, s, 1, uint64(n-1))}
}
func (z zipfPick) next() int { return int(z.z.Uint64()) }

type fileResult struct {
	info    FileInfo
	planted map[string]int64
}

const tsBase = 1709251200 // 2024-03-01T00:00:00Z

// gen writes the records of one file.
type gen struct {
	w        *world
	r        *rand.Rand
	cfg      Config
	log      string
	ts       float64
	uid      uint64
	buf      []byte
	planted  map[string]int64
	domZipf  zipfPick
	hostZipf zipfPick
	extZipf  zipfPick
	uaZipf   zipfPick
	ja3Zipf  zipfPick
	subs     []string
}

var subdomains = []string{"www", "www", "www", "api", "cdn", "static", "img", "mail", "m", "login", "update", "assets", "edge", "s3", "dl"}

func (w *world) writeFile(path, log string, idx int, size int64, cfg Config) (fileResult, error) {
	r := rand.New(rand.NewPCG(w.seed, uint64(idx)<<8|uint64(len(log))<<1|uint64(log[0])<<16))
	g := &gen{w: w, r: r, cfg: cfg, log: log, planted: map[string]int64{},
		ts:       float64(tsBase + idx*3600),
		domZipf:  newZipf(r, len(w.domains), 1.15),
		hostZipf: newZipf(r, len(w.internal), 1.05),
		extZipf:  newZipf(r, len(w.external), 1.1),
		uaZipf:   newZipf(r, len(w.uas), 1.3),
		ja3Zipf:  newZipf(r, len(w.ja3), 1.3),
		subs:     subdomains,
		uid:      uint64(idx)<<56 | uint64(log[0])<<48,
	}
	f, err := os.Create(path)
	if err != nil {
		return fileResult{}, err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	hdr := headers[log]
	fmt.Fprintf(bw, "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t%s\n#open\t2024-03-01-%02d-00-00\n#fields\t%s\n#types\t%s\n",
		log, idx%24, hdr[0], hdr[1])
	written := int64(bw.Buffered())
	var records int64
	for written < size {
		g.buf = g.buf[:0]
		switch log {
		case "conn":
			g.conn()
		case "dns":
			g.dns()
		case "ssl":
			g.ssl()
		case "http":
			g.http()
		case "files":
			g.files()
		}
		g.buf = append(g.buf, '\n')
		bw.Write(g.buf)
		written += int64(len(g.buf))
		records++
	}
	fmt.Fprintf(bw, "#close\t2024-03-01-%02d-59-59\n", idx%24)
	if err := bw.Flush(); err != nil {
		f.Close()
		return fileResult{}, err
	}
	st, _ := f.Stat()
	if err := f.Close(); err != nil {
		return fileResult{}, err
	}
	return fileResult{info: FileInfo{Path: path, Log: log, Bytes: st.Size(), Records: records}, planted: g.planted}, nil
}

// headers: #fields and #types of each log as Zeek 6 writes them (ssl with
// the ja3 package's columns).
var headers = map[string][2]string{
	"conn": {"ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents",
		"time\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]"},
	"dns": {"ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected",
		"time\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\tcount\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\tbool"},
	"ssl": {"ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tcipher\tcurve\tserver_name\tresumed\tlast_alert\tnext_protocol\testablished\tssl_history\tcert_chain_fps\tclient_cert_chain_fps\tsni_matches_cert\tvalidation_status\tja3\tja3s",
		"time\tstring\taddr\tport\taddr\tport\tstring\tstring\tstring\tstring\tbool\tstring\tstring\tbool\tstring\tvector[string]\tvector[string]\tbool\tstring\tstring\tstring"},
	"http": {"ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\tmethod\thost\turi\treferrer\tversion\tuser_agent\torigin\trequest_body_len\tresponse_body_len\tstatus_code\tstatus_msg\tinfo_code\tinfo_msg\ttags\tusername\tpassword\tproxied\torig_fuids\torig_filenames\torig_mime_types\tresp_fuids\tresp_filenames\tresp_mime_types",
		"time\tstring\taddr\tport\taddr\tport\tcount\tstring\tstring\tstring\tstring\tstring\tstring\tstring\tcount\tcount\tcount\tstring\tcount\tstring\tset[enum]\tstring\tstring\tset[string]\tvector[string]\tvector[string]\tvector[string]\tvector[string]\tvector[string]\tvector[string]"},
	"files": {"ts\tfuid\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tsource\tdepth\tanalyzers\tmime_type\tfilename\tduration\tlocal_orig\tis_orig\tseen_bytes\ttotal_bytes\tmissing_bytes\toverflow_bytes\ttimedout\tparent_fuid\tmd5\tsha1\tsha256\textracted\textracted_cutoff\textracted_size",
		"time\tstring\tstring\taddr\tport\taddr\tport\tstring\tcount\tset[string]\tstring\tstring\tinterval\tbool\tbool\tcount\tcount\tcount\tcount\tbool\tstring\tstring\tstring\tstring\tstring\tbool\tcount"},
}

// plant reports whether this record carries a planted value.
func (g *gen) plant() bool { return g.r.IntN(g.cfg.PlantEvery) == 0 }

func (g *gen) count(field string) { g.planted[field]++ }

// ---- field writers ----

func (g *gen) tab() { g.buf = append(g.buf, '\t') }

func (g *gen) str(s string) { g.buf = append(g.buf, s...); g.tab() }

func (g *gen) num(n int64) { g.buf = strconv.AppendInt(g.buf, n, 10); g.tab() }

func (g *gen) addr(a netip.Addr) { g.buf = a.AppendTo(g.buf); g.tab() }

func (g *gen) fixed(v float64, prec int) {
	g.buf = strconv.AppendFloat(g.buf, v, 'f', prec, 64)
	g.tab()
}

// head writes ts and uid and advances time.
func (g *gen) head() {
	g.ts += g.r.ExpFloat64() * 0.004
	g.fixed(g.ts, 6)
	g.uidField('C')
}

func (g *gen) uidField(prefix byte) {
	g.uid++
	x, y := splitmix(g.uid^g.w.seed), splitmix(g.uid+0x5bd1e995)
	g.buf = append(g.buf, prefix)
	const b62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	for i := 0; i < 17; i++ {
		if i == 9 {
			x = y
		}
		g.buf = append(g.buf, b62[x%62])
		x /= 62
	}
	g.tab()
}

func (g *gen) end() {
	if n := len(g.buf); n > 0 && g.buf[n-1] == '\t' {
		g.buf = g.buf[:n-1]
	}
}

func (g *gen) client() netip.Addr { return g.w.internal[g.hostZipf.next()] }
func (g *gen) ephemeral() int64   { return int64(32768 + g.r.IntN(28000)) }
func (g *gen) domain() *bgDomain  { return &g.w.domains[g.domZipf.next()] }

func (g *gen) hostname(d *bgDomain) string {
	switch x := g.r.IntN(10); {
	case x < 2:
		return d.name
	case x < 9:
		return g.subs[g.r.IntN(len(g.subs))] + "." + d.name
	default:
		return g.subs[g.r.IntN(len(g.subs))] + "-" + strconv.Itoa(g.r.IntN(40)) + "." + d.name
	}
}

func (g *gen) lognormal(mu, sigma float64) int64 {
	return int64(math.Exp(mu + sigma*g.r.NormFloat64()))
}

func (g *gen) conn() {
	g.head()
	src, dst := g.client(), g.domain().addrs[0]
	var sport, dport int64 = g.ephemeral(), 443
	proto, service, state, history := "tcp", "ssl", "SF", "ShADadFf"
	switch x := g.r.IntN(100); {
	case x < 20:
		dst, dport, proto, service, history = g.w.resolvers[g.r.IntN(2)], 53, "udp", "dns", "Dd"
	case x < 68:
	case x < 83:
		dport, service, history = 80, "http", "ShADadfF"
	case x < 88:
		dst, dport, service = g.w.external[g.extZipf.next()], int64([]int{22, 25, 445, 3389, 8080, 8443}[g.r.IntN(6)]), "-"
		state, history = []string{"S0", "REJ", "SF", "RSTO", "SH"}[g.r.IntN(5)], "S"
	case x < 92:
		dst, dport, proto, service, history = g.w.external[g.extZipf.next()], int64([]int{123, 443, 1900, 5353}[g.r.IntN(4)]), "udp", "-", "Dd"
	case x < 94:
		dst, sport, dport, proto, service, history = g.w.external[g.extZipf.next()], 8, 0, "icmp", "-", "-"
	default: // inbound scans and connections
		src, dst = g.w.external[g.extZipf.next()], g.client()
		dport = int64([]int{22, 23, 80, 443, 445, 3389, 8080}[g.r.IntN(7)])
		state, service, history = []string{"S0", "REJ", "S0", "OTH"}[g.r.IntN(4)], "-", "S"
	}
	if g.plant() {
		switch x := g.r.IntN(10); {
		case x < 6:
			dst = netip.MustParseAddr(g.w.planted.ips[g.r.IntN(len(g.w.planted.ips))])
			g.count("conn.dst_ip")
		case x < 8:
			src = netip.MustParseAddr(g.w.planted.ips[g.r.IntN(len(g.w.planted.ips))])
			g.count("conn.src_ip")
		default:
			p := g.w.planted.cidrs[g.r.IntN(len(g.w.planted.cidrs))]
			b := p.Addr().As4()
			b[3] = byte(1 + g.r.IntN(254))
			if p.Bits() == 20 {
				b[2] |= byte(g.r.IntN(16))
			}
			dst = netip.AddrFrom4(b)
			g.count("conn.dst_ip")
		}
	}
	g.addr(src)
	g.num(sport)
	g.addr(dst)
	g.num(dport)
	g.str(proto)
	g.str(service)
	dur := g.r.ExpFloat64() * 12
	ob, rb := g.lognormal(6.5, 1.8), g.lognormal(8, 2.2)
	if state != "SF" {
		g.fixed(dur/100, 6)
		g.num(0)
		g.num(0)
	} else {
		g.fixed(dur, 6)
		g.num(ob)
		g.num(rb)
	}
	g.str(state)
	g.str("T")
	g.str("F")
	g.num(0)
	g.str(history)
	op, rp := 1+ob/900, 1+rb/1200
	g.num(op)
	g.num(ob + op*40)
	g.num(rp)
	g.num(rb + rp*40)
	g.str("(empty)")
	g.end()
}

var qtypes = []struct {
	code int
	name string
	pct  int
}{{1, "A", 58}, {28, "AAAA", 25}, {12, "PTR", 7}, {16, "TXT", 3}, {15, "MX", 2}, {65, "HTTPS", 3}, {33, "SRV", 2}}

func (g *gen) dns() {
	g.head()
	g.addr(g.client())
	g.num(g.ephemeral())
	g.addr(g.w.resolvers[g.r.IntN(2)])
	g.num(53)
	g.str("udp")
	g.num(int64(g.r.IntN(65536)))
	g.fixed(g.r.ExpFloat64()*0.02, 6)
	d := g.domain()
	qname := g.hostname(d)
	x := g.r.IntN(100)
	qt := qtypes[0]
	for _, q := range qtypes {
		if x < q.pct {
			qt = q
			break
		}
		x -= q.pct
	}
	nx := g.r.IntN(100) < 9
	if nx {
		// typos, search-suffix leaks and DGA-looking names (letters only)
		qname = randLabel(g.r, 8, 16, false) + "." + bgTLDs[g.r.IntN(len(bgTLDs))]
	}
	if qt.name == "PTR" {
		a := d.addrs[0].As4()
		qname = fmt.Sprintf("%d.%d.%d.%d.in-addr.arpa", a[3], a[2], a[1], a[0])
	}
	if g.plant() {
		pd := g.w.planted.domains[g.r.IntN(len(g.w.planted.domains))]
		if g.r.IntN(2) == 0 {
			pd = g.subs[g.r.IntN(len(g.subs))] + "." + pd
		}
		qname, nx, qt = pd, false, qtypes[0]
		g.count("dns.query")
	}
	g.str(qname)
	g.num(1)
	g.str("C_INTERNET")
	g.num(int64(qt.code))
	g.str(qt.name)
	if nx {
		g.num(3)
		g.str("NXDOMAIN")
	} else {
		g.num(0)
		g.str("NOERROR")
	}
	g.str("F")
	g.str("F")
	g.str("T")
	g.str("T")
	g.num(0)
	if nx || g.r.IntN(20) == 0 {
		g.str("-")
		g.str("-")
	} else {
		var ttls []int
		switch qt.name {
		case "A":
			if g.r.IntN(3) == 0 {
				g.buf = append(g.buf, "edge-"...)
				g.buf = append(g.buf, d.name...)
				g.buf = append(g.buf, ".cdn.cloudnet.com,"...)
				ttls = append(ttls, 300)
			}
			for i, a := range d.addrs {
				if i > 0 {
					g.buf = append(g.buf, ',')
				}
				g.buf = a.AppendTo(g.buf)
				ttls = append(ttls, 60+g.r.IntN(3600))
			}
		case "AAAA":
			a := d.addrs[0].As4()
			g.buf = fmt.Appendf(g.buf, "2a0%d:%x%x:%x::%x", a[0]%10, a[0], a[1], a[2], a[3])
			ttls = append(ttls, 300)
		case "PTR":
			g.buf = append(g.buf, "host."...)
			g.buf = append(g.buf, d.name...)
			ttls = append(ttls, 86400)
		case "TXT":
			g.buf = append(g.buf, "TXT 34 v=spf1 include:_spf."...)
			g.buf = append(g.buf, d.name...)
			g.buf = append(g.buf, " ~all"...)
			ttls = append(ttls, 3600)
		case "MX":
			g.buf = append(g.buf, "mail."...)
			g.buf = append(g.buf, d.name...)
			ttls = append(ttls, 3600)
		default:
			g.buf = append(g.buf, d.name...)
			ttls = append(ttls, 300)
		}
		g.tab()
		for i, t := range ttls {
			if i > 0 {
				g.buf = append(g.buf, ',')
			}
			g.buf = strconv.AppendInt(g.buf, int64(t), 10)
			g.buf = append(g.buf, ".000000"...)
		}
		g.tab()
	}
	g.str("F")
	g.end()
}

var ciphers = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"}

func (g *gen) ssl() {
	g.head()
	d := g.domain()
	g.addr(g.client())
	g.num(g.ephemeral())
	g.addr(d.addrs[g.r.IntN(len(d.addrs))])
	g.num(443)
	tls13 := g.r.IntN(100) < 70
	if tls13 {
		g.str("TLSv13")
	} else {
		g.str("TLSv12")
	}
	g.str(ciphers[g.r.IntN(len(ciphers))])
	g.str([]string{"x25519", "secp256r1", "x25519"}[g.r.IntN(3)])
	sni := g.hostname(d)
	ja3 := g.w.ja3[g.ja3Zipf.next()]
	cert := d.cert
	if g.r.IntN(15) == 0 {
		sni = "-"
	}
	if g.plant() {
		switch g.r.IntN(3) {
		case 0:
			sni = g.w.planted.domains[g.r.IntN(len(g.w.planted.domains))]
			g.count("tls.sni")
		case 1:
			ja3 = g.w.planted.ja3s[g.r.IntN(len(g.w.planted.ja3s))]
			g.count("tls.ja3")
		default:
			cert = g.w.planted.certs[g.r.IntN(len(g.w.planted.certs))]
			tls13 = false // the certificate is only visible before TLS 1.3
			g.count("tls.cert_sha256")
		}
	}
	g.str(sni)
	g.str("F")
	g.str("-")
	g.str([]string{"h2", "http/1.1", "-"}[g.r.IntN(3)])
	g.str("T")
	if tls13 {
		g.str("CsiI")
		g.str("(empty)")
	} else {
		g.str("CsxknGIi")
		g.buf = append(g.buf, cert...)
		g.buf = append(g.buf, ',')
		g.buf = append(g.buf, d.inter...)
		g.tab()
	}
	g.str("(empty)")
	if tls13 {
		g.str("-")
		g.str("-")
	} else {
		g.str("T")
		g.str("ok")
	}
	g.str(ja3)
	g.str(g.w.ja3s[g.r.IntN(len(g.w.ja3s))])
	g.end()
}

var httpPaths = []string{"/", "/index.html", "/favicon.ico", "/api/v2/status", "/static/js/app.js", "/images/logo.png",
	"/update/check", "/msdownload/update/v3/static/trustedr/en/authrootstl.cab", "/connecttest.txt", "/ocsp", "/wp-login.php"}

func (g *gen) http() {
	g.head()
	d := g.domain()
	g.addr(g.client())
	g.num(g.ephemeral())
	g.addr(d.addrs[0])
	g.num(80)
	g.num(1 + int64(g.r.IntN(3)/2))
	method := "GET"
	if g.r.IntN(10) == 0 {
		method = "POST"
	}
	host := g.hostname(d)
	uri := httpPaths[g.r.IntN(len(httpPaths))]
	if g.r.IntN(3) == 0 {
		uri += "?v=" + strconv.Itoa(g.r.IntN(1000000))
	}
	ua := g.w.uas[g.uaZipf.next()]
	if g.plant() {
		switch g.r.IntN(3) {
		case 0:
			host = g.w.planted.domains[g.r.IntN(len(g.w.planted.domains))]
			g.count("http.host")
		case 1:
			u := g.w.planted.urls[g.r.IntN(len(g.w.planted.urls))][len("http://"):]
			i := 0
			for i < len(u) && u[i] != '/' && u[i] != '?' {
				i++
			}
			host, uri = u[:i], u[i:]
			g.count("http.url")
		default:
			ua = g.w.planted.uas[g.r.IntN(len(g.w.planted.uas))]
			g.count("http.user_agent")
		}
	}
	g.str(method)
	g.str(host)
	g.str(uri)
	if g.r.IntN(3) == 0 {
		g.buf = append(g.buf, "http://"...)
		g.buf = append(g.buf, d.name...)
		g.buf = append(g.buf, '/')
		g.tab()
	} else {
		g.str("-")
	}
	g.str("1.1")
	g.str(ua)
	g.str("-")
	if method == "POST" {
		g.num(g.lognormal(6, 1.5))
	} else {
		g.num(0)
	}
	g.num(g.lognormal(8, 2))
	status := []int64{200, 200, 200, 200, 304, 301, 302, 404, 500}[g.r.IntN(9)]
	g.num(status)
	g.str(statusMsg[status])
	g.str("-")
	g.str("-")
	g.str("(empty)")
	g.str("-")
	g.str("-")
	g.str("-")
	g.str("-")
	g.str("-")
	g.str("-")
	if status == 200 {
		g.uidField('F')
		g.str("-")
		g.str([]string{"text/html", "image/png", "application/javascript", "application/octet-stream", "text/plain"}[g.r.IntN(5)])
	} else {
		g.str("-")
		g.str("-")
		g.str("-")
	}
	g.end()
}

var statusMsg = map[int64]string{200: "OK", 304: "Not Modified", 301: "Moved Permanently", 302: "Found", 404: "Not Found", 500: "Internal Server Error"}

var mimeTypes = []string{"application/x-x509-ca-cert", "text/html", "image/png", "image/jpeg", "application/javascript",
	"application/x-dosexec", "application/pdf", "application/zip", "text/plain", "application/ocsp-response"}

func (g *gen) files() {
	g.ts += g.r.ExpFloat64() * 0.004
	g.fixed(g.ts, 6)
	g.uidField('F')
	g.uidField('C')
	d := g.domain()
	g.addr(g.client())
	g.num(g.ephemeral())
	g.addr(d.addrs[0])
	g.num(443)
	mime := mimeTypes[g.r.IntN(len(mimeTypes))]
	if mime == "application/x-x509-ca-cert" || mime == "application/ocsp-response" {
		g.str("SSL")
	} else {
		g.str("HTTP")
	}
	g.num(0)
	g.str("MD5,SHA1,SHA256")
	g.str(mime)
	g.str("-")
	g.fixed(g.r.ExpFloat64()*0.05, 6)
	g.str("F")
	g.str("F")
	size := g.lognormal(9, 2)
	g.num(size)
	g.num(size)
	g.num(0)
	g.num(0)
	g.str("F")
	g.str("-")
	// content hashes: popular files repeat, most are unique
	md5, sha1, sha256 := randHex(g.r, 16), randHex(g.r, 20), randHex(g.r, 32)
	if g.plant() {
		i := g.r.IntN(plantedHashes)
		switch g.r.IntN(3) {
		case 0:
			md5 = g.w.planted.md5s[i]
			g.count("file.md5")
		case 1:
			sha1 = g.w.planted.sha1s[i]
			g.count("file.sha1")
		default:
			sha256 = g.w.planted.sha256s[i]
			g.count("file.sha256")
		}
	}
	g.str(md5)
	g.str(sha1)
	g.str(sha256)
	g.str("-")
	g.str("-")
	g.str("-")
	g.end()
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
