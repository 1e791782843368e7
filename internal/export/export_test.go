package export_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/export"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

// zeekRows reads the data rows of a Zeek intel file by its #fields header.
func zeekRows(t *testing.T, data []byte) []map[string]string {
	t.Helper()
	var fields []string
	var rows []map[string]string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if f, ok := strings.CutPrefix(line, "#fields\t"); ok {
			fields = strings.Split(f, "\t")
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		cells := strings.Split(line, "\t")
		if len(cells) != len(fields) {
			t.Fatalf("row %q has %d fields, header %d", line, len(cells), len(fields))
		}
		row := map[string]string{}
		for i, f := range fields {
			row[f] = cells[i]
		}
		rows = append(rows, row)
	}
	return rows
}

// TestZeekIntelAPT1 exports the shared APT1 files and checks every row
// against the store: one row per indicator, the Intel:: types in the
// numbers intel stats gives, APT1 in meta.desc, the source in meta.source.
func TestZeekIntelAPT1(t *testing.T) {
	db := apt1Store(t)
	st := stats(t, db)
	out, sum := run(t, db, "zeek-intel", export.Options{})
	if sum.Exported != st.Objects[intel.TypeIndicator] || accounted(sum) != sum.Exported {
		t.Fatalf("exported %d of %d indicators: %+v", sum.Exported, st.Objects[intel.TypeIndicator], sum)
	}
	rows := zeekRows(t, out)
	byType := map[string]int{}
	for _, r := range rows {
		byType[r["indicator_type"]]++
		if r["meta.desc"] != "APT1" || !strings.HasPrefix(r["meta.source"], "apt1-") {
			t.Fatalf("row %v: want meta.desc APT1 and an apt1-* source", r)
		}
	}
	want := map[string]int{"Intel::DOMAIN": st.IndicatorTypes["domain"], "Intel::FILE_HASH": st.IndicatorTypes["md5"],
		"Intel::CERT_HASH": st.IndicatorTypes["x509-sha1"]}
	if want["Intel::DOMAIN"] != 2046 || want["Intel::FILE_HASH"] != 1007 || want["Intel::CERT_HASH"] != 25 {
		t.Fatalf("store holds %v, want the 2,046 FQDNs, 1,007 MD5s and 25 certificates of the shared files", st.IndicatorTypes)
	}
	for k, n := range want {
		if byType[k] != n {
			t.Errorf("%s: %d rows, store has %d", k, byType[k], n)
		}
	}
	// round trip: our own Zeek reader gets the very same values back
	back := reimport(t, out, "apt1.intel", "zeek-intel")
	if got, wantV := values(t, back, store.ObjectQuery{}), values(t, db, store.ObjectQuery{}); !slices.Equal(got, wantV) {
		t.Fatalf("round trip: %d values back, %d exported", len(got), len(wantV))
	}
}

// TestCSVRoundTrip exports the demo's intelligence as CSV: every value
// comes back through our CSV reader with its type, and the actor column
// names the actor of every row.
func TestCSVRoundTrip(t *testing.T) {
	db := examplesStore(t)
	out, sum := run(t, db, "csv", export.Options{})
	if accounted(sum) != stats(t, db).Objects[intel.TypeIndicator] {
		t.Fatalf("summary accounts for %d indicators, store has %d", accounted(sum), stats(t, db).Objects[intel.TypeIndicator])
	}
	recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "value,type,actor,source,confidence,tlp,valid_from,valid_until,id" {
		t.Fatalf("header %v", recs[0])
	}
	var exported, apt28 []string
	for _, r := range recs[1:] {
		exported = append(exported, r[1]+" "+r[0])
		if strings.Contains(r[2], "APT28") {
			apt28 = append(apt28, strings.Join(r, ","))
		}
	}
	slices.Sort(exported)
	// the rows that name APT28 are exactly what --actor APT28 exports
	only, _ := run(t, db, "csv", export.Options{Actor: "APT28"})
	want := strings.Split(strings.TrimSpace(string(only)), "\n")[1:]
	slices.Sort(apt28)
	slices.Sort(want)
	if len(apt28) == 0 || strings.Join(apt28, "\n") != strings.ReplaceAll(strings.Join(want, "\n"), "\r", "") {
		t.Errorf("%d rows name APT28, --actor APT28 exports %d", len(apt28), len(want))
	}
	back := reimport(t, out, "export.csv", "csv")
	if got := values(t, back, store.ObjectQuery{}); !slices.Equal(got, slices.Compact(exported)) {
		t.Fatalf("round trip: %d values back, %d rows exported", len(got), len(exported))
	}
}

