package export

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/store"
)

// Formats lists the output formats by the names --format takes.
var Formats = []string{"zeek-intel", "suricata", "misp", "stix", "csv"}

// NewWriter returns the writer of format over w; suricata, which writes
// several files, is NewSuricata instead.
func NewWriter(format string, w io.Writer, now time.Time) (Writer, error) {
	switch format {
	case "zeek-intel":
		return NewZeekIntel(w)
	case "csv":
		return NewCSV(w)
	case "misp":
		return NewMISP(w, now)
	case "stix":
		return NewSTIX(w, now)
	case "suricata":
		return nil, fmt.Errorf("suricata writes a directory of files: use NewSuricata")
	}
	return nil, fmt.Errorf("unknown export format %q (want one of %v)", format, Formats)
}

// ToPath exports in format to path: a file written atomically (nothing is
// left of a failed export), or a directory for suricata; path "" or "-"
// is stdout (not for suricata).
func ToPath(ctx context.Context, db store.ActorReader, format, path string, stdout io.Writer, opt Options) (*Summary, error) {
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	run := func(w Writer) (*Summary, error) {
		sum, err := Export(ctx, db, w, opt)
		if sum != nil {
			sum.Format = format
		}
		return sum, err
	}
	if format == "suricata" {
		if path == "" || path == "-" {
			return nil, fmt.Errorf("suricata: -o must name a directory for the rules and lists")
		}
		w, err := NewSuricata(path)
		if err != nil {
			return nil, err
		}
		return run(w)
	}
	if path == "" || path == "-" {
		w, err := NewWriter(format, stdout, opt.Now)
		if err != nil {
			return nil, err
		}
		return run(w)
	}
	var sum *Summary
	err := fileio.WriteAtomic(path, func(f io.Writer) error {
		w, err := NewWriter(format, f, opt.Now)
		if err != nil {
			return err
		}
		sum, err = run(w)
		return err
	})
	if sum != nil && err == nil {
		sum.Files = []string{path}
	}
	return sum, err
}
