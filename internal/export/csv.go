package export

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
)

// CSV writes value,type,actor,source,confidence,tlp,valid_from,valid_until,id:
// one row per value, several actors or sources joined by ";".
type CSV struct {
	w *csv.Writer
}

// NewCSV writes the header to w.
func NewCSV(w io.Writer) (*CSV, error) {
	c := &CSV{w: csv.NewWriter(w)}
	err := c.w.Write([]string{"value", "type", "actor", "source", "confidence", "tlp", "valid_from", "valid_until", "id"})
	return c, err
}

// Write implements Writer.
func (c *CSV) Write(ind *Indicator) (string, error) {
	spec := ind.Indicator
	if spec == nil || len(spec.Observables) == 0 {
		return "no single value (pattern needs the evaluator)", nil
	}
	conf := ""
	if ind.Confidence >= 0 {
		conf = strconv.Itoa(ind.Confidence)
	}
	written := 0
	for _, ob := range spec.Observables {
		if ob.Port != 0 || ob.Issuer != "" {
			continue // a value qualified by a port or issuer is not one cell
		}
		row := []string{ob.Value, string(ob.Type), strings.Join(ind.ActorNames(), ";"), strings.Join(ind.Sources, ";"),
			conf, ind.TLP, csvTime(spec.ValidFrom), csvTime(spec.ValidUntil), ind.ID}
		if err := c.w.Write(row); err != nil {
			return "", err
		}
		written++
	}
	if written == 0 {
		return "value qualified by a port or issuer", nil
	}
	return "", nil
}

// Close implements Writer.
func (c *CSV) Close(*Summary) error {
	c.w.Flush()
	return c.w.Error()
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
