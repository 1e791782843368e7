package scan

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	p := &progressBar{total: 4e9, start: t0}
	p.line(t0.Add(time.Second), 400e6, 1e6, 0)
	got := p.line(t0.Add(2*time.Second), 800e6, 2_500_000, 3)
	for _, want := range []string{"[====>", " 20%", "800.0 MB/4.0 GB", "400.0 MB/s", "ETA 0:08", "2.5M events", "3 sightings"} {
		if !strings.Contains(got, want) {
			t.Errorf("progress line %q lacks %q", got, want)
		}
	}
	unknown := (&progressBar{start: t0}).line(t0.Add(time.Second), 5e6, 10, 0)
	if strings.Contains(unknown, "ETA") || !strings.Contains(unknown, "5.0 MB/s") {
		t.Errorf("without a total: %q", unknown)
	}
	var buf bytes.Buffer
	p.w = &buf
	p.draw(t0.Add(3*time.Second), 1e9, 1, 1)
	p.clear()
	if !strings.HasPrefix(buf.String(), "\r\x1b[K[") || !strings.HasSuffix(buf.String(), "\r\x1b[K") {
		t.Errorf("terminal output %q", buf.String())
	}
}
