package attribute

import (
	"math"
	"sort"
	"time"
	_ "time/tzdata" // the zone database travels with the binary, so offsets do not depend on the host
)

// countryZones names the IANA time zone of each country's capital, where
// state-sponsored units usually sit: facts, not weights. The offset at the
// season of the activity comes from the Go time zone database, so daylight
// saving is modelled (RU has none since 2014; US and EU shift in summer).
var countryZones = map[string]string{
	"CN": "Asia/Shanghai", "HK": "Asia/Hong_Kong", "TW": "Asia/Taipei", "MO": "Asia/Macau", "SG": "Asia/Singapore",
	"MY": "Asia/Kuala_Lumpur", "PH": "Asia/Manila", "KP": "Asia/Pyongyang", "KR": "Asia/Seoul", "JP": "Asia/Tokyo",
	"RU": "Europe/Moscow", "BY": "Europe/Minsk", "UA": "Europe/Kyiv", "MD": "Europe/Chisinau",
	"IR": "Asia/Tehran", "IQ": "Asia/Baghdad", "SY": "Asia/Damascus", "LB": "Asia/Beirut", "IL": "Asia/Jerusalem",
	"PS": "Asia/Gaza", "JO": "Asia/Amman", "SA": "Asia/Riyadh", "AE": "Asia/Dubai", "QA": "Asia/Qatar", "KW": "Asia/Kuwait",
	"YE": "Asia/Aden", "TR": "Europe/Istanbul", "IN": "Asia/Kolkata", "PK": "Asia/Karachi", "AF": "Asia/Kabul",
	"BD": "Asia/Dhaka", "VN": "Asia/Ho_Chi_Minh", "TH": "Asia/Bangkok", "ID": "Asia/Jakarta", "KZ": "Asia/Almaty",
	"US": "America/New_York", "CA": "America/Toronto", "MX": "America/Mexico_City", "BR": "America/Sao_Paulo",
	"CO": "America/Bogota", "VE": "America/Caracas", "AR": "America/Argentina/Buenos_Aires",
	"GB": "Europe/London", "IE": "Europe/Dublin", "PT": "Europe/Lisbon", "FR": "Europe/Paris", "DE": "Europe/Berlin",
	"NL": "Europe/Amsterdam", "BE": "Europe/Brussels", "ES": "Europe/Madrid", "IT": "Europe/Rome", "PL": "Europe/Warsaw",
	"SE": "Europe/Stockholm", "NO": "Europe/Oslo", "DK": "Europe/Copenhagen", "CH": "Europe/Zurich", "AT": "Europe/Vienna",
	"CZ": "Europe/Prague", "RS": "Europe/Belgrade", "RO": "Europe/Bucharest", "BG": "Europe/Sofia", "GR": "Europe/Athens",
	"FI": "Europe/Helsinki", "EE": "Europe/Tallinn", "LV": "Europe/Riga", "LT": "Europe/Vilnius",
	"EG": "Africa/Cairo", "ZA": "Africa/Johannesburg", "NG": "Africa/Lagos", "KE": "Africa/Nairobi", "MA": "Africa/Casablanca",
	"DZ": "Africa/Algiers", "TN": "Africa/Tunis", "LY": "Africa/Tripoli", "ET": "Africa/Addis_Ababa",
	"AU": "Australia/Sydney", "NZ": "Pacific/Auckland",
}

// countryOffsetAt is the UTC offset in hours of a country's capital at t
// (daylight saving included); false when the country is not in the table.
func countryOffsetAt(cc string, t time.Time) (float64, bool) {
	zone, ok := countryZones[cc]
	if !ok {
		return 0, false
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return 0, false // the embedded database has every zone of the table; a test checks it
	}
	_, off := t.In(loc).Zone()
	return float64(off) / 3600, true
}

// CountryOffsetAt is the UTC offset of a country's capital at t, daylight
// saving included.
func CountryOffsetAt(cc string, t time.Time) (float64, bool) { return countryOffsetAt(cc, t) }

// CountryOffsets returns the standard (winter) UTC offset of a country's
// capital: the smaller of its January and July offsets, as daylight
// saving only ever adds.
func CountryOffsets(cc string) []float64 {
	jan, ok := countryOffsetAt(cc, time.Date(2024, 1, 15, 12, 0, 0, 0, time.UTC))
	if !ok {
		return nil
	}
	jul, _ := countryOffsetAt(cc, time.Date(2024, 7, 15, 12, 0, 0, 0, time.UTC))
	return []float64{math.Min(jan, jul)}
}

// countriesNear lists the countries whose capital's offset at t is closer
// than within hours to offset.
func countriesNear(offset, within float64, t time.Time) []string {
	var out []string
	for cc := range countryZones {
		if o, ok := countryOffsetAt(cc, t); ok && math.Abs(o-offset) < within {
			out = append(out, cc)
		}
	}
	sort.Strings(out)
	return out
}

// medianTime is the middle of sorted times, or the zero time.
func medianTime(ts []time.Time) time.Time {
	if len(ts) == 0 {
		return time.Time{}
	}
	return ts[len(ts)/2]
}
