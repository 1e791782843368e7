package match_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// scenario is real intelligence and real events: the APT1 indicators, a
// few indicators for what the WRCCDC resolver log does contain (so that
// some hits are on the real warninglists and suppressed), every MISP
// warninglist, and the first DNS events with APT1 names planted in some.
type scenario struct {
	objs   []*intel.Object
	lists  []*intel.Warninglist
	events []*telemetry.Event
}

var (
	scenarioOnce sync.Once
	cached       *scenario
)

// loadScenario reads the scenario once per process; callers must not
// modify it (clone what a test changes).
func loadScenario(t testing.TB) *scenario {
	needShared(t, "intel", "apt1")
	needShared(t, "intel", "misp-warninglists", "lists")
	needShared(t, "telemetry", "zeek", "wrccdc-2018")
	scenarioOnce.Do(func() { cached = readScenario(t) })
	if cached == nil {
		t.Fatal("scenario failed to load")
	}
	return cached
}

func readScenario(t testing.TB) *scenario {
	sc := &scenario{objs: apt1Objects(t), lists: realWarninglists(t), events: realDNSEvents(t, 3000)}
	local := []intel.Observable{
		{Type: intel.IPv4, Value: "10.0.0.100"},    // the exercise's resolver, on rfc1918
		{Type: intel.CIDR, Value: "134.71.0.0/16"}, // answers of the exercise's domain
		{Type: intel.Domain, Value: "wrccdc.org"},
	}
	for i, ob := range local {
		sc.objs = append(sc.objs, &intel.Object{ID: fmt.Sprintf("indicator--local-%d", i), Type: intel.TypeIndicator,
			Confidence: -1, Indicator: &intel.IndicatorSpec{PatternType: "stix", Observables: []intel.Observable{ob}}})
	}
	for i := 0; i < len(sc.events); i += 97 {
		d := sc.objs[(i*31)%2000].Indicator.Observables[0].Value // an APT1 domain
		sc.events[i].Query = "www." + d
	}
	return sc
}

// sightings renders every sighting of events, in order, with its key.
func sightings(s *match.Snapshot, events []*telemetry.Event) []string {
	var out []string
	m := s.NewMatcher()
	emit := func(sg *match.Sighting) {
		out = append(out, fmt.Sprintf("%s %s %s %s=%q %s suppressed=%v/%s line=%d", sg.Key(), sg.Snapshot, sg.IndicatorID,
			sg.Field, sg.Value, sg.Direction, sg.Suppressed, sg.Warninglist, sg.Line))
	}
	for _, ev := range events {
		m.Match(ev, emit)
	}
	m.Flush(emit)
	return out
}

