// Package jsonl reads telemetry from any JSON-lines or CSV source that has
// no reader of its own (a proxy, a firewall, a cloud flow log, a SIEM
// export), given a Mapping that says which JSON key path or CSV column
// fills which Event field.
package jsonl

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// field identifies an Event field a mapping can fill.
type field uint8

const (
	fNone field = iota
	fTime
	fKind
	fLog
	fUID
	fSrcIP
	fSrcPort
	fDstIP
	fDstPort
	fProto
	fService
	fDuration
	fSrcBytes
	fDstBytes
	fSrcPackets
	fDstPackets
	fConnState
	fQuery
	fQType
	fRCode
	fAnswers
	fTTLs
	fMethod
	fHost
	fURI
	fURL
	fUserAgent
	fReferrer
	fStatusCode
	fSNI
	fJA3
	fJA3S
	fTLSVersion
	fCertSHA1
	fCertSHA256
	fCertSerial
	fCertSubject
	fCertIssuer
	fCertSANs
	fCertChain
	fNotBefore
	fNotAfter
	fMD5
	fSHA1
	fSHA256
	fFileName
	fMIMEType
	fFileSize
	fMailFrom
	fRcptTo
	fFrom
	fTo
	fSubject
	fSignature
	fSignatureID
	fSeverity
	fLabel
	fDetailedLabel
)

// fieldNames are the names a mapping uses, with what each fills.
var fieldNames = map[string]field{
	"time": fTime, "kind": fKind, "log": fLog, "uid": fUID,
	"src_ip": fSrcIP, "src_port": fSrcPort, "dst_ip": fDstIP, "dst_port": fDstPort,
	"proto": fProto, "service": fService, "duration": fDuration,
	"src_bytes": fSrcBytes, "dst_bytes": fDstBytes, "src_packets": fSrcPackets, "dst_packets": fDstPackets,
	"conn_state": fConnState,
	"query":      fQuery, "qtype": fQType, "rcode": fRCode, "answers": fAnswers, "ttls": fTTLs,
	"method": fMethod, "host": fHost, "uri": fURI, "url": fURL, "user_agent": fUserAgent,
	"referrer": fReferrer, "status_code": fStatusCode,
	"sni": fSNI, "ja3": fJA3, "ja3s": fJA3S, "tls_version": fTLSVersion,
	"cert_sha1": fCertSHA1, "cert_sha256": fCertSHA256, "cert_serial": fCertSerial,
	"cert_subject": fCertSubject, "cert_issuer": fCertIssuer, "cert_sans": fCertSANs, "cert_chain": fCertChain,
	"not_before": fNotBefore, "not_after": fNotAfter,
	"md5": fMD5, "sha1": fSHA1, "sha256": fSHA256, "file_name": fFileName, "mime_type": fMIMEType, "file_size": fFileSize,
	"mail_from": fMailFrom, "rcpt_to": fRcptTo, "from": fFrom, "to": fTo, "subject": fSubject,
	"signature": fSignature, "signature_id": fSignatureID, "severity": fSeverity,
	"label": fLabel, "detailed_label": fDetailedLabel,
}

// fieldAliases are other names users reach for, mapped to the field's
// name: Zeek calls the time "ts".
var fieldAliases = map[string]string{"ts": "time"}

// FieldNames lists the event field names a mapping may use, sorted.
func FieldNames() []string {
	out := make([]string, 0, len(fieldNames))
	for n := range fieldNames {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (f field) isList() bool {
	switch f {
	case fAnswers, fTTLs, fCertSANs, fCertChain, fRcptTo, fTo:
		return true
	}
	return false
}

// Entry is one line of a mapping: the event field, and either the source
// (a JSON key path with dots between nested keys, or a CSV column name or
// "#N" for the N-th column) or a literal value.
type Entry struct {
	Field   string
	Source  string
	Literal bool // Source is the value itself ('...' or "..." in the text form)
	id      field
}

// Mapping is an ordered list of entries.
type Mapping struct {
	Entries []Entry
}

// Empty reports whether the mapping has no entries.
func (m Mapping) Empty() bool { return len(m.Entries) == 0 }

// String renders the mapping in the form ParseMapping reads.
func (m Mapping) String() string {
	parts := make([]string, len(m.Entries))
	for i, e := range m.Entries {
		src := e.Source
		if e.Literal {
			src = "'" + src + "'"
		}
		parts[i] = e.Field + "=" + src
	}
	return strings.Join(parts, ",")
}

// ParseMapping reads "field=source,field=source". Entries may also be on
// separate lines; blank lines and lines starting with '#' are ignored. A
// source in single or double quotes is a literal: kind='dns' marks every
// record of the file as DNS.
func ParseMapping(s string) (Mapping, error) {
	var m Mapping
	seen := map[string]bool{}
	for ln, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, part := range splitEntries(line) {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			name, src, ok := strings.Cut(part, "=")
			name, src = strings.TrimSpace(name), strings.TrimSpace(src)
			if !ok || name == "" || src == "" {
				return Mapping{}, fmt.Errorf("mapping line %d: %q is not field=source", ln+1, part)
			}
			if canon, ok := fieldAliases[name]; ok {
				name = canon
			}
			id, known := fieldNames[name]
			if !known {
				return Mapping{}, fmt.Errorf("mapping line %d: unknown event field %q (known: %s)", ln+1, name, strings.Join(FieldNames(), ", "))
			}
			if seen[name] {
				return Mapping{}, fmt.Errorf("mapping line %d: field %q mapped twice", ln+1, name)
			}
			seen[name] = true
			e := Entry{Field: name, Source: src, id: id}
			if len(src) >= 2 && (src[0] == '\'' || src[0] == '"') && src[len(src)-1] == src[0] {
				e.Source, e.Literal = src[1:len(src)-1], true
			}
			m.Entries = append(m.Entries, e)
		}
	}
	if m.Empty() {
		return Mapping{}, fmt.Errorf("mapping is empty")
	}
	return m, nil
}

// splitEntries splits on commas outside quotes.
func splitEntries(line string) []string {
	var out []string
	var quote byte
	start := 0
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == ',':
			out = append(out, line[start:i])
			start = i + 1
		}
	}
	return append(out, line[start:])
}

// LoadMapping reads a mapping file (at most 64 KiB).
func LoadMapping(path string) (Mapping, error) {
	f, err := os.Open(path)
	if err != nil {
		return Mapping{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(bufio.NewReader(f), 64<<10+1))
	if err != nil {
		return Mapping{}, err
	}
	if len(b) > 64<<10 {
		return Mapping{}, fmt.Errorf("%s: mapping file larger than 64 KiB", path)
	}
	m, err := ParseMapping(string(b))
	if err != nil {
		return Mapping{}, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}
