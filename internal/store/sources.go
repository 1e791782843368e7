package store

import (
	"context"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// SourceKeeper lists the intelligence sources a store holds and removes
// one of them.
type SourceKeeper interface {
	// SourceSummaries lists every imported source (each import of changed
	// content under one name is a source of its own), oldest first, with
	// how many objects it asserts.
	SourceSummaries(ctx context.Context) ([]SourceSummary, error)
	// DeleteSource removes every source named name in one transaction.
	// Objects that another source also asserts stay, with their other
	// sources; objects that only these sources asserted go with their
	// versions, names, relationships and match rows. ErrNotFound when no
	// source has that name.
	DeleteSource(ctx context.Context, name string) (DeleteResult, error)
}

// SourceSummary is one imported source and what it asserts.
type SourceSummary struct {
	Source intel.Source
	// Objects counts what the source asserts: objects (a list's
	// indicators and their implied relationships too) and warninglists.
	Objects int
}

// DeleteResult says what DeleteSource removed.
type DeleteResult struct {
	Name    string `json:"name"`
	Sources int    `json:"sources"` // imports of that name removed
	// Deleted objects were asserted by no other source; Kept ones are
	// still asserted by another source, which now holds them alone.
	Deleted      int `json:"deleted_objects"`
	Kept         int `json:"kept_objects"`
	Warninglists int `json:"deleted_warninglists"`
}
