package attribute

import "fmt"

// Rule is one line of the methodology: what is weighed and how.
type Rule struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

// Methodology states every weight and threshold that produced an
// assessment, so that a reader can redo the arithmetic.
func Methodology(cfg Config) []Rule {
	return []Rule{
		{"Hypotheses", "Every actor that a seen indicator leads to through the intelligence (indicator indicates the actor or a persona attributed to it; indicates malware the actor uses; indicates a campaign attributed to it), plus \"an actor not in the intelligence\" and \"coincidence on shared infrastructure\"."},
		{"Indicator match", fmt.Sprintf("One piece of evidence per indicator seen, however often: weight = specificity × confidence × age × source reliability. Specificity: file hash 0.90, certificate 0.85, URL 0.80, e-mail 0.70, domain 0.60, IP 0.40, CIDR 0.40·(bits−8)/24 (a /15 gives 0.12), JA3 or user agent 0.30; a STIX pattern weighs 0.9 × the specificity of the value it matched. Confidence: the indicator's own (0–100)/100, or %.2f when it states none. Age: 1; 0.6 for an IP or domain indicator first valid more than %s before it was seen; 0.3 when seen after its valid_until; 0.1 when revoked. Reliability (Admiralty): A 1.00, B 0.85, C 0.65, D 0.45, E 0.25, unknown or F 0.65.", cfg.DefaultConfidence, fmtYears(cfg.StaleAge))},
		{"Malware family", "An indicator that indicates a malware family counts for every actor that uses the family, weighted like an indicator match and divided among those actors."},
		{"Shared indicators", "An indicator that leads to n actors gives each 1/n of its weight, and (n−1)/n of it to \"coincidence\"."},
		{"Warninglisted indicators", "An indicator whose value is on a warninglist keeps 10% of its weight for the actors, and its full weight goes to \"coincidence\"."},
		{"Stale or revoked", "Half of the weight an indicator lost to age or revocation goes to \"coincidence\"."},
		{"Techniques", "Each ATT&CK technique shown by behavioural detections (beacon: T1071, T1573; DNS tunnel: T1071.004, T1572, T1048; DGA: T1568.002; long connection: T1095, T1571) that the actor is known to use adds 0.1, at most 0.2: weak, because many actors share them."},
		{"Infrastructure geography", "Infrastructure in a country where the actor's known infrastructure is adds 0.15: weak, because servers are rented anywhere. Where the servers are is reported apart from where the operators are."},
		{"Operator time zone", fmt.Sprintf("Only human-driven activity counts: sightings outside beacon series and outside series of at least 6 events whose intervals vary by less than 35%%, one per host, value and minute. A working week (Mon–Fri, start 08:00, lunch dip at 12:00, end 18:00–19:00, weekends at 8%%) is fitted at every UTC offset from −12 to +14; the best and the best more than an hour away are reported. With at least %d events, an actor whose country's offset is within an hour gains 0.4 × fit × min(1, events/60); three hours or more away loses as much.", MinTZEvents)},
		{"Unknown actor", fmt.Sprintf("Base score %.2f, plus 0.4 when the campaign has behavioural detections and no indicator from any intelligence.", cfg.UnknownPrior)},
		{"Coincidence", fmt.Sprintf("Base score %.2f, plus the counter-evidence above.", cfg.CoincidencePrior)},
		{"Independence", "Evidence from the same source (or the same kind of analysis) is not independent: within a group weights combine as 1 − Π(1 − w), so a hundred indicators from one report count at most 1; groups add; counter-evidence subtracts."},
		{"Likelihood", fmt.Sprintf("likelihood(h) = exp(%.1f·score(h)) / Σ exp(%.1f·score(h′)) over all hypotheses.", cfg.Beta, cfg.Beta)},
		{"Naming an actor", fmt.Sprintf("An actor is named only with at least %d independent groups of supporting evidence and a score of at least %.2f; otherwise the estimate is \"%s\", whatever the likelihood.", cfg.MinIndependent, cfg.MinScore, NotEnoughEvidence)},
		{"Estimative words (ICD 203)", "almost no chance < 0.05 ≤ very unlikely < 0.20 ≤ unlikely < 0.45 ≤ roughly even chance < 0.55 ≤ likely < 0.80 ≤ very likely < 0.95 ≤ almost certain."},
		{"Analytic confidence", "Separate from likelihood. Points: independent groups (2: +1, 3 or more: +2), kinds of evidence (2: +1, 3 or more: +2), mean source reliability (≥ 0.6: +1, ≥ 0.8: +2), any counter-evidence −1. High ≥ 5, moderate ≥ 3, else low."},
	}
}
