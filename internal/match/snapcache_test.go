package match_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/patternmatch"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// cacheTestIndicators are the real APT1 indicators plus indicators taken
// from the real DNS log itself (queried names, addresses, a /24 around an
// address, a STIX pattern), so that the snapshot has hits to compare.
func cacheTestIndicators(t *testing.T, evs []*telemetry.Event) []*intel.Object {
	objs := apt1Objects(t)
	seen := map[string]bool{}
	for i, ev := range evs {
		if i%97 != 0 {
			continue
		}
		if q := ev.Query; q != "" && !seen[q] {
			seen[q] = true
			objs = append(objs, ind(fmt.Sprintf("indicator--dom-%d", i), ob(intel.Domain, q)))
		}
		if a := ev.DstIP; a.Is4() && !seen[a.String()] {
			seen[a.String()] = true
			objs = append(objs, ind(fmt.Sprintf("indicator--ip-%d", i), ob(intel.IPv4, a.String())))
			if i%3 == 0 {
				b := a.As4()
				objs = append(objs, ind(fmt.Sprintf("indicator--net-%d", i), ob(intel.CIDR, fmt.Sprintf("%d.%d.%d.0/24", b[0], b[1], b[2]))))
			}
		}
	}
	q := evs[len(evs)/2].Query
	objs = append(objs, &intel.Object{ID: "indicator--pattern-1", Type: intel.TypeIndicator, Indicator: &intel.IndicatorSpec{
		PatternType: "stix", Pattern: fmt.Sprintf("[domain-name:value = '%s']", q)}})
	return objs
}

func snapshotBytes(t testing.TB, s *match.Snapshot, key [match.CacheKeyLen]byte) []byte {
	var buf bytes.Buffer
	if err := s.WriteCache(&buf, key); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func allSightings(s *match.Snapshot, evs []*telemetry.Event) []match.Sighting {
	m := s.NewMatcher()
	var out []match.Sighting
	emit := func(sg *match.Sighting) { out = append(out, sg.Clone()) }
	for _, ev := range evs {
		m.Match(ev, emit)
	}
	m.Flush(emit)
	return out
}

// TestCacheEquivalentOnRealData: a snapshot loaded from its cache gives
// the same version, stats and sightings as the freshly compiled one, on
// the real WRCCDC DNS log with the APT1 indicators and the real MISP
// warninglists.
func TestCacheEquivalentOnRealData(t *testing.T) {
	evs := realDNSEvents(t, 50_000)
	opt := match.Options{Warninglists: realWarninglists(t), Patterns: patternmatch.Compiler{}}
	fresh := mustCompile(t, cacheTestIndicators(t, evs), opt)
	key := sha256.Sum256([]byte("test"))
	data := snapshotBytes(t, fresh, key)
	loaded, err := match.LoadCache(data, key, opt)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Version() != fresh.Version() {
		t.Fatalf("version %s, fresh %s", loaded.Version(), fresh.Version())
	}
	if d := cmp.Diff(fresh.Stats(), loaded.Stats()); d != "" {
		t.Fatalf("stats differ (-fresh +loaded):\n%s", d)
	}
	want, got := allSightings(fresh, evs), allSightings(loaded, evs)
	if len(want) < 100 {
		t.Fatalf("only %d sightings: the test proves little", len(want))
	}
	if len(got) != len(want) {
		t.Fatalf("%d sightings loaded, %d fresh", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(want[i], got[i]) {
			t.Fatalf("sighting %d differs:\nfresh  %+v\nloaded %+v", i, want[i], got[i])
		}
	}
	if again := snapshotBytes(t, loaded, key); !bytes.Equal(again, data) {
		t.Fatal("a loaded snapshot does not write the same cache bytes")
	}
}

// TestCacheRejectsDamage: every truncation and a flipped byte anywhere
// is detected; a cache of other keys or other lists is refused.
func TestCacheRejectsDamage(t *testing.T) {
	opt := match.Options{Warninglists: realWarninglists(t)[:5], Patterns: patternmatch.Compiler{}}
	snap := mustCompile(t, testIndicators(), opt)
	key := sha256.Sum256([]byte("k"))
	data := snapshotBytes(t, snap, key)
	var ce *match.CacheError
	for n := 0; n < len(data); n += 1 + n/50 {
		if _, err := match.LoadCache(bytes.Clone(data[:n]), key, opt); !errors.As(err, &ce) {
			t.Fatalf("truncated to %d bytes: %v", n, err)
		}
	}
	for i := 0; i < len(data); i += 1 + i/40 {
		bad := bytes.Clone(data)
		bad[i] ^= 0x5a
		if _, err := match.LoadCache(bad, key, opt); err == nil {
			t.Fatalf("byte %d flipped: loaded", i)
		}
	}
	if _, err := match.LoadCache(data, sha256.Sum256([]byte("other")), opt); !errors.As(err, &ce) {
		t.Fatalf("other key: %v", err)
	}
	other := opt
	other.Warninglists = opt.Warninglists[:4]
	if _, err := match.LoadCache(data, key, other); !errors.As(err, &ce) {
		t.Fatalf("other warninglists: %v", err)
	}
}
