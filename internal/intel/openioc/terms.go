package openioc

import (
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// valueKind says how a term's values are compared.
type valueKind int

const (
	kindText   valueKind = iota // free text: compared case-insensitively unless preserve-case
	kindDomain                  // host names: normalised to lower case
	kindIP                      // IPv4/IPv6 addresses
	kindHash                    // hex digests: lower case
	kindInt                     // numbers: unquoted in STIX
	kindEmail                   // e-mail addresses: lower case
	kindURL                     // URLs: scheme and host normalised
)

// netTerm is an OpenIOC term that network telemetry can answer, with the
// STIX object path that holds the same value.
type netTerm struct {
	path string
	// obs is the observable type a simple "is" condition becomes; "" when
	// the value is not one (a file size), which leaves a STIX pattern only.
	obs  intel.ValueType
	kind valueKind
}

// object is the STIX object type of the path ("file" of "file:name").
func (t netTerm) object() string { return t.path[:strings.IndexByte(t.path, ':')] }

const (
	httpReq   = "network-traffic:extensions.'http-request-ext'."
	emailPath = "email-message:"
)

// networkTerms are keyed by the lower-cased search path.
var networkTerms = map[string]netTerm{
	"dnsentryitem/host":                        {"domain-name:value", intel.Domain, kindDomain},
	"dnsentryitem/recordname":                  {"domain-name:value", intel.Domain, kindDomain},
	"dnsentryitem/recorddata/host":             {"domain-name:value", intel.Domain, kindDomain},
	"dnsentryitem/recorddata/ipv4address":      {"ipv4-addr:value", intel.IPv4, kindIP},
	"network/dns":                              {"domain-name:value", intel.Domain, kindDomain},
	"urlhistoryitem/hostname":                  {"domain-name:value", intel.Domain, kindDomain},
	"urlhistoryitem/url":                       {"url:value", intel.URL, kindURL},
	"filedownloadhistoryitem/sourceurl":        {"url:value", intel.URL, kindURL},
	"portitem/remoteip":                        {"network-traffic:dst_ref.value", intel.IPv4, kindIP},
	"processitem/portlist/portitem/remoteip":   {"network-traffic:dst_ref.value", intel.IPv4, kindIP},
	"portitem/remoteport":                      {"network-traffic:dst_port", intel.Port, kindInt},
	"processitem/portlist/portitem/remoteport": {"network-traffic:dst_port", intel.Port, kindInt},
	"network/uri":                              {httpReq + "request_value", intel.URIPath, kindText},
	"network/useragent":                        {httpReq + "request_header.'User-Agent'", intel.UserAgent, kindText},
	"network/http_referr":                      {httpReq + "request_header.'Referer'", "", kindText},
	"network/http_referer":                     {httpReq + "request_header.'Referer'", "", kindText},
	"fileitem/md5sum":                          {"file:hashes.MD5", intel.MD5, kindHash},
	"fileitem/sha1sum":                         {"file:hashes.'SHA-1'", intel.SHA1, kindHash},
	"fileitem/sha256sum":                       {"file:hashes.'SHA-256'", intel.SHA256, kindHash},
	"fileitem/filename":                        {"file:name", intel.FileName, kindText},
	"fileitem/sizeinbytes":                     {"file:size", "", kindInt},
	"email/from":                               {emailPath + "from_ref.value", intel.Email, kindEmail},
	"email/to":                                 {emailPath + "to_refs[*].value", intel.Email, kindEmail},
	"email/cc":                                 {emailPath + "cc_refs[*].value", intel.Email, kindEmail},
	"email/bcc":                                {emailPath + "bcc_refs[*].value", intel.Email, kindEmail},
	"email/subject":                            {emailPath + "subject", intel.EmailSubj, kindText},
	"email/receivedfromip":                     {"ipv4-addr:value", intel.IPv4, kindIP},
	"email/attachment/name":                    {emailPath + "body_multipart[*].body_raw_ref.name", intel.FileName, kindText},
}

// hostDocuments are the OpenIOC documents whose terms only host telemetry
// (an endpoint sweep, memory, registry, event logs) can answer. Terms of
// these documents that are not network terms are kept as host-only; a term
// of a document in neither set is unknown and skipped with an error.
var hostDocuments = map[string]bool{
	"arpentryitem": true, "cookiehistoryitem": true, "diskitem": true, "dnsentryitem": true,
	"driveritem": true, "email": true, "eventlogitem": true, "eventitem": true,
	"filedownloadhistoryitem": true, "fileitem": true, "formhistoryitem": true,
	"hiveitem": true, "hookitem": true, "moduleitem": true, "network": true,
	"portitem": true, "prefetchitem": true, "processitem": true, "registryitem": true,
	"routeentryitem": true, "serviceitem": true, "snort": true, "systeminfoitem": true,
	"systemrestoreitem": true, "taskitem": true, "urlhistoryitem": true, "useritem": true,
	"volumeitem": true, "yara": true, "lnkitem": true,
	"shellbagitem": true, "loginhistoryitem": true, "persistenceitem": true,
}

// classify returns the network term for a search path, or reports whether
// the path is a known host-only term.
func classify(search string) (t netTerm, network, known bool) {
	s := strings.ToLower(strings.TrimSpace(search))
	if t, ok := networkTerms[s]; ok {
		return t, true, true
	}
	doc := s
	if i := strings.IndexByte(s, '/'); i > 0 {
		doc = s[:i]
	} else {
		return netTerm{}, false, false // a term is always Document/Field
	}
	return netTerm{}, false, hostDocuments[doc]
}
