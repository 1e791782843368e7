package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/whodunit-project/whodunit/internal/match"
)

// Alert is one unsuppressed sighting as the watcher raises it, with its
// store key (the NATS message id).
type Alert struct {
	Key string `json:"key"`
	match.Sighting
}

// alertOut writes alert lines to the caller's writer and to the alerts
// file, whose size at each checkpoint is recorded so that a restart cuts
// off alerts of records it reads again.
type alertOut struct {
	w       io.Writer
	f       *os.File
	off     int64 // bytes of the alerts file
	written int64 // off at the last checkpoint
}

func openAlerts(opt Options, cp *Checkpoint) (*alertOut, error) {
	out := &alertOut{w: opt.Alerts}
	if opt.AlertsFile == "" {
		return out, nil
	}
	f, err := os.OpenFile(opt.AlertsFile, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	out.f, out.off = f, fi.Size()
	if !cp.fresh && cp.AlertsOffset <= fi.Size() {
		// alerts after the checkpoint are raised again as their
		// records are read again
		if err := f.Truncate(cp.AlertsOffset); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", opt.AlertsFile, err)
		}
		out.off = cp.AlertsOffset
	}
	if _, err := f.Seek(out.off, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	out.written = out.off
	return out, nil
}

func (o *alertOut) offset() int64 { return o.off }
func (o *alertOut) moved() bool   { return o.off != o.written }
func (o *alertOut) checkpointed() { o.written = o.off }

func (o *alertOut) close() {
	if o != nil && o.f != nil {
		o.f.Close()
	}
}

// alert raises the unsuppressed sightings of one cycle.
func (w *watcher) alert(ctx context.Context, list []match.Sighting) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i := range list {
		if list[i].Suppressed {
			continue
		}
		start := buf.Len()
		a := Alert{Key: list[i].Key(), Sighting: list[i]}
		if err := enc.Encode(&a); err != nil {
			return err
		}
		if w.opt.Publish != nil {
			line := buf.Bytes()[start : buf.Len()-1]
			if err := w.opt.Publish(ctx, a.Key, line); err != nil {
				return fmt.Errorf("publishing alert %s: %w", a.Key, err)
			}
		}
		w.stats.Alerts++
	}
	if buf.Len() == 0 {
		return nil
	}
	if w.out.f != nil {
		n, err := w.out.f.Write(buf.Bytes())
		w.out.off += int64(n)
		if err != nil {
			return fmt.Errorf("writing alerts to %s: %w", w.out.f.Name(), err)
		}
	}
	if w.out.w != nil {
		if _, err := w.out.w.Write(buf.Bytes()); err != nil {
			return fmt.Errorf("writing alerts: %w", err)
		}
	}
	return nil
}
