package watch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/whodunit-project/whodunit/internal/fileio"
)

// checkpointVersion is written in every checkpoint; another one is refused.
const checkpointVersion = 1

// headBytes is how many leading bytes of a file its mark hashes to tell it
// from another file that took its inode.
const headBytes = 4096

// Mark is the position of one followed file: the offset and line after
// its last fully processed record, and what identifies the file.
type Mark struct {
	Path    string `json:"path"` // where it was last seen (for messages)
	Dev     uint64 `json:"dev"`
	Ino     uint64 `json:"ino"`
	HeadLen int    `json:"head_len"` // bytes hashed by HeadSHA: min(headBytes, Offset)
	HeadSHA string `json:"head_sha256"`
	Offset  int64  `json:"offset"`
	Line    int64  `json:"line"`
	Source  string `json:"source"` // the sighting source, fixed once the file's prefix is settled
	Format  string `json:"format"`
	// Header is the Zeek header block in effect at Offset, shown to the
	// reader before the text from Offset on.
	Header []byte `json:"header,omitempty"`
}

// Checkpoint is everything a restarted watcher needs to go on where the
// last one stopped.
type Checkpoint struct {
	Version int    `json:"version"`
	Files   []Mark `json:"files"`
	// AlertsOffset is the size of the alerts file when the checkpoint was
	// written: alerts after it belong to records not yet checkpointed and
	// are cut off at restart (they are raised again).
	AlertsOffset int64 `json:"alerts_offset"`
	// Detections are the ids of behaviour detections already raised.
	Detections []string `json:"detections,omitempty"`

	fresh bool // there was no checkpoint file
}

// ReadCheckpoint reads path; a missing file is an empty checkpoint.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &Checkpoint{Version: checkpointVersion, fresh: true}, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseCheckpoint(data, path)
}

// ParseCheckpoint decodes and checks a checkpoint; name is for messages.
func ParseCheckpoint(data []byte, name string) (*Checkpoint, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Checkpoint
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: offset %d: checkpoint: %w", name, dec.InputOffset(), err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: offset %d: checkpoint: data after the object", name, dec.InputOffset())
	}
	if c.Version != checkpointVersion {
		return nil, fmt.Errorf("%s: checkpoint version %d, this watcher reads %d", name, c.Version, checkpointVersion)
	}
	if c.AlertsOffset < 0 {
		return nil, fmt.Errorf("%s: checkpoint: negative alerts_offset", name)
	}
	for i, m := range c.Files {
		if err := m.check(); err != nil {
			return nil, fmt.Errorf("%s: checkpoint file %d (%s): %w", name, i, m.Path, err)
		}
	}
	return &c, nil
}

func (m *Mark) check() error {
	switch {
	case m.Offset < 0 || m.Line < 0:
		return errors.New("negative offset or line")
	case m.HeadLen < 0 || m.HeadLen > headBytes || int64(m.HeadLen) > m.Offset:
		return fmt.Errorf("head_len %d out of range", m.HeadLen)
	case m.HeadLen > 0 && len(m.HeadSHA) != 64:
		return errors.New("head_sha256 is not a SHA-256")
	case m.Offset > 0 && m.Source == "":
		return errors.New("no source for a file already read")
	}
	return nil
}

// Write replaces path with c atomically: a kill leaves the old or the new
// checkpoint, never half of one.
func (c *Checkpoint) Write(path string) error {
	c.Version = checkpointVersion
	return fileio.WriteAtomic(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		return enc.Encode(c)
	})
}