func mustBuild(t testing.TB, objs []*intel.Object, opt match.Options) *match.Snapshot {
	t.Helper()
	s, err := match.Compile(objs, opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func roundTrip(t testing.TB, objs []*intel.Object, opt match.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := match.WriteInputs(&buf, objs, opt); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestInputsRoundTripRealData(t *testing.T) {
	sc := loadScenario(t)
	opt := match.Options{Warninglists: sc.lists}
	direct := mustBuild(t, sc.objs, opt)
	data := roundTrip(t, sc.objs, opt)
	decoded, err := match.BuildFromInputs(bytes.NewReader(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	if direct.Version() != decoded.Version() {
		t.Errorf("version %s built directly, %s from the stream", direct.Version(), decoded.Version())
	}
	if diff := cmp.Diff(direct.Stats(), decoded.Stats()); diff != "" {
		t.Errorf("stats (-direct +decoded):\n%s", diff)
	}
	want, got := sightings(direct, sc.events), sightings(decoded, sc.events)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sightings (-direct +decoded):\n%s", diff)
	}
	suppressed := 0
	for _, s := range want {
		if strings.Contains(s, "suppressed=true") {
			suppressed++
		}
	}
	t.Logf("%d bytes of inputs, %d sightings (%d suppressed)", len(data), len(want), suppressed)
	if len(want) < 30 || suppressed == 0 || suppressed == len(want) {
		t.Errorf("%d sightings, %d suppressed: the scenario exercises too little", len(want), suppressed)
	}
	if got, want := len(decoded.Warninglists().Lists()), len(sc.lists); got != want {
		t.Errorf("decoded snapshot has %d warninglists, want %d", got, want)
	}
}

// TestInputsDecodeFaithfully checks field by field that what the matcher
// reads survives the stream, zero and odd values included.
func TestInputsDecodeFaithfully(t *testing.T) {
	objs := testIndicators()
	odd := ind("odd", intel.Observable{Type: intel.IPv4, Value: "192.0.2.1", Port: -5, Issuer: "x"})
	odd.Modified = t2020.Add(123456789)
	odd.Indicator.ValidFrom = t2020.AddDate(-3000, 0, 0)
	odd.Indicator.Warninglists = []string{"b", "a"}
	objs = append(objs, odd, &intel.Object{ID: "no-spec", Type: intel.TypeIndicator},
		&intel.Object{ID: "actor", Type: intel.TypeIntrusionSet})
	lists := []*intel.Warninglist{{Name: "l", MatchType: "cidr", Category: "known", Description: "d", Version: -7,
		Attributes: []string{"ip-dst"}, Entries: []string{"10.0.0.0/8", ""}}, {Name: "empty"}}
	ir, err := match.NewInputReader(bytes.NewReader(roundTrip(t, objs, match.Options{Warninglists: lists, Patterns: lastSeen{}})))
	if err != nil {
		t.Fatal(err)
	}
	if !ir.Patterns() || ir.SizeHint() != len(objs) {
		t.Errorf("patterns %v, size hint %d", ir.Patterns(), ir.SizeHint())
	}
	if diff := cmp.Diff(lists, ir.Warninglists()); diff != "" {
		t.Errorf("warninglists (-written +read):\n%s", diff)
	}
	if _, err := ir.Options(nil); err == nil {
		t.Error("Options(nil) for a stream with patterns: no error")
	}
	var got []*intel.Object
	for {
		o, err := ir.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, o)
	}
	lean := func(o *intel.Object) *intel.Object {
		c := &intel.Object{ID: o.ID, Type: o.Type, Modified: o.Modified.UTC(), Revoked: o.Revoked, Confidence: -1}
		if o.Indicator != nil {
			spec := *o.Indicator
			spec.ValidFrom, spec.ValidUntil = spec.ValidFrom.UTC(), spec.ValidUntil.UTC()
			c.Indicator = &spec
		}
		return c
	}
	var want []*intel.Object
	for _, o := range objs {
		want = append(want, lean(o))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("objects (-written +read):\n%s", diff)
	}
}

// lastSeen is a PatternCompiler that accepts every pattern and never
// matches: enough to tell "patterns compiled" from "not".
type lastSeen struct{}

func (lastSeen) CompilePatterns(inds []*intel.Object) (match.PatternSet, map[string]error, error) {
	return nil, nil, nil
}

func TestVersionHashesWhatChangesAnswers(t *testing.T) {
	full := loadScenario(t)
	// the smaller real lists (rfc1918 among them): a dozen builds of all
	// of them would only make the test slow
	sc := &scenario{objs: full.objs, events: full.events}
	for _, l := range full.lists {
		if len(l.Entries) <= 2000 {
			sc.lists = append(sc.lists, l)
		}
	}
	base := mustBuild(t, sc.objs, match.Options{Warninglists: sc.lists})
	baseHits := sightings(base, sc.events)
	if !slices.ContainsFunc(baseHits, func(s string) bool { return strings.Contains(s, "suppressed=true") }) {
		t.Fatal("no sighting is suppressed: the lists are not exercised")
	}
	if len(base.Version()) != 32 {
		t.Fatalf("version %q is not 32 hex characters", base.Version())
	}

	t.Run("order and seed do not count", func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 3))
		objs, lists := slices.Clone(sc.objs), slices.Clone(sc.lists)
		r.Shuffle(len(objs), func(i, j int) { objs[i], objs[j] = objs[j], objs[i] })
		r.Shuffle(len(lists), func(i, j int) { lists[i], lists[j] = lists[j], lists[i] })
		// every build draws a new hash seed
		other := mustBuild(t, objs, match.Options{Warninglists: lists})
		if other.Version() != base.Version() {
			t.Errorf("shuffled inputs: version %s, want %s", other.Version(), base.Version())
		}
		if diff := cmp.Diff(baseHits, sightings(other, sc.events)); diff != "" {
			t.Errorf("shuffled inputs, other seed: sightings differ (-first +second):\n%s", diff)
		}
	})

	changed := func(name string, objs []*intel.Object, opt match.Options) {
		t.Helper()
		if v := mustBuild(t, objs, opt).Version(); v == base.Version() {
			t.Errorf("%s: version unchanged (%s)", name, v)
		}
	}
	// the list that suppresses the resolver's address, one entry more or less
	rfc1918 := slices.IndexFunc(sc.lists, func(l *intel.Warninglist) bool { return slices.Contains(l.Entries, "10.0.0.0/8") })
	if rfc1918 < 0 {
		t.Fatal("no warninglist holds 10.0.0.0/8")
	}
	withList := func(f func(*intel.Warninglist)) []*intel.Warninglist {
		lists := slices.Clone(sc.lists)
		l := *lists[rfc1918]
		l.Entries = slices.Clone(l.Entries)
		f(&l)
		lists[rfc1918] = &l
		return lists
	}
	changed("entry removed", sc.objs, match.Options{Warninglists: withList(func(l *intel.Warninglist) { l.Entries = l.Entries[1:] })})
	changed("entry added", sc.objs, match.Options{Warninglists: withList(func(l *intel.Warninglist) { l.Entries = append(l.Entries, "192.0.2.0/24") })})
	changed("list renamed", sc.objs, match.Options{Warninglists: withList(func(l *intel.Warninglist) { l.Name += "!" })})
	changed("match type", sc.objs, match.Options{Warninglists: withList(func(l *intel.Warninglist) { l.MatchType = "string" })})
	changed("list removed", sc.objs, match.Options{Warninglists: sc.lists[1:]})
	changed("no lists", sc.objs, match.Options{})
	changed("patterns compiled", sc.objs, match.Options{Warninglists: sc.lists, Patterns: lastSeen{}})
	listed := slices.Clone(sc.objs)
	last := *listed[len(listed)-1]
	spec := *last.Indicator
	spec.Warninglists = []string{"importer-flag"}
	last.Indicator = &spec
	listed[len(listed)-1] = &last
	changed("indicator's own warninglist", listed, match.Options{Warninglists: sc.lists})
	changed("indicator removed", sc.objs[1:], match.Options{Warninglists: sc.lists})

	// description and list version change no answer
	same := withList(func(l *intel.Warninglist) { l.Description, l.Version = "other words", l.Version+1 })
	if v := mustBuild(t, sc.objs, match.Options{Warninglists: same}).Version(); v != base.Version() {
		t.Errorf("description changed: version %s, want %s", v, base.Version())
	}
}

