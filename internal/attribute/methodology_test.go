package attribute_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/attribute"
)

var update = flag.Bool("update", false, "rewrite testdata/methodology.golden")

func methodologyText(cfg attribute.Config) string {
	var b strings.Builder
	for _, r := range attribute.Methodology(cfg) {
		fmt.Fprintf(&b, "%s\n%s\n\n", r.Name, r.Text)
	}
	return b.String()
}

// TestMethodologyGolden keeps the rendered rules under review;
// `go test ./internal/attribute -update` rewrites the file.
func TestMethodologyGolden(t *testing.T) {
	got := methodologyText(attribute.DefaultConfig())
	path := filepath.Join("testdata", "methodology.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("methodology differs from %s (-want +got):\n%s", path, diff)
	}
}

// TestEveryWeightIsInTheMethodology changes each number and each string of
// the configuration in turn (in structs, tables and maps) and wants the
// methodology to change with it: a weight the rules forget fails here.
func TestEveryWeightIsInTheMethodology(t *testing.T) {
	cfg := attribute.DefaultConfig()
	base := methodologyText(cfg)
	n := 0
	eachLeaf(reflect.ValueOf(&cfg).Elem(), "Config", func(path string, cur reflect.Value, set func(reflect.Value)) {
		n++
		set(perturbed(cur))
		if methodologyText(cfg) == base {
			t.Errorf("changing %s (%v) does not change the methodology", path, cur)
		}
		set(cur)
	})
	if got := methodologyText(cfg); got != base {
		t.Fatal("the walk did not restore the configuration")
	}
	if n < 100 {
		t.Errorf("only %d values walked; the walk misses parts of Config", n)
	}
}

// eachLeaf calls fn for every number and string inside v, with a setter
// that writes the leaf back in place (maps included).
func eachLeaf(v reflect.Value, path string, fn func(path string, cur reflect.Value, set func(reflect.Value))) {
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() {
				eachLeaf(v.Field(i), path+"."+f.Name, fn)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			eachLeaf(v.Index(i), fmt.Sprintf("%s[%d]", path, i), fn)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			elem, at := v.MapIndex(k), fmt.Sprintf("%s[%v]", path, k)
			if isLeaf(elem.Kind()) {
				cur := reflect.New(elem.Type()).Elem()
				cur.Set(elem)
				fn(at, cur, func(x reflect.Value) { v.SetMapIndex(k, x) })
			} else {
				eachLeaf(elem, at, fn) // slice elements are settable through the map's slice
			}
		}
	case reflect.Float64, reflect.Int, reflect.String:
		cur := reflect.New(v.Type()).Elem()
		cur.Set(v)
		fn(path, cur, v.Set)
	default:
		panic(fmt.Sprintf("%s: the walk does not know %s", path, v.Kind()))
	}
}

func isLeaf(k reflect.Kind) bool {
	return k == reflect.Float64 || k == reflect.Int || k == reflect.String
}

// perturbed returns a copy of x changed by a small step.
func perturbed(x reflect.Value) reflect.Value {
	out := reflect.New(x.Type()).Elem()
	switch x.Kind() {
	case reflect.Float64:
		out.SetFloat(x.Float() + 0.01)
	case reflect.Int:
		out.SetInt(x.Int() + 1)
	case reflect.String:
		out.SetString(x.String() + "x")
	}
	return out
}
