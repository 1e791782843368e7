package attribute

// Band is one ICD 203 expression of likelihood with its probability range.
type Band struct {
	Words     string
	Low, High float64
}

// Bands are the ICD 203 estimative words, lowest first.
var Bands = []Band{
	{"almost no chance", 0.00, 0.05},
	{"very unlikely", 0.05, 0.20},
	{"unlikely", 0.20, 0.45},
	{"roughly even chance", 0.45, 0.55},
	{"likely", 0.55, 0.80},
	{"very likely", 0.80, 0.95},
	{"almost certain", 0.95, 1.00},
}

// NotEnoughEvidence is the estimate when the evidence does not meet the
// minimum for naming an actor (see Config.MinEvidence).
const NotEnoughEvidence = "not enough evidence"

// Words returns the ICD 203 words for probability p.
func Words(p float64) string {
	for _, b := range Bands {
		if p < b.High {
			return b.Words
		}
	}
	return Bands[len(Bands)-1].Words
}

// Confidence levels of an assessment (separate from likelihood: how much,
// how varied and how reliable the evidence is).
const (
	Low      = "low"
	Moderate = "moderate"
	High     = "high"
)
