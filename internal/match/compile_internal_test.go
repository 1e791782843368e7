package match

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"hash/maphash"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/whodunit-project/whodunit/internal/scan/benchgen"
)

func TestRadixSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{0, 1, 255, 256, 5000} {
		for _, bitsUsed := range []uint{3, 20, 64} {
			a := make([]idHash, n)
			for i := range a {
				a[i] = idHash{r.Uint64() >> (64 - bitsUsed), int32(i)}
			}
			want := slices.Clone(a)
			slices.SortStableFunc(want, func(x, y idHash) int { return cmp.Compare(x.h, y.h) })
			radixSort[idHash, byHash](a)
			if !slices.Equal(a, want) {
				t.Errorf("n=%d, %d-bit keys: radixSort differs from a stable sort", n, bitsUsed)
			}
		}
	}
}

// versionRef is the version as defined: the prefix (options,
// warninglists), then the live digests sorted as byte strings, hashed in
// that order.
func versionRef(b *Builder) string {
	var live [][16]byte
	for i, d := range b.digests {
		if !b.s.inds[i].dead {
			live = append(live, d)
		}
	}
	slices.SortFunc(live, func(x, y [16]byte) int { return bytes.Compare(x[:], y[:]) })
	h := sha256.New()
	h.Write(b.versionPrefix())
	for _, d := range live {
		h.Write(d[:])
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// TestVersionUnchanged pins the version to its definition, so that a
// faster way to compute it never changes the versions of existing
// snapshots. Digests that share their first eight bytes are planted to
// exercise the tie-break.
func TestVersionUnchanged(t *testing.T) {
	objs := benchgen.Objects(benchgen.Indicators(3000, 9))
	b := NewBuilder(Options{})
	for _, o := range objs {
		b.Add(o)
	}
	b.Add(objs[0]) // a repeated id: one of the two is dead
	for i := 10; i < 20; i++ {
		b.digests[i] = b.digests[5]
		b.digests[i][15] ^= byte(i)
	}
	b.dedupe()
	if got, want := b.version(), versionRef(b); got != want {
		t.Errorf("version %s, defined as %s", got, want)
	}
}

// TestSeedNotInVersion builds the same indicators twice: the hash seeds
// differ, the versions do not.
func TestSeedNotInVersion(t *testing.T) {
	objs := benchgen.Objects(benchgen.Indicators(2000, 4))
	var seeds []maphash.Seed
	var versions []string
	for range 2 {
		b := NewBuilder(Options{})
		for _, o := range objs {
			b.Add(o)
		}
		s, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		seeds, versions = append(seeds, s.seed), append(versions, s.Version())
	}
	if seeds[0] == seeds[1] {
		t.Fatal("two builds drew the same seed")
	}
	if versions[0] != versions[1] {
		t.Errorf("versions %s and %s differ with the seed", versions[0], versions[1])
	}
}
