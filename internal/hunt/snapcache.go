package hunt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/patternmatch"
)

// The compiled snapshot cache: after the first build, a process whose
// intelligence is unchanged loads the compiled snapshot from dir instead
// of compiling it. A file is named by the snapshot's version and carries a
// key that says which intelligence it was built from; a file whose key,
// checksum or lengths do not fit is rebuilt, never trusted.

// snapshotExt ends every cache file's name.
const snapshotExt = ".snap"

// keepSnapshots is how many cache files a directory keeps: the newest, and
// one more for a process still starting with the previous intelligence.
const keepSnapshots = 2

// SourceLister is what the cache key needs of a store: its sources.
type SourceLister interface {
	Sources(ctx context.Context) ([]intel.Source, error)
}

// SnapshotCacheKey is a cheap stand-in for the snapshot's version: a hash
// of the store's sources (every intelligence change is an import, which
// records a source, or the removal of one), the number of indicators, and
// the program (its executable's path, size and time), so that a rebuilt
// whodunit never trusts a cache an older one wrote.
func SnapshotCacheKey(ctx context.Context, db MatchSource) ([match.CacheKeyLen]byte, error) {
	var key [match.CacheKeyLen]byte
	sl, ok := db.(SourceLister)
	if !ok {
		return key, fmt.Errorf("the store does not list its sources")
	}
	srcs, err := sl.Sources(ctx)
	if err != nil {
		return key, err
	}
	n, err := db.Count(ctx, intel.TypeIndicator)
	if err != nil {
		return key, err
	}
	h := sha256.New()
	str := func(s string) {
		h.Write(binary.AppendUvarint(nil, uint64(len(s))))
		h.Write([]byte(s))
	}
	str("whodunit-snapshot-key-v1")
	str(programStamp())
	str(fmt.Sprint(n, len(srcs)))
	for _, s := range srcs {
		str(fmt.Sprint(s.ID, s.Reliability))
		str(s.Name)
		str(s.Path)
		str(s.Format)
		str(s.SHA256)
		str(s.ImportedAt.UTC().Format(time.RFC3339Nano))
	}
	h.Sum(key[:0])
	return key, nil
}

// programStamp names this build of the program cheaply.
func programStamp() string {
	exe, err := os.Executable()
	if err != nil {
		return "unknown"
	}
	fi, err := os.Stat(exe)
	if err != nil {
		return exe
	}
	return fmt.Sprint(exe, "\x00", fi.Size(), "\x00", fi.ModTime().UnixNano())
}

// BuildSnapshotCached is BuildSnapshot with the compiled snapshot cache in
// dir ("" = no cache). It loads the cached snapshot of db's current
// intelligence when there is one, and otherwise compiles, writes the cache
// and prunes older files. A cache that cannot be read or written is logged
// and bypassed: the cache only ever saves time.
func BuildSnapshotCached(ctx context.Context, db MatchSource, dir string, log *slog.Logger) (*match.Snapshot, error) {
	if dir == "" {
		return BuildSnapshot(ctx, db, log)
	}
	log = logger(log)
	key, err := SnapshotCacheKey(ctx, db)
	if err != nil {
		log.Debug("snapshot cache off", "reason", err)
		return BuildSnapshot(ctx, db, log)
	}
	if snap, err := loadCachedSnapshot(ctx, db, dir, key); err == nil {
		log.Debug("matcher loaded from the snapshot cache", "dir", dir, "version", snap.Version())
		return snap, nil
	} else if !errors.Is(err, errNoCachedSnapshot) {
		log.Warn("snapshot cache not used; compiling", "dir", dir, "err", err)
	}
	snap, err := BuildSnapshot(ctx, db, log)
	if err != nil {
		return nil, err
	}
	if err := writeCachedSnapshot(dir, key, snap); err != nil {
		log.Warn("snapshot cache not written", "dir", dir, "err", err)
	}
	return snap, nil
}

var errNoCachedSnapshot = errors.New("no cached snapshot for this intelligence")

// loadCachedSnapshot finds the file of dir whose header carries key and
// loads it with the store's warninglists.
func loadCachedSnapshot(ctx context.Context, db MatchSource, dir string, key [match.CacheKeyLen]byte) (*match.Snapshot, error) {
	path, err := findCachedSnapshot(dir, key)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lists, err := db.Warninglists(ctx)
	if err != nil {
		return nil, err
	}
	snap, err := match.LoadCache(data, key, match.Options{Patterns: patternmatch.Compiler{}, Warninglists: lists})
	if err != nil {
		os.Remove(path) // damaged or stale: the next build writes it again
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return snap, nil
}

func findCachedSnapshot(dir string, key [match.CacheKeyLen]byte) (string, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*"+snapshotExt))
	if err != nil || len(names) == 0 {
		return "", errNoCachedSnapshot
	}
	head := make([]byte, 64)
	for _, p := range names {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		_, err = io.ReadFull(f, head)
		f.Close()
		if err != nil {
			continue
		}
		if k, err := match.CacheKey(head); err == nil && bytes.Equal(k[:], key[:]) {
			return p, nil
		}
	}
	return "", errNoCachedSnapshot
}

// writeCachedSnapshot writes snap atomically as dir/<version>.snap and
// removes all but the newest keepSnapshots files.
func writeCachedSnapshot(dir string, key [match.CacheKeyLen]byte, snap *match.Snapshot) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(dir, snap.Version()+snapshotExt)
	if err := fileio.WriteAtomic(path, func(w io.Writer) error { return snap.WriteCache(w, key) }); err != nil {
		return err
	}
	now := time.Now()
	os.Chtimes(path, now, now) // the newest, even when its name existed
	return pruneSnapshots(dir)
}

func pruneSnapshots(dir string) error {
	names, err := filepath.Glob(filepath.Join(dir, "*"+snapshotExt))
	if err != nil {
		return err
	}
	type file struct {
		path string
		mod  time.Time
	}
	var files []file
	for _, p := range names {
		if fi, err := os.Stat(p); err == nil && !strings.HasPrefix(filepath.Base(p), ".") {
			files = append(files, file{p, fi.ModTime()})
		}
	}
	slices.SortFunc(files, func(a, b file) int { return b.mod.Compare(a.mod) })
	for i := keepSnapshots; i < len(files); i++ {
		os.Remove(files[i].path)
	}
	return nil
}

// DefaultSnapshotCacheDir is where the snapshot cache of a store lives: a
// directory beside a SQLite file, or under the user's cache directory for
// a server store, named by a hash of its address.
func DefaultSnapshotCacheDir(sqlitePath, serverDSN string) string {
	if sqlitePath != "" {
		return sqlitePath + ".snapshot"
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	sum := sha256.Sum256([]byte(serverDSN))
	return filepath.Join(base, "whodunit", fmt.Sprintf("snapshot-%x", sum[:8]))
}
