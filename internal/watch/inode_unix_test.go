//go:build unix

package watch_test

import (
	"os"
	"syscall"
)

func inodeOf(fi os.FileInfo) uint64 { return uint64(fi.Sys().(*syscall.Stat_t).Ino) }
