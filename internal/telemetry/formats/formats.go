// Package formats builds the default telemetry registry: every reader
// whodunit ships, in the order their content sniffs are tried.
package formats

import (
	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/eve"
	"github.com/whodunit-project/whodunit/internal/telemetry/jsonl"
	"github.com/whodunit-project/whodunit/internal/telemetry/pcap"
	"github.com/whodunit-project/whodunit/internal/telemetry/zeek"
)

// Options configure the readers of the default registry. The zero value
// gives the defaults and no generic JSON-lines / CSV reader.
type Options struct {
	// MaxLineBytes bounds one line of the text formats (0: 1 MiB).
	MaxLineBytes int
	// Limits bound gzip decompression inside a reader (zero: fileio's
	// defaults). Callers that open files with fileio.Open already get
	// decompressed input.
	Limits fileio.Limits
	// Pcap tunes the packet-capture reader.
	Pcap pcap.Options
	// Needs narrows what the readers decode (zero: everything). The Zeek
	// TSV and JSON and the EVE readers narrow today (EVE: MatchOnly only).
	Needs telemetry.Needs
	// Mapping enables the generic "jsonl" and "csv" readers, tried after
	// every format that recognises its source by itself.
	Mapping jsonl.Mapping
	// CSVComma is the CSV field separator (0: ',').
	CSVComma byte
}

// Default returns the registry with every reader, tried in this order:
// pcap (binary magic), Zeek TSV (#separator header), Suricata EVE
// ("event_type"), Zeek JSON ("_path" / "ts" / "id.orig_h"), then, when a
// mapping is given, generic JSON lines and CSV.
func Default(opts Options) *telemetry.Registry {
	formats := []telemetry.Format{
		// pcap: written by its own package; sniffs the capture magic.
		pcap.Format{Options: opts.Pcap},
		zeek.TSV{MaxLineBytes: opts.MaxLineBytes, Limits: opts.Limits, Needs: opts.Needs},
		eve.Format{MaxLineBytes: opts.MaxLineBytes, Limits: opts.Limits, Needs: opts.Needs},
		zeek.JSON{MaxLineBytes: opts.MaxLineBytes, Limits: opts.Limits, Needs: opts.Needs},
	}
	if !opts.Mapping.Empty() {
		formats = append(formats,
			jsonl.JSONL{Mapping: opts.Mapping, MaxLineBytes: opts.MaxLineBytes, Limits: opts.Limits},
			jsonl.CSV{Mapping: opts.Mapping, Comma: opts.CSVComma, MaxLineBytes: opts.MaxLineBytes, Limits: opts.Limits},
		)
	}
	return telemetry.NewRegistry(formats...)
}
