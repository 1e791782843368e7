package sqlite

import (
	"errors"
	"os"

	sqlite "modernc.org/sqlite"
)

// SQLite's primary result codes for a disk that is full or failing.
const (
	codeReadOnly  = 8
	codeIOErr     = 10
	codeFull      = 13
	codeCantOpen  = 14
	primaryCodeOf = 0xff
)

// DiskFull reports whether err comes from SQLite finding the disk full,
// so that a caller can name the database whose disk it is.
func DiskFull(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&primaryCodeOf == codeFull
}

// ReadOnly reports whether err comes from writing a database that is open
// read-only: its disk was full when it was opened, or the file or its
// directory is not writable.
func ReadOnly(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&primaryCodeOf == codeReadOnly
}

// walEmpty reports whether the database at path has no write-ahead log
// content to replay, so reading the main file alone reads everything.
func walEmpty(path string) bool {
	st, err := os.Stat(path + "-wal")
	return os.IsNotExist(err) || err == nil && st.Size() == 0
}

// diskTrouble reports whether opening failed for want of disk space or
// I/O rather than for a bad database: the case where reopening without
// the WAL's shared-memory file may still let reads through.
func diskTrouble(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code() & primaryCodeOf {
	case codeIOErr, codeFull, codeCantOpen:
		return true
	}
	return false
}
