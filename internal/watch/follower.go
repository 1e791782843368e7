package watch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/whodunit-project/whodunit/internal/scan"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// follower reads one file (one inode) as it grows. pos is how far it has
// read; mark is how far what it read is stored and checkpointed.
type follower struct {
	path      string
	rel       string // path under the watched directory, for the source
	f         *os.File
	mark, pos Mark
	hdr       scan.HeaderTracker
	format    telemetry.Format
	live      bool      // still found at a live name
	seen      time.Time // when it was first seen, for the settle wait
	retiredAt time.Time // when it left its live name (zero while live)
	skipping  bool      // inside a line longer than the limit
	ignored   bool      // format not recognised: reported once, not read
	caughtUp  bool      // the last read found no complete line to take
}

// batch is new complete lines of a file and where they start.
type batch struct {
	header    []byte
	hdrLines  int64
	data      []byte
	startOff  int64
	startLine int64
}

// restart forgets what was read: the file was truncated or rewritten.
func (fl *follower) restart() {
	fl.pos = Mark{Path: fl.path, Dev: fl.pos.Dev, Ino: fl.pos.Ino}
	fl.hdr = scan.HeaderTracker{}
	fl.format = nil
	fl.skipping = false
}

// headSHA hashes the first n bytes of the file.
func (fl *follower) headSHA(n int) (string, error) {
	buf := make([]byte, n)
	if _, err := fl.f.ReadAt(buf, 0); err != nil {
		return "", err
	}
	return headSum(buf), nil
}

// headSum is the hash a mark keeps of a file's first bytes.
func headSum(head []byte) string {
	sum := sha256.Sum256(head)
	return hex.EncodeToString(sum[:])
}

// sameContent reports whether the file still starts with the bytes pos
// was taken from, and still holds everything up to pos.
func (fl *follower) sameContent(size int64) (bool, error) {
	if size < fl.pos.Offset {
		return false, nil
	}
	if fl.pos.HeadLen == 0 {
		return true, nil
	}
	sum, err := fl.headSHA(fl.pos.HeadLen)
	if err != nil {
		return false, err
	}
	return sum == fl.pos.HeadSHA, nil
}

// ready fixes the file's source and format once its fingerprinted prefix
// is settled (or the settle wait is over, or the file was rotated away);
// false means not yet.
func (w *watcher) ready(fl *follower, now time.Time) (bool, error) {
	if fl.format != nil {
		return true, nil
	}
	head := make([]byte, scan.HeadBytes)
	n, err := fl.f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return false, fmt.Errorf("%s: %w", fl.path, err)
	}
	head = head[:n]
	if n == 0 || bytes.IndexByte(head, '\n') < 0 {
		return false, nil
	}
	if fl.pos.Source == "" && !scan.PrefixSettled(head) && fl.live && now.Sub(fl.seen) < w.opt.Settle {
		return false, nil
	}
	f, ok := w.forced, w.forced != nil
	if !ok {
		if f, ok = w.registry.Sniff(head, fl.path); !ok {
			return false, fmt.Errorf("%s: format not recognised (use --format to name it)", fl.path)
		}
	}
	if fl.pos.Format != "" && fl.pos.Format != f.Name() {
		return false, fmt.Errorf("%s: checkpoint says format %s, the file reads as %s", fl.path, fl.pos.Format, f.Name())
	}
	fl.format = f
	fl.pos.Format = f.Name()
	if fl.pos.Source == "" {
		fl.pos.Source = scan.SourceOf(w.opt.SourceName, fl.rel, head)
	}
	return true, nil
}

// next reads the complete lines after pos, up to max bytes; nil when
// there are none yet.
func (w *watcher) next(fl *follower, size int64, max int) (*batch, error) {
	if size <= fl.pos.Offset {
		return nil, nil
	}
	buf := make([]byte, min(size-fl.pos.Offset, int64(max)))
	n, err := fl.f.ReadAt(buf, fl.pos.Offset)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s: offset %d: %w", fl.path, fl.pos.Offset, err)
	}
	buf = buf[:n]
	cut := bytes.LastIndexByte(buf, '\n') + 1
	if fl.skipping || (cut == 0 && len(buf) > w.maxLine) {
		w.skipLong(fl, buf)
		return nil, nil
	}
	if cut == 0 {
		return nil, nil // a partial last line waits for its newline
	}
	b := &batch{data: buf[:cut], startOff: fl.pos.Offset, startLine: fl.pos.Line}
	if fl.pos.Offset > 0 {
		b.header, b.hdrLines = fl.hdr.Block(), fl.hdr.Lines()
	}
	return b, nil
}

// skipLong steps over a line longer than the readers take, reporting it
// once, as a scan reports it as one bad record.
func (w *watcher) skipLong(fl *follower, buf []byte) {
	if !fl.skipping {
		w.log.Warn("line longer than the limit skipped", "file", fl.path, "line", fl.pos.Line+1, "limit", w.maxLine)
		w.stats.BadRecords++
		fl.skipping = true
	}
	i := bytes.IndexByte(buf, '\n')
	if i < 0 {
		fl.pos.Offset += int64(len(buf))
		return
	}
	fl.pos.Offset += int64(i + 1)
	fl.pos.Line++
	fl.skipping = false
}

// advance moves pos past a processed batch.
func (fl *follower) advance(b *batch) error {
	fl.hdr.Scan(b.data)
	fl.pos.Offset += int64(len(b.data))
	fl.pos.Line += int64(bytes.Count(b.data, []byte{'\n'}))
	fl.pos.Header = fl.hdr.Block()
	if fl.pos.HeadLen < headBytes {
		fl.pos.HeadLen = int(min(int64(headBytes), fl.pos.Offset))
		sum, err := fl.headSHA(fl.pos.HeadLen)
		if err != nil {
			return fmt.Errorf("%s: %w", fl.path, err)
		}
		fl.pos.HeadSHA = sum
	}
	return nil
}
