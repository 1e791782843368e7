package store

import (
	"context"
	"errors"
	"time"
)

// ObjectDeleter removes one object from the intelligence (a TAXII DELETE).
type ObjectDeleter interface {
	// DeleteObject removes object id in one transaction. With version
	// zero it removes every version with the object's names,
	// relationships, observable and match rows and its source records;
	// otherwise only the stored version whose modified time is version.
	// It returns how many versions it removed. ErrNotFound when there is
	// no such object or version; ErrCurrentVersion for the current
	// version of an object that has older ones.
	DeleteObject(ctx context.Context, id string, version time.Time) (int, error)
}

// ErrCurrentVersion: removing the current version alone would need
// the older one rebuilt into the tables derived from the current one;
// delete every version instead.
var ErrCurrentVersion = errors.New("the current version of an object with older versions cannot be deleted alone: delete all its versions")
