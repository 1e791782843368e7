package watch

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// datedArchive matches the names Zeek gives rotated logs
// (conn.2026-12-02-05-00-00.log): archives, not live logs.
var datedArchive = regexp.MustCompile(`\.\d{4}-\d{2}-\d{2}[-_.:0-9]*\.`)

// liveName reports whether a directory entry is a log the watcher follows:
// Zeek's current *.log files, EVE and JSON-lines files; not dated
// archives, compressed files or hidden files.
func liveName(name string) bool {
	if strings.HasPrefix(name, ".") || datedArchive.MatchString(name) {
		return false
	}
	switch filepath.Ext(name) {
	case ".log", ".json", ".jsonl", ".ndjson":
		return true
	}
	return false
}

// candidate is a file found at a live name.
type candidate struct {
	path, rel string
	dev, ino  uint64
}

// live lists the files at live names under the watched paths: a directory
// gives its live logs (not its subdirectories, where Zeek's archives go),
// a file is followed by itself.
func (w *watcher) live() ([]candidate, error) {
	var out []candidate
	for _, p := range w.opt.Paths {
		fi, err := os.Stat(p)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && !w.started {
				return nil, err
			}
			continue // a followed file between delete and recreate
		}
		if !fi.IsDir() {
			if c, ok := candidateOf(p, filepath.Base(p), fi); ok {
				out = append(out, c)
			}
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if !e.Type().IsRegular() || !liveName(e.Name()) {
				continue
			}
			path := filepath.Join(p, e.Name())
			fi, err := os.Stat(path)
			if err != nil {
				continue // gone between the listing and the stat
			}
			if c, ok := candidateOf(path, e.Name(), fi); ok {
				out = append(out, c)
			}
		}
	}
	return out, nil
}

func candidateOf(path, rel string, fi os.FileInfo) (candidate, bool) {
	dev, ino, ok := fileID(fi)
	return candidate{path: path, rel: rel, dev: dev, ino: ino}, ok && fi.Mode().IsRegular()
}

type inode struct{ dev, ino uint64 }

// discover updates the followed set: new files are opened (resumed from
// the checkpoint when it knows them), files that left their live name
// are retired, to be read to their end.
func (w *watcher) discover(now time.Time) error {
	cands, err := w.live()
	if err != nil {
		return err
	}
	seen := map[inode]bool{}
	for _, c := range cands {
		id := inode{c.dev, c.ino}
		seen[id] = true
		if fl := w.files[id]; fl != nil {
			fl.path, fl.live, fl.retiredAt = c.path, true, time.Time{}
			continue
		}
		if err := w.open(c, now); err != nil {
			w.log.Warn("cannot follow", "file", c.path, "err", err)
		}
	}
	for id, fl := range w.files {
		if !seen[id] && fl.live {
			fl.live, fl.retiredAt = false, now
			w.log.Info("file rotated or deleted: reading it to its end", "file", fl.path)
		}
	}
	return nil
}

// open starts following a candidate, at its checkpointed position when
// the checkpoint holds the same file.
func (w *watcher) open(c candidate, now time.Time) error {
	f, err := os.Open(c.path)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	dev, ino, _ := fileID(fi)
	if dev != c.dev || ino != c.ino {
		f.Close()
		return nil // replaced since the listing: the next cycle sees the new one
	}
	fl := &follower{path: c.path, rel: c.rel, f: f, live: true, seen: now,
		pos: Mark{Path: c.path, Dev: dev, Ino: ino}}
	if m, ok := w.resume[inode{dev, ino}]; ok {
		delete(w.resume, inode{dev, ino})
		fl.pos = m
		fl.pos.Path = c.path
		if same, err := fl.sameContent(fi.Size()); err != nil || !same {
			w.log.Info("file changed since the checkpoint: reading it from the start", "file", c.path)
			fl.restart()
			// a new file that took a freed inode: the checkpointed one
			// may be in a compressed archive
			w.lost = append(w.lost, m)
		}
		fl.hdr.Scan(fl.pos.Header)
	}
	fl.mark = fl.pos
	w.files[inode{dev, ino}] = fl
	return nil
}

// resumeRotated finds, at startup, the checkpointed files that are no
// longer at a live name (rotated while the watcher was down) among the
// watched directories' other files and those of their subdirectories
// (Zeek's dated archive folders), or compressed there, and reads them to
// their end.
func (w *watcher) resumeRotated(now time.Time) {
	if len(w.resume) == 0 && len(w.lost) == 0 {
		return
	}
	for _, p := range w.opt.Paths {
		w.resumeIn(p, 1, now)
	}
	for _, m := range w.resume {
		w.lost = append(w.lost, m)
	}
	for _, m := range w.resumeCompressed(w.lost, now) {
		w.log.Warn("checkpointed file not found: records written after its checkpoint are not read", "file", m.Path, "offset", m.Offset)
	}
	w.resume, w.lost = nil, nil
}

// resumeIn looks for checkpointed inodes in dir and, depth levels down,
// its subdirectories.
func (w *watcher) resumeIn(dir string, depth int, now time.Time) {
	eachFileBelow(dir, depth, func(path string, e os.DirEntry) bool {
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() {
			return true
		}
		c, ok := candidateOf(path, e.Name(), fi)
		if _, known := w.resume[inode{c.dev, c.ino}]; !ok || !known {
			return true
		}
		if err := w.open(c, now); err != nil {
			w.log.Warn("cannot finish a rotated file", "file", c.path, "err", err)
			return true
		}
		if fl := w.files[inode{c.dev, c.ino}]; fl != nil {
			fl.live, fl.retiredAt = false, now
		}
		return true
	})
}

// eachFileBelow calls fn on the entries of dir that are not directories
// and, depth levels down, on those of its subdirectories (not hidden
// ones: Zeek's archive folders), until fn returns false.
func eachFileBelow(dir string, depth int, fn func(path string, e os.DirEntry) bool) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return true
	}
	for _, e := range ents {
		path := filepath.Join(dir, e.Name())
		if e.IsDir() {
			if depth > 0 && !strings.HasPrefix(e.Name(), ".") && !eachFileBelow(path, depth-1, fn) {
				return false
			}
			continue
		}
		if !fn(path, e) {
			return false
		}
	}
	return true
}

// ordered lists the followed files: retired ones first (a rotated file is
// finished before its successor is read), then by path.
func (w *watcher) ordered() []*follower {
	out := make([]*follower, 0, len(w.files))
	for _, fl := range w.files {
		out = append(out, fl)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].live != out[j].live {
			return !out[i].live
		}
		return out[i].path < out[j].path
	})
	return out
}
