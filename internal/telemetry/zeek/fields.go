package zeek

import (
	"path/filepath"
	"strings"

	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// target says which Event field a Zeek column fills.
type target uint8

const (
	tNone target = iota
	tTS
	tUID
	tOrigH
	tOrigP
	tRespH
	tRespP
	tProto
	tService
	tDuration
	tOrigBytes
	tRespBytes
	tConnState
	tOrigPkts
	tRespPkts
	tQuery
	tQType
	tRCode
	tAnswers
	tTTLs
	tMethod
	tHost
	tURI
	tUserAgent
	tReferrer
	tStatusCode
	tSNI
	tJA3
	tJA3S
	tTLSVersion
	tCertSubject
	tCertIssuer
	tCertChainFps
	tFingerprint
	tSerial
	tSANs
	tNotBefore
	tNotAfter
	tMD5
	tSHA1
	tSHA256
	tFileName
	tFileNames // a list whose first element is the file name
	tMIMETypes // a list whose first element is the MIME type
	tMIMEType
	tTotalBytes
	tSeenBytes
	tTxHosts
	tRxHosts
	tConnUIDs
	tMailFrom
	tRcptTo
	tFrom
	tTo
	tSubject
	tSignature
	tNoticeSrc
	tNoticeDst
	tNoticeP
	tHostAddr
	tHostPort
	tLabel
	tDetailedLabel
)

// isList reports whether the target takes every element of a set or vector.
func (t target) isList() bool {
	switch t {
	case tAnswers, tTTLs, tCertChainFps, tSANs, tRcptTo, tTo, tTxHosts, tRxHosts, tConnUIDs, tFileNames, tMIMETypes:
		return true
	}
	return false
}

// common columns mean the same in every log.
var common = map[string]target{
	"ts":             tTS,
	"uid":            tUID,
	"id.orig_h":      tOrigH,
	"id.orig_p":      tOrigP,
	"id.resp_h":      tRespH,
	"id.resp_p":      tRespP,
	"proto":          tProto,
	"label":          tLabel,
	"detailedlabel":  tDetailedLabel,
	"detailed-label": tDetailedLabel,
	"detailed_label": tDetailedLabel,
}

// perLog columns depend on the log: "host" is an HTTP host name in http.log
// but an address in software.log, "subject" a certificate subject in
// ssl.log but an e-mail subject in smtp.log.
var perLog = map[string]map[string]target{
	"conn": {
		"service":    tService,
		"duration":   tDuration,
		"orig_bytes": tOrigBytes,
		"resp_bytes": tRespBytes,
		"conn_state": tConnState,
		"orig_pkts":  tOrigPkts,
		"resp_pkts":  tRespPkts,
	},
	"dns": {
		"query":      tQuery,
		"qtype_name": tQType,
		"rcode_name": tRCode,
		"answers":    tAnswers,
		"TTLs":       tTTLs,
		"rtt":        tDuration,
	},
	"http": {
		"method":      tMethod,
		"host":        tHost,
		"uri":         tURI,
		"user_agent":  tUserAgent,
		"referrer":    tReferrer,
		"status_code": tStatusCode,
		// body sizes: the only byte counts http.log has (without conn.log,
		// behaviour analytics need them for the sizes of check-ins)
		"request_body_len":  tOrigBytes,
		"response_body_len": tRespBytes,
		"filename":          tFileName,
		"resp_filenames":    tFileNames,
		"resp_mime_types":   tMIMETypes,
	},
	"ssl": {
		"server_name":    tSNI,
		"ja3":            tJA3,
		"ja3s":           tJA3S,
		"version":        tTLSVersion,
		"subject":        tCertSubject,
		"issuer":         tCertIssuer,
		"cert_chain_fps": tCertChainFps,
	},
	"x509": {
		"fingerprint":                  tFingerprint,
		"certificate.serial":           tSerial,
		"certificate.subject":          tCertSubject,
		"certificate.issuer":           tCertIssuer,
		"certificate.not_valid_before": tNotBefore,
		"certificate.not_valid_after":  tNotAfter,
		"san.dns":                      tSANs,
	},
	"files": {
		"md5":         tMD5,
		"sha1":        tSHA1,
		"sha256":      tSHA256,
		"filename":    tFileName,
		"mime_type":   tMIMEType,
		"total_bytes": tTotalBytes,
		"seen_bytes":  tSeenBytes,
		"tx_hosts":    tTxHosts,
		"rx_hosts":    tRxHosts,
		"conn_uids":   tConnUIDs,
		"source":      tService,
		"duration":    tDuration,
	},
	"smtp": {
		"mailfrom":   tMailFrom,
		"rcptto":     tRcptTo,
		"from":       tFrom,
		"to":         tTo,
		"subject":    tSubject,
		"user_agent": tUserAgent,
	},
	"notice": {
		"note":           tSignature,
		"src":            tNoticeSrc,
		"dst":            tNoticeDst,
		"p":              tNoticeP,
		"file_desc":      tFileName,
		"file_mime_type": tMIMEType,
	},
	"weird": {
		"name": tSignature,
	},
	"ssh": {
		"client": tUserAgent,
	},
	"sip": {
		"user_agent":  tUserAgent,
		"method":      tMethod,
		"uri":         tURI,
		"status_code": tStatusCode,
		"subject":     tSubject,
	},
	"software": {
		"host":   tHostAddr,
		"host_p": tHostPort,
	},
	"known_hosts": {
		"host": tHostAddr,
	},
	"known_services": {
		"host":       tHostAddr,
		"port_num":   tHostPort,
		"port_proto": tProto,
	},
	"known_certs": {
		"host":           tHostAddr,
		"port_num":       tHostPort,
		"serial":         tSerial,
		"subject":        tCertSubject,
		"issuer_subject": tCertIssuer,
	},
	"pe": {},
	"intel": {
		"seen.indicator": tSignature,
	},
	"ftp": {
		"mime_type": tMIMEType,
		"file_size": tTotalBytes,
	},
}

// lookupTarget returns the target of a column of log.
func lookupTarget(log, field, typ string) target {
	if t, ok := common[field]; ok {
		return t
	}
	if m, ok := perLog[log]; ok {
		if t, ok := m[field]; ok {
			return t
		}
	}
	// A column declared as an address called "host" is the host a
	// known_*/software-like log is about.
	if field == "host" && typ == "addr" {
		return tHostAddr
	}
	return tNone
}

// kindOf maps a log name to the event kind.
func kindOf(log string) telemetry.Kind {
	switch log {
	case "conn":
		return telemetry.KindConn
	case "dns":
		return telemetry.KindDNS
	case "http":
		return telemetry.KindHTTP
	case "ssl":
		return telemetry.KindTLS
	case "x509":
		return telemetry.KindX509
	case "files":
		return telemetry.KindFile
	case "smtp":
		return telemetry.KindSMTP
	case "notice", "weird", "intel":
		return telemetry.KindNotice
	case "ssh":
		return telemetry.KindSSH
	}
	return telemetry.KindOther
}

// knownLogs are the log names recognised in file names.
var knownLogs = map[string]bool{
	"conn": true, "dns": true, "http": true, "ssl": true, "x509": true, "files": true, "smtp": true,
	"notice": true, "weird": true, "ssh": true, "software": true, "known_hosts": true, "known_services": true,
	"known_certs": true, "dpd": true, "ftp": true, "irc": true, "sip": true, "snmp": true, "tunnel": true,
	"dhcp": true, "ntp": true, "rdp": true, "rfb": true, "kerberos": true, "ntlm": true, "smb_files": true,
	"smb_mapping": true, "dce_rpc": true, "mysql": true, "radius": true, "socks": true, "syslog": true,
	"modbus": true, "dnp3": true, "pe": true, "ocsp": true, "intel": true, "analyzer": true, "capture_loss": true,
	"stats": true, "reporter": true, "packet_filter": true, "loaded_scripts": true, "signatures": true,
	"traceroute": true, "ldap": true, "ldap_search": true, "quic": true, "websocket": true, "conn_long": true,
}

// logFromName guesses the log name from a file name: "conn.log",
// "conn.2024-01-01-00-00-00.log.gz", "conn.00:00:00-01:00:00.log.gz",
// "labeled-conn.log", "dns.log.labeled", "ssl.json".
func logFromName(name string) string {
	base := filepath.Base(name)
	if i := strings.IndexByte(base, '.'); i > 0 {
		stem := base[:i]
		if knownLogs[stem] {
			return stem
		}
		// "labeled-conn", "zeek_dns", "host1-http"
		for _, sep := range []string{"-", "_"} {
			if j := strings.LastIndex(stem, sep); j >= 0 && knownLogs[stem[j+1:]] {
				return stem[j+1:]
			}
		}
	}
	return ""
}

// logFromFields guesses the log name from its column names, for files that
// carry neither #path nor a telling name.
func logFromFields(has func(string) bool) string {
	switch {
	case has("qtype_name") || has("query") && has("answers"):
		return "dns"
	case has("conn_state"):
		return "conn"
	case has("method") && has("uri") && has("status_code") && !has("call_id"):
		return "http"
	case has("server_name") || has("cert_chain_fps") || has("cert_chain_fuids") || has("ssl_history"):
		return "ssl"
	case has("certificate.serial"):
		return "x509"
	case has("mailfrom") || has("rcptto"):
		return "smtp"
	case has("fuid") && (has("md5") || has("seen_bytes") || has("mime_type")):
		return "files"
	case has("note") && has("msg"):
		return "notice"
	case has("auth_attempts"):
		return "ssh"
	case has("name") && has("addl") && has("notice"):
		return "weird"
	case has("software_type"):
		return "software"
	}
	return ""
}

// matchRead reports whether the indicator matcher, or a sighting, reads
// what t fills: the columns telemetry.Needs.MatchOnly keeps.
func (t target) matchRead() bool {
	switch t {
	case tProto, tService, tDuration, tOrigBytes, tRespBytes, tConnState, tOrigPkts, tRespPkts,
		tQType, tRCode, tTTLs, tMethod, tReferrer, tStatusCode, tTLSVersion, tNotBefore, tNotAfter,
		tMIMETypes, tMIMEType, tTotalBytes, tSeenBytes, tSignature, tLabel, tDetailedLabel:
		return false
	}
	return true
}

// group is the telemetry value group t fills, 0 when it is in none (a
// field every consumer keeps, or one MatchOnly decides about).
func (t target) group() telemetry.ValueGroups {
	switch t {
	case tQuery, tAnswers, tCertSubject, tSANs:
		return telemetry.GroupNames
	case tCertChainFps, tFingerprint, tMD5, tSHA1, tSHA256:
		return telemetry.GroupHashes
	case tJA3, tJA3S:
		return telemetry.GroupJA3
	case tSerial, tCertIssuer:
		return telemetry.GroupSerials
	case tMailFrom, tRcptTo, tFrom, tTo, tSubject:
		return telemetry.GroupMail
	case tUserAgent:
		return telemetry.GroupUserAgent
	case tFileName, tFileNames:
		return telemetry.GroupFileName
	}
	return 0
}

// needed reports whether a reader asked for needs decodes t.
func (t target) needed(needs telemetry.Needs) bool {
	if needs.MatchOnly && !t.matchRead() {
		return false
	}
	g := t.group()
	return g == 0 || !needs.Skip.Has(g)
}
