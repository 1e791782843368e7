package apikey_test

import (
	"context"
	"fmt"

	"github.com/whodunit-project/whodunit/internal/store"
)

// These KeyGetters hold keys in memory for the fuzz targets, where a
// database round trip per input would leave the fuzzer no time; the
// stores themselves are tested in TestKeys.
type noKeys struct{}

func (noKeys) Key(_ context.Context, id string) (store.APIKey, error) {
	return store.APIKey{}, fmt.Errorf("key %q: %w", id, store.ErrNotFound)
}

type oneKey struct{ k store.APIKey }

func (o oneKey) Key(_ context.Context, id string) (store.APIKey, error) {
	if id != o.k.ID {
		return store.APIKey{}, fmt.Errorf("key %q: %w", id, store.ErrNotFound)
	}
	return o.k, nil
}
