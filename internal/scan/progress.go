package scan

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progressInterval is how often the display is redrawn.
const progressInterval = 250 * time.Millisecond

// startProgress draws the progress line until the returned stop is called.
// Without a terminal it draws nothing.
func (s *scanner) startProgress(ctx context.Context) (stop func()) {
	if s.cfg.Progress == nil || !s.cfg.IsTerminal {
		return func() {}
	}
	p := &progressBar{w: s.cfg.Progress, total: s.totalBytes, start: time.Now()}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(progressInterval)
		defer t.Stop()
		for {
			select {
			case now := <-t.C:
				p.draw(now, s.rawRead.Load(), s.events.Load(), s.sightingN.Load())
			case <-done:
				p.clear()
				return
			case <-ctx.Done():
				p.clear()
				<-done
				return
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// progressBar renders "[=====>    ]  45%  1.2/2.7 GB  412 MB/s  ETA 0:04  3.4M events  12 sightings".
type progressBar struct {
	w       io.Writer
	total   int64 // bytes on disk, 0 when unknown (standard input)
	start   time.Time
	samples []sample // recent (time, bytes) for the rate
}

type sample struct {
	t time.Time
	n int64
}

// rateWindow is the span the bytes/s figure averages over.
const rateWindow = 5 * time.Second

func (p *progressBar) rate(now time.Time, done int64) float64 {
	p.samples = append(p.samples, sample{now, done})
	for len(p.samples) > 2 && now.Sub(p.samples[0].t) > rateWindow {
		p.samples = p.samples[1:]
	}
	first := p.samples[0]
	if len(p.samples) < 2 {
		first = sample{p.start, 0}
	}
	dt := now.Sub(first.t).Seconds()
	if dt <= 0 {
		return 0
	}
	return float64(done-first.n) / dt
}

func (p *progressBar) line(now time.Time, done, events, sightings int64) string {
	r := p.rate(now, done)
	var b strings.Builder
	if p.total > 0 {
		frac := float64(done) / float64(p.total)
		if frac > 1 {
			frac = 1
		}
		const width = 20
		fill := int(frac * width)
		b.WriteByte('[')
		b.WriteString(strings.Repeat("=", fill))
		if fill < width {
			b.WriteByte('>')
			b.WriteString(strings.Repeat(" ", width-fill-1))
		}
		fmt.Fprintf(&b, "] %3.0f%%  %s/%s  %s/s", frac*100, formatBytes(done), formatBytes(p.total), formatBytes(int64(r)))
		if r > 0 && done < p.total {
			fmt.Fprintf(&b, "  ETA %s", formatETA(time.Duration(float64(p.total-done)/r*float64(time.Second))))
		}
	} else {
		fmt.Fprintf(&b, "%s  %s/s", formatBytes(done), formatBytes(int64(r)))
	}
	fmt.Fprintf(&b, "  %s events  %d sightings", formatCount(events), sightings)
	return b.String()
}

func (p *progressBar) draw(now time.Time, done, events, sightings int64) {
	fmt.Fprintf(p.w, "\r\x1b[K%s", p.line(now, done, events, sightings))
}

func (p *progressBar) clear() { fmt.Fprint(p.w, "\r\x1b[K") }

func formatBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

func formatCount(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1fG", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.0fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

func formatETA(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", m, s)
}
