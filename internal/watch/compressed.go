package watch

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/scan"
)

// Zeek's archiver compresses a rotated log (dns.05:00:00-06:00:00.log.gz
// in a YYYY-MM-DD folder). When that happened while the watcher was down,
// the checkpointed inode is gone: the archive is found by its content
// instead, as the decompressed file whose first HeadLen bytes hash to the
// checkpoint's HeadSHA, and its records after the checkpoint are read.

// resumeCompressed looks for the lost marks among the gzip files of the
// watched directories and of their subdirectories one level down, and
// follows the rest of each one found; it returns the marks not found.
func (w *watcher) resumeCompressed(lost []Mark, now time.Time) []Mark {
	for _, p := range w.opt.Paths {
		if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
			continue
		}
		eachFileBelow(p, 1, func(path string, e os.DirEntry) bool {
			if len(lost) == 0 {
				return false
			}
			if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".gz") {
				return true
			}
			i, err := matchCompressed(path, lost)
			switch {
			case err != nil:
				w.log.Warn("cannot read a compressed archive", "file", path, "err", err)
			case i >= 0:
				if err := w.followCompressed(path, lost[i], now); err != nil {
					w.log.Warn("cannot finish a compressed archive", "file", path, "err", err)
				} else {
					lost = append(lost[:i], lost[i+1:]...)
				}
			}
			return true
		})
	}
	return lost
}

// stem is a log's name up to its first dot: "dns" for dns.log, its dated
// archive and that archive compressed.
func stem(path string) string {
	name := filepath.Base(path)
	if i := strings.IndexByte(name, '.'); i > 0 {
		return name[:i]
	}
	return name
}

// matchCompressed is the index of the mark of lost that the gzip file at
// path holds (same stem, same leading bytes), or -1. Only the first
// bytes of its content (fileio.HeadSize, as many as headBytes) are
// decompressed.
func matchCompressed(path string, lost []Mark) (int, error) {
	name := filepath.Base(path)
	// only a name of a lost log's stem is opened
	fits := func(m Mark) bool { return m.HeadLen > 0 && strings.HasPrefix(name, stem(m.Path)+".") }
	if !slices.ContainsFunc(lost, fits) {
		return -1, nil
	}
	in, err := fileio.Open(path, fileio.DefaultLimits)
	if err != nil {
		return -1, err
	}
	defer in.Close()
	head, n := in.Head, len(in.Head)
	if !in.Compressed {
		return -1, nil
	}
	for i, m := range lost {
		if !fits(m) || m.HeadLen > n {
			continue
		}
		if headSum(head[:m.HeadLen]) == m.HeadSHA {
			return i, nil
		}
	}
	return -1, nil
}

// followCompressed decompresses the archive at path into an unlinked
// temporary file beside the checkpoint (its leading bytes, for the format
// and the mark's hash, then a hole up to the mark's offset, then the rest)
// and follows that as a rotated file from the mark.
func (w *watcher) followCompressed(path string, m Mark, now time.Time) error {
	tmp, err := os.CreateTemp(filepath.Dir(w.opt.State), ".whodunit-archive-*")
	if err != nil {
		return err
	}
	// unlinked at once: the data goes when the follower closes it, also
	// when the process is killed
	os.Remove(tmp.Name())
	size, err := decompressFrom(tmp, path, m.Offset)
	if size <= m.Offset {
		tmp.Close()
		if err == nil {
			err = fmt.Errorf("%s: %d bytes decompressed, the checkpoint is at %d", path, size, m.Offset)
		}
		return err
	}
	if err != nil {
		// a damaged archive: what came before the damage is still read
		w.log.Warn("compressed archive damaged: its records after the damage are not read", "err", err)
	}
	fi, err := tmp.Stat()
	if err != nil {
		tmp.Close()
		return err
	}
	dev, ino, _ := fileID(fi)
	fl := &follower{path: path, rel: filepath.Base(path), f: tmp, seen: now, retiredAt: now, pos: m}
	fl.pos.Path, fl.pos.Dev, fl.pos.Ino = path, dev, ino
	fl.hdr.Scan(fl.pos.Header)
	fl.mark = fl.pos
	w.files[inode{dev, ino}] = fl
	w.log.Info("finishing a rotated file that was compressed while the watcher was down", "file", path, "offset", m.Offset)
	return nil
}

// decompressFrom writes the content of the gzip file at path to dst: the
// first bytes that identify it, nothing (a hole) up to from, and all after
// from. It returns the content's length.
func decompressFrom(dst *os.File, path string, from int64) (int64, error) {
	in, err := fileio.Open(path, fileio.DefaultLimits) // bounded: a bomb stops
	if err != nil {
		return 0, err
	}
	defer in.Close()
	zr := in.R
	keep := min(from, int64(max(headBytes, scan.HeadBytes)))
	n, err := io.CopyN(dst, zr, keep)
	if err == nil {
		var skipped int64
		skipped, err = io.CopyN(io.Discard, zr, from-keep)
		n += skipped
	}
	if err == nil {
		if _, err = dst.Seek(from, io.SeekStart); err == nil {
			var rest int64
			rest, err = io.Copy(dst, zr)
			n += rest
		}
	}
	if err != nil && err != io.EOF {
		return n, fmt.Errorf("%s: decompressed offset %d: %w", path, n, err)
	}
	return n, nil
}
