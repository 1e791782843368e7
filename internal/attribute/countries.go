package attribute

// countryOffsets gives the standard-time UTC offset of each country's
// capital, where state-sponsored units usually sit, for comparing the
// operators' inferred working hours with an actor's country. Daylight saving
// is not modelled: summer activity may fit one hour east.
var countryOffsets = map[string][]float64{
	"CN": {8}, "HK": {8}, "TW": {8}, "MO": {8}, "SG": {8}, "MY": {8}, "PH": {8},
	"KP": {9}, "KR": {9}, "JP": {9},
	"RU": {3}, "BY": {3}, "UA": {2}, "MD": {2},
	"IR": {3.5}, "IQ": {3}, "SY": {2}, "LB": {2}, "IL": {2}, "PS": {2}, "JO": {3}, "SA": {3}, "AE": {4}, "QA": {3}, "KW": {3}, "YE": {3}, "TR": {3},
	"IN": {5.5}, "PK": {5}, "AF": {4.5}, "BD": {6}, "VN": {7}, "TH": {7}, "ID": {7}, "KZ": {5},
	"US": {-5}, "CA": {-5}, "MX": {-6}, "BR": {-3}, "CO": {-5}, "VE": {-4}, "AR": {-3},
	"GB": {0}, "IE": {0}, "PT": {0}, "FR": {1}, "DE": {1}, "NL": {1}, "BE": {1}, "ES": {1}, "IT": {1}, "PL": {1}, "SE": {1}, "NO": {1}, "DK": {1},
	"CH": {1}, "AT": {1}, "CZ": {1}, "RS": {1}, "RO": {2}, "BG": {2}, "GR": {2}, "FI": {2}, "EE": {2}, "LV": {2}, "LT": {2},
	"EG": {2}, "ZA": {2}, "NG": {1}, "KE": {3}, "MA": {1}, "DZ": {1}, "TN": {1}, "LY": {2}, "ET": {3},
	"AU": {10}, "NZ": {12},
}

// CountryOffsets returns the standard UTC offsets of an ISO country code.
func CountryOffsets(cc string) []float64 { return countryOffsets[cc] }
