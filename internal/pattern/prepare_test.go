package pattern

import (
	"errors"
	"testing"
)

// Prepare tells a grammar error from a valid pattern this evaluator
// cannot run, and keeps the position of either.
func TestPrepareSaysWhyNot(t *testing.T) {
	tests := []struct {
		src          string
		notEvaluable bool
		column       int
	}{
		{"[domain-name:value MATCHES '((a{100}){100}){100}']", true, 28},
		{"[a:b IN (1, true)]", true, 13},
		{"[file:size = 1280", false, 18},
	}
	for _, tt := range tests {
		_, err := Prepare(tt.src, ParseOptions{})
		var pe *Error
		if err == nil || errors.Is(err, ErrNotEvaluable) != tt.notEvaluable || !errors.As(err, &pe) || pe.Column != tt.column {
			t.Errorf("%s: %v (not evaluable %v, want %v; column %d)", tt.src, err, errors.Is(err, ErrNotEvaluable), tt.notEvaluable, tt.column)
		}
	}
	if prog, err := Prepare("[domain-name:value = 'msnhome.org']", ParseOptions{}); err != nil || prog.Pattern().String() == "" {
		t.Errorf("a plain pattern: %v", err)
	}
}
