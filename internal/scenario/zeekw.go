package scenario

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Record is one Zeek log line to inject, by field name; unset fields are
// written as "-".
type Record struct {
	TS     time.Time
	Fields map[string]string
	// Truth, when set, is what this line proves (for the manifest).
	Truth *Truth
}

// headers are the Zeek 6 field lists of the logs the generator writes when
// no background log of that type exists.
var headers = map[string][2][]string{
	"conn": {
		{"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration", "orig_bytes", "resp_bytes", "conn_state", "local_orig", "local_resp", "missed_bytes", "history", "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "tunnel_parents"},
		{"time", "string", "addr", "port", "addr", "port", "enum", "string", "interval", "count", "count", "string", "bool", "bool", "count", "string", "count", "count", "count", "count", "set[string]"},
	},
	"http": {
		{"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "trans_depth", "method", "host", "uri", "referrer", "version", "user_agent", "origin", "request_body_len", "response_body_len", "status_code", "status_msg", "info_code", "info_msg", "tags", "username", "password", "proxied", "orig_fuids", "orig_filenames", "orig_mime_types", "resp_fuids", "resp_filenames", "resp_mime_types"},
		{"time", "string", "addr", "port", "addr", "port", "count", "string", "string", "string", "string", "string", "string", "string", "count", "count", "count", "string", "count", "string", "set[enum]", "string", "string", "set[string]", "vector[string]", "vector[string]", "vector[string]", "vector[string]", "vector[string]", "vector[string]"},
	},
	"files": {
		{"ts", "fuid", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "source", "depth", "analyzers", "mime_type", "filename", "duration", "local_orig", "is_orig", "seen_bytes", "total_bytes", "missing_bytes", "overflow_bytes", "timedout", "parent_fuid", "md5", "sha1", "sha256", "extracted", "extracted_cutoff", "extracted_size"},
		{"time", "string", "string", "addr", "port", "addr", "port", "string", "count", "set[string]", "string", "string", "interval", "bool", "bool", "count", "count", "count", "count", "bool", "string", "string", "string", "string", "string", "bool", "count"},
	},
	"dns": {
		{"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "trans_id", "rtt", "query", "qclass", "qclass_name", "qtype", "qtype_name", "rcode", "rcode_name", "AA", "TC", "RD", "RA", "Z", "answers", "TTLs", "rejected"},
		{"time", "string", "addr", "port", "addr", "port", "enum", "count", "interval", "string", "count", "string", "count", "string", "count", "string", "bool", "bool", "bool", "bool", "count", "vector[string]", "vector[interval]", "bool"},
	},
	"ssl": {
		{"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "version", "cipher", "curve", "server_name", "resumed", "last_alert", "next_protocol", "established", "ssl_history", "cert_chain_fps", "client_cert_chain_fps", "sni_matches_cert", "validation_status"},
		{"time", "string", "addr", "port", "addr", "port", "string", "string", "string", "string", "bool", "string", "string", "bool", "string", "vector[string]", "vector[string]", "bool", "string"},
	},
}

// zeekLog is one log: its header lines and data lines, each data line with
// its timestamp for merging.
type zeekLog struct {
	path   string
	header []string // every # line before the first data line
	fields []string
	lines  []line
	footer []string // #close
}

type line struct {
	ts    float64
	text  string
	truth *Truth
}

// readLog reads a Zeek TSV log (one header; logs whose header changes
// mid-file keep only the first part's header for injection).
func readLog(r io.Reader, path string) (*zeekLog, error) {
	l := &zeekLog{path: path}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		t := sc.Text()
		if strings.HasPrefix(t, "#") {
			switch {
			case strings.HasPrefix(t, "#close"):
				l.footer = append(l.footer, t)
			case len(l.lines) == 0:
				l.header = append(l.header, t)
				if strings.HasPrefix(t, "#fields\t") {
					l.fields = strings.Split(t, "\t")[1:]
				}
			}
			continue
		}
		if l.fields == nil {
			return nil, fmt.Errorf("%s: data before #fields", path)
		}
		tab := strings.IndexByte(t, '\t')
		if tab < 0 {
			tab = len(t)
		}
		ts, _ := strconv.ParseFloat(t[:tab], 64)
		l.lines = append(l.lines, line{ts: ts, text: t})
	}
	return l, sc.Err()
}

// newLog makes an empty log of a known type.
func newLog(path string, open time.Time) *zeekLog {
	h := headers[path]
	return &zeekLog{
		path:   path,
		fields: h[0],
		header: []string{"#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-",
			"#path\t" + path, "#open\t" + open.UTC().Format("2006-01-02-15-04-05"),
			"#fields\t" + strings.Join(h[0], "\t"), "#types\t" + strings.Join(h[1], "\t")},
	}
}

func zeekTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixNano())/1e9, 'f', 6, 64)
}

// add renders rec in the log's column order.
func (l *zeekLog) add(rec Record) {
	cols := make([]string, len(l.fields))
	for i, f := range l.fields {
		v, ok := rec.Fields[f]
		switch {
		case f == "ts":
			v = zeekTime(rec.TS)
		case !ok:
			v = "-"
		case v == "":
			v = "(empty)"
		}
		cols[i] = v
	}
	l.lines = append(l.lines, line{ts: float64(rec.TS.UnixNano()) / 1e9, text: strings.Join(cols, "\t"), truth: rec.Truth})
}

// write sorts the lines by time (a stable merge of background and injected
// lines) and writes the log, recording on every truth its line number.
func (l *zeekLog) write(w io.Writer, file string) error {
	sort.SliceStable(l.lines, func(i, j int) bool { return l.lines[i].ts < l.lines[j].ts })
	bw := bufio.NewWriter(w)
	n := int64(0)
	for _, h := range l.header {
		bw.WriteString(h)
		bw.WriteByte('\n')
		n++
	}
	for _, ln := range l.lines {
		bw.WriteString(ln.text)
		bw.WriteByte('\n')
		n++
		if ln.truth != nil {
			ln.truth.File, ln.truth.Line = file, n
		}
	}
	for _, f := range l.footer {
		bw.WriteString(f)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