func countActor(t *testing.T, db store.IntelReader, actor string) int {
	t.Helper()
	n := 0
	err := db.Objects(context.Background(), store.ObjectQuery{Types: []string{intel.TypeIndicator}, Actor: actor}, func(*intel.Object) error {
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestMISPRoundTrip exports APT1 as one MISP event and reads it back with
// our MISP importer: the same values, every one linked to APT1 again.
func TestMISPRoundTrip(t *testing.T) {
	db := apt1Store(t)
	out, sum := run(t, db, "misp", export.Options{})
	var ev struct {
		Event struct {
			Attribute []struct {
				Type  string `json:"type"`
				ToIDS bool   `json:"to_ids"`
				Tag   []struct{ Name string }
			}
		}
	}
	if err := json.Unmarshal(out, &ev); err != nil {
		t.Fatal(err)
	}
	if len(ev.Event.Attribute) != sum.Exported || sum.Exported != 3078 {
		t.Fatalf("%d attributes for %d indicators", len(ev.Event.Attribute), sum.Exported)
	}
	for _, a := range ev.Event.Attribute {
		if !a.ToIDS || len(a.Tag) != 1 || a.Tag[0].Name != `misp-galaxy:threat-actor="APT1"` {
			t.Fatalf("attribute %+v: want to_ids and the APT1 tag", a)
		}
	}
	back := reimport(t, out, "event.json", "misp")
	if got, want := values(t, back, store.ObjectQuery{}), values(t, db, store.ObjectQuery{}); !slices.Equal(got, want) {
		t.Fatalf("round trip: %d values back, %d exported", len(got), len(want))
	}
	if n := countActor(t, back, "APT1"); n != sum.Exported {
		t.Fatalf("round trip: %d indicators of APT1, %d exported", n, sum.Exported)
	}
}

// TestTLPWithheld marks the shared APT1 files red, amber+strict and green:
// under the default limit (amber) only the green ones leave, the others
// are counted by marking, and the output carries TLP:GREEN; with --tlp
// amber+strict the amber+strict ones leave too and the MISP event is
// tagged with it, but red never leaves: --tlp red is refused.
func TestTLPWithheld(t *testing.T) {
	need(t, apt1Dir)
	db := openStore(t)
	importInto(t, db, labelled("APT1", "red"), "", apt1Dir+"/apt1-fqdn.dat")
	importInto(t, db, labelled("APT1", "amber+strict"), "", apt1Dir+"/apt1-md5.dat")
	importInto(t, db, labelled("APT1", "green"), "", apt1Dir+"/apt1-certs.dat")
	for _, format := range []string{"zeek-intel", "csv", "misp", "stix"} {
		out, sum := run(t, db, format, export.Options{})
		if sum.Exported != 25 || sum.Withheld["red"] != 2046 || sum.Withheld["amber+strict"] != 1007 || sum.Marking != "green" {
			t.Fatalf("%s: %+v, want 25 green exported, 2046 red and 1007 amber+strict withheld", format, sum)
		}
		if bytes.Contains(out, []byte("apt1-fqdn")) {
			t.Fatalf("%s: a red indicator's source left", format)
		}
	}
	out, sum := run(t, db, "misp", export.Options{MaxTLP: "amber+strict"})
	if sum.Exported != 1032 || sum.WithheldTotal() != 2046 || sum.Withheld["red"] != 2046 || sum.Marking != "amber+strict" {
		t.Fatalf("--tlp amber+strict: %+v", sum)
	}
	if !bytes.Contains(out, []byte(`"Tag":[{"name":"tlp:amber+strict"}],"info"`)) || bytes.Contains(out, []byte("apt1-fqdn")) {
		t.Fatalf("the event is not tagged tlp:amber+strict, or a red indicator left")
	}
	back := reimport(t, out, "event.json", "misp")
	if red, green := markedIndicators(t, back, "red"), markedIndicators(t, back, "green"); red != 0 || green != 25 {
		t.Fatalf("markings back: %d red, %d green indicators", red, green)
	}
	for _, bad := range []string{"red", "TLP:RED", "purple"} {
		if _, err := export.Export(context.Background(), db, nil, export.Options{MaxTLP: bad}); err == nil {
			t.Fatalf("--tlp %s accepted", bad)
		}
	}
}

// TestWarninglistedStayBehind: the demo intelligence lists a public
// resolver as APT1's; it is on a warninglist, so it is not exported
// unless asked for.
func TestWarninglistedStayBehind(t *testing.T) {
	db := examplesStore(t)
	st := stats(t, db)
	if st.Warninglisted == 0 {
		t.Fatal("the examples have no warninglisted indicator")
	}
	_, sum := run(t, db, "csv", export.Options{})
	if sum.Warninglisted != st.Warninglisted {
		t.Fatalf("%d warninglisted held back, intel stats counts %d", sum.Warninglisted, st.Warninglisted)
	}
	_, all := run(t, db, "csv", export.Options{IncludeWarninglisted: true})
	if all.Warninglisted != 0 || all.Exported+all.Unexpressible["value qualified by a port or issuer"] <= sum.Exported {
		t.Fatalf("with --include-warninglisted: %+v (without: %+v)", all, sum)
	}
	if accounted(all) != accounted(sum) {
		t.Fatalf("the two runs account for %d and %d indicators", accounted(all), accounted(sum))
	}
}

// TestActorFilter exports only APT28 and finds the store's count of its
// indicators.
func TestActorFilter(t *testing.T) {
	db := examplesStore(t)
	out, sum := run(t, db, "zeek-intel", export.Options{Actor: "APT28"})
	if n := countActor(t, db, "APT28"); n == 0 || accounted(sum) != n {
		t.Fatalf("accounted %d, APT28 has %d", accounted(sum), n)
	}
	for _, r := range zeekRows(t, out) {
		if !strings.Contains(r["meta.desc"], "APT28") {
			t.Fatalf("row %v is not APT28's", r)
		}
	}
}

// markedIndicators counts the indicators of db marked with the TLP 1.0
// level, the ids MISP tags are read as.
func markedIndicators(t *testing.T, db store.IntelReader, level string) int {
	t.Helper()
	m, err := intel.TLPMarkingVersion(level, "1.0")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = db.Objects(context.Background(), store.ObjectQuery{Types: []string{intel.TypeIndicator}}, func(o *intel.Object) error {
		if slices.Contains(o.Markings, m.ID) {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
