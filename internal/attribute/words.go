package attribute

// Band is one ICD 203 expression of likelihood with its probability range.
type Band struct {
	Words     string
	Low, High float64
}

// estimativeWords are the ICD 203 expressions, least likely first;
// Config.WordBounds places the boundaries between them.
var estimativeWords = [...]string{"almost no chance", "very unlikely", "unlikely", "roughly even chance",
	"likely", "very likely", "almost certain"}

// Bands returns the ICD 203 bands of c, lowest first.
func (c Config) Bands() []Band {
	out := make([]Band, len(estimativeWords))
	low := 0.0
	for i, w := range estimativeWords {
		high := 1.0
		if i < len(c.WordBounds) && i < len(estimativeWords)-1 {
			high = c.WordBounds[i]
		}
		out[i] = Band{Words: w, Low: low, High: high}
		low = high
	}
	return out
}

// Words returns the ICD 203 words for probability p under c's bounds.
func (c Config) Words(p float64) string { return wordsIn(c.Bands(), p) }

func wordsIn(bands []Band, p float64) string {
	for _, b := range bands[:len(bands)-1] {
		if p < b.High {
			return b.Words
		}
	}
	return bands[len(bands)-1].Words
}

// Bands are the ICD 203 estimative words of DefaultConfig, lowest first.
var Bands = DefaultConfig().Bands()

// NotEnoughEvidence is the estimate when the evidence does not meet the
// minimum for naming an actor (Config.MinIndependent and MinScore).
const NotEnoughEvidence = "not enough evidence"

// Words returns the ICD 203 words for probability p under DefaultConfig.
func Words(p float64) string { return wordsIn(Bands, p) }

// Confidence levels of an assessment (separate from likelihood: how much,
// how varied and how reliable the evidence is).
const (
	Low      = "low"
	Moderate = "moderate"
	High     = "high"
)
