//go:build unix

package watch

import (
	"os"
	"syscall"
)

// fileID is the device and inode of fi: what a file keeps across a rename.
func fileID(fi os.FileInfo) (dev, ino uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return uint64(st.Dev), uint64(st.Ino), true //nolint:unconvert // Dev is int32 on some systems
}