func TestOpaqueSuppressorHasItsOwnVersion(t *testing.T) {
	sup := listSet{"domain|google.com": "google"}
	a := mustBuild(t, testIndicators(), match.Options{Suppress: sup})
	b := mustBuild(t, testIndicators(), match.Options{Suppress: sup})
	if a.Version() == b.Version() {
		t.Error("two builds with an opaque Suppressor share a version")
	}
	if err := match.WriteInputs(io.Discard, testIndicators(), match.Options{Suppress: sup}); err == nil {
		t.Error("an opaque Suppressor was written")
	}
	_, err := match.Compile(testIndicators(), match.Options{Suppress: sup, Warninglists: []*intel.Warninglist{{Name: "x"}}})
	if err == nil {
		t.Error("Suppress and Warninglists together: no error")
	}
}

// TestInputsHostile feeds truncated and corrupted streams: each must give
// an *InputError with an offset inside the stream, never a panic or a
// snapshot.
func TestInputsHostile(t *testing.T) {
	lists := []*intel.Warninglist{{Name: "l", MatchType: "hostname", Entries: []string{"example.com"}}}
	data := roundTrip(t, testIndicators(), match.Options{Warninglists: lists})
	if _, err := match.BuildFromInputs(bytes.NewReader(data), nil); err != nil {
		t.Fatal(err)
	}
	check := func(name string, b []byte) {
		t.Helper()
		_, err := match.BuildFromInputs(bytes.NewReader(b), nil)
		var ie *match.InputError
		if !errors.As(err, &ie) {
			t.Fatalf("%s: error %v, want an InputError", name, err)
		}
		if ie.Offset < 0 || ie.Offset > int64(len(b)) || !strings.Contains(err.Error(), "offset") {
			t.Errorf("%s: %v: offset %d outside 0..%d", name, err, ie.Offset, len(b))
		}
	}
	for n := 0; n < len(data); n++ {
		check(fmt.Sprintf("truncated to %d", n), data[:n])
	}
	check("trailing byte", append(slices.Clone(data), 0))
	r := rand.New(rand.NewPCG(5, 5))
	for k := 0; k < 2000; k++ {
		b := slices.Clone(data)
		b[8+r.IntN(len(b)-8)] ^= byte(1 + r.IntN(255))
		if _, err := match.BuildFromInputs(bytes.NewReader(b), nil); err != nil {
			var ie *match.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("flipped byte: error %v is not an InputError", err)
			}
		}
	}
	// a huge claimed record length must not be allocated up front
	huge := append([]byte("WDMINPUT\x01O"), 0xff, 0xff, 0xff, 0xff, 0x03)
	check("huge record", huge)
}

const childEnv = "WHODUNIT_MATCH_INPUTS_CHILD"

// TestInputsAcrossProcesses builds a snapshot from real data, writes its
// inputs, and has a child process (this test binary again) build from the
// stream and print its version and sightings: they must be the parent's.
func TestInputsAcrossProcesses(t *testing.T) {
	if path := os.Getenv(childEnv); path != "" {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		s, err := match.BuildFromInputs(f, nil)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("version %s\n", s.Version())
		for _, line := range sightings(s, loadScenario(t).events) {
			fmt.Println(line)
		}
		return
	}
	sc := loadScenario(t)
	opt := match.Options{Warninglists: sc.lists}
	s := mustBuild(t, sc.objs, opt)
	path := filepath.Join(t.TempDir(), "inputs.bin")
	if err := os.WriteFile(path, roundTrip(t, sc.objs, opt), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestInputsAcrossProcesses$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s\n%s", err, out, stderr.Bytes())
	}
	want := append([]string{"version " + s.Version()}, sightings(s, sc.events)...)
	var got []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "version ") || strings.Contains(line, " suppressed=") {
			got = append(got, line)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("child process (-parent +child):\n%s", diff)
	}
	t.Logf("parent and child agree on version %s and %d sightings", s.Version(), len(want)-1)
}
