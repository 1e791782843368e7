// Package zeek reads Zeek (formerly Bro) logs, both the tab-separated ASCII
// format driven by its #fields / #types header and the JSON format, and
// turns every record of every log type into a telemetry.Event: conn, dns,
// http, ssl, x509, files, smtp, notice, weird and ssh fill their own
// fields; any other log keeps its timestamp, uid and connection 5-tuple.
package zeek
