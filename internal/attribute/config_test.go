package attribute_test

import (
	"encoding/json"
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/intel"
)

func TestDefaultConfigIsValid(t *testing.T) {
	if err := attribute.DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateNamesEachViolation(t *testing.T) {
	for _, tc := range []struct {
		want    string
		breakIt func(c *attribute.Config)
	}{
		{"beta", func(c *attribute.Config) { c.Beta = 0 }},
		{"max_evidence_weight", func(c *attribute.Config) { c.MaxEvidenceWeight = 1 }},
		{"indicators.specificity[0].weight", func(c *attribute.Config) { c.Indicators.Specificity[0].Weight = 1.5 }},
		{"indicators.specificity[1].types", func(c *attribute.Config) {
			c.Indicators.Specificity[1].Types = append(c.Indicators.Specificity[1].Types, c.Indicators.Specificity[0].Types[0])
		}},
		{"indicators.specificity[2].types", func(c *attribute.Config) { c.Indicators.Specificity[2].Types = []intel.ValueType{"no-such-type"} }},
		{"indicators.cidr_zero_bits", func(c *attribute.Config) { c.Indicators.CIDRZeroBits = 32 }},
		{"indicators.reliability", func(c *attribute.Config) { delete(c.Indicators.Reliability, "C") }},
		{"indicators.reliability", func(c *attribute.Config) { c.Indicators.Reliability["G"] = 0.5 }},
		{"indicators.reliability.A", func(c *attribute.Config) { c.Indicators.Reliability["A"] = math.NaN() }},
		{"indicators.warninglist_share", func(c *attribute.Config) { c.Indicators.WarninglistShare = -0.1 }},
		{"indicators.max_sightings", func(c *attribute.Config) { c.Indicators.MaxSightings = 0 }},
		{"indicators.stale_after_days", func(c *attribute.Config) { c.Indicators.StaleAfterDays = 0 }},
		{"techniques.by_analytic.beacon", func(c *attribute.Config) { c.Techniques.ByAnalytic["beacon"] = []string{"T71"} }},
		{"techniques.by_analytic.becaon", func(c *attribute.Config) { c.Techniques.ByAnalytic["becaon"] = []string{"T1071"} }},
		{"techniques.cap", func(c *attribute.Config) { c.Techniques.Cap = 2 }},
		{"geography_bonus", func(c *attribute.Config) { c.GeographyBonus = 1.2 }},
		{"time_zone.consistent_hours", func(c *attribute.Config) { c.TimeZone.ConsistentHours = 3 }},
		{"time_zone.full_at_events", func(c *attribute.Config) { c.TimeZone.FullAtEvents = 0 }},
		{"time_zone.model.hour_shape[9]", func(c *attribute.Config) { c.TimeZone.Model.HourShape[9] = 2 }},
		{"time_zone.model.uniform_mix", func(c *attribute.Config) { c.TimeZone.Model.UniformMix = 0 }},
		{"time_zone.model.office_end", func(c *attribute.Config) { c.TimeZone.Model.OfficeEnd = 8 }},
		{"time_zone.model.min_events", func(c *attribute.Config) { c.TimeZone.Model.MinEvents = 0 }},
		{"min_independent", func(c *attribute.Config) { c.MinIndependent = 0 }},
		{"word_bounds[3]", func(c *attribute.Config) { c.WordBounds[3] = c.WordBounds[2] }},
		{"word_bounds[5]", func(c *attribute.Config) { c.WordBounds[5] = 1 }},
		{"word_bounds", func(c *attribute.Config) { c.WordBounds = c.WordBounds[:5] }},
		{"confidence.reliability[1].at_least", func(c *attribute.Config) { c.Confidence.Reliability[1].AtLeast = 0.5 }},
		{"confidence.high", func(c *attribute.Config) { c.Confidence.High = c.Confidence.Moderate }},
	} {
		t.Run(tc.want, func(t *testing.T) {
			c := attribute.DefaultConfig()
			tc.breakIt(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), "attribution config: "+tc.want+": ") {
				t.Errorf("Validate() = %v, want a violation of %s", err, tc.want)
			}
		})
	}
}

func TestConfigRoundTripsThroughJSON(t *testing.T) {
	c := attribute.DefaultConfig()
	// Values whose shortest decimal form is long must survive too.
	c.Beta = 0.1 + 0.2
	c.MinScore = math.Nextafter(0.5, 1)
	c.TimeZone.Model.HourShape[3] = 1e-17
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back attribute.Config
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, back); diff != "" {
		t.Errorf("JSON round trip differs (-before +after):\n%s", diff)
	}
	b2, _ := json.Marshal(back)
	if string(b) != string(b2) {
		t.Errorf("re-encoding differs:\n%s\n%s", b, b2)
	}
}

// Every field has a snake_case JSON name: the names are the format of a
// configuration embedded in signed reports.
func TestConfigJSONNamesAreSnakeCase(t *testing.T) {
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	var walk func(t reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		switch typ.Kind() {
		case reflect.Struct:
			for i := 0; i < typ.NumField(); i++ {
				f := typ.Field(i)
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if !snake.MatchString(name) {
					t.Errorf("%s.%s: JSON name %q is not snake_case", path, f.Name, name)
				}
				walk(f.Type, path+"."+f.Name)
			}
		case reflect.Slice, reflect.Array, reflect.Map:
			walk(typ.Elem(), path+"[]")
		}
	}
	walk(reflect.TypeOf(attribute.Config{}), "Config")
}
