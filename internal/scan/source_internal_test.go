package scan

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestFingerprintSettles grows files line by line and byte by byte: once
// the fingerprinted prefix is settled (4 KiB of complete lines, or 64 KiB
// without a line end), no append changes the fingerprint.
func TestFingerprintSettles(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	line := func(n int) string { return strings.Repeat(string(rune('a'+r.IntN(26))), n) + "\n" }
	var logLike, oneLongLine strings.Builder
	for logLike.Len() < 80<<10 {
		logLike.WriteString(line(20 + r.IntN(300)))
	}
	oneLongLine.WriteString(strings.Repeat("x", 70<<10) + "\n")
	for _, content := range []string{logLike.String(), oneLongLine.String()} {
		var settled string
		for n := 0; n <= len(content); n += 1 + r.IntN(97) {
			head := []byte(content[:n])
			if len(head) > fingerprintMax {
				head = head[:fingerprintMax] // what peekHead gives
			}
			p := fingerprintPrefix(head)
			if !bytes.HasPrefix([]byte(content), p) {
				t.Fatal("prefix is not a prefix")
			}
			isSettled := len(p) >= fingerprintMin && p[len(p)-1] == '\n' || len(p) == fingerprintMax
			fp := fingerprint(head)
			switch {
			case settled != "" && fp != settled:
				t.Fatalf("length %d: fingerprint changed after it settled", n)
			case isSettled:
				settled = fp
			}
		}
		if settled == "" {
			t.Fatal("the fingerprint never settled")
		}
	}
	// complete lines only: a line being written is not part of it
	if got := string(fingerprintPrefix([]byte("a\nb\npartial"))); got != "a\nb\n" {
		t.Errorf("prefix %q", got)
	}
}

// BenchmarkFingerprint is what a scan adds per file: hashing at most the
// first 64 KiB once.
func BenchmarkFingerprint(b *testing.B) {
	head := bytes.Repeat([]byte("x"), fingerprintMax)
	for _, size := range []int{fingerprintMin + 100, fingerprintMax} {
		head[size-1] = '\n'
		b.Run(fmt.Sprintf("prefix=%dB", size), func(b *testing.B) {
			b.SetBytes(int64(len(fingerprintPrefix(head))))
			for b.Loop() {
				fingerprint(head)
			}
		})
		head[size-1] = 'x'
	}
}
