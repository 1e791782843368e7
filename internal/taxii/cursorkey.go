package taxii

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/whodunit-project/whodunit/internal/store"
)

// cursorKeyID names the next-token key among the status documents. It is
// not a UUID, so the status endpoint (which serves UUIDs only) never
// answers it.
const cursorKeyID = "whodunit:taxii-cursor-key"

// CursorKeyFromStore returns the key that signs next tokens, kept in the
// store so that every instance in front of it, and every restart, signs
// and checks tokens alike. The first call creates it.
func CursorKeyFromStore(ctx context.Context, st store.StatusStore, now time.Time) ([]byte, error) {
	key, err := readCursorKey(ctx, st)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return key, err
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	// Kept for a century: a key that expired would void every token.
	if err := st.PutStatus(ctx, cursorKeyID, []byte(`"`+hex.EncodeToString(fresh)+`"`), now.AddDate(100, 0, 0)); err != nil {
		return nil, fmt.Errorf("storing the cursor key: %w", err)
	}
	// Read back: of two instances starting at once, the last write wins
	// and both use it from here on.
	return readCursorKey(ctx, st)
}

func readCursorKey(ctx context.Context, st store.StatusStore) ([]byte, error) {
	doc, err := st.Status(ctx, cursorKeyID)
	if err != nil {
		return nil, err
	}
	if len(doc) < 2 {
		return nil, errors.New("cursor key: malformed")
	}
	key, err := hex.DecodeString(string(doc[1 : len(doc)-1]))
	if err != nil || len(key) < 16 {
		return nil, errors.New("cursor key: malformed")
	}
	return key, nil
}
