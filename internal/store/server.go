package store

import (
	"context"
	"errors"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// The roles below are what a server in front of a store needs: pages of
// object versions in the order they were added (TAXII), API keys, the
// audit trail, TAXII status resources and the state of feed subscriptions.

// ErrExists is returned when something that must be unique exists already.
var ErrExists = errors.New("already exists")

// ObjectPager pages stored object versions in the order the store added
// them. Paging is stateless: a Cursor names a position, not a server-side
// result set, so it survives a restart and works on every server instance
// in front of the same store.
type ObjectPager interface {
	// ObjectsPage returns up to limit (DefaultPageLimit when <= 0)
	// versions matching q added strictly after the position after ("" =
	// from the start), in added order (added time, then id, then
	// version). A cursor this store did not write is an error wrapping
	// ErrBadCursor. Every version an import stores gets one added time
	// strictly later than that of every version stored before it, so a
	// client paging by cursor or by AddedAfter never misses a version
	// stored meanwhile.
	ObjectsPage(ctx context.Context, q PageQuery, after Cursor, limit int) (ObjectPage, error)
	// ObjectVersions lists the versions of id that match q (q.IDs is
	// ignored) in added order, without paging; ErrNotFound when id has
	// no version at all.
	ObjectVersions(ctx context.Context, id string, q PageQuery) ([]PageItem, error)
}

// PageQuery filters ObjectsPage with TAXII's match semantics: values of
// one field are ORed, fields are ANDed, an empty field does not filter.
type PageQuery struct {
	IDs          []string
	Types        []string
	SpecVersions []string // compared with the object's spec_version, "2.1" when it has none
	// Versions holds "last" (the default when empty), "first", "all" or
	// RFC 3339 timestamps of modified (or created when there is none);
	// several are ORed. Anything else is an error.
	Versions   []string
	AddedAfter time.Time // added strictly after
	// Collection filters: objects asserted by any of these source names,
	// indicators that indicate this actor (any alias), objects of these
	// types. Zero values do not filter.
	Sources []string
	Actor   string
}

// PageItem is one stored version of an object.
type PageItem struct {
	Object  *intel.Object // with Raw: the STIX JSON as stored (or as the store renders its compact forms)
	Added   time.Time     // when the store added this version
	Version time.Time     // modified, or created when there is none
	// After is the position just after this item: a caller that takes
	// only part of a page continues from the last item it took. (The
	// store's position is not always (Added, ID, Version): a compact
	// list indicator's version column is its shape's.)
	After Cursor
}

// ObjectPage is one page of ObjectsPage.
type ObjectPage struct {
	Items []PageItem
	Next  Cursor // position after the last item examined (the cursor given when none was); pass it back for the next page
	More  bool   // whether versions matching q existed after Next when the page was read: exact, never a guess
}

// APIKey is one key of the server, stored hashed: the key itself is shown
// once when created and never stored.
type APIKey struct {
	ID       string   // public part of the key, unique, used to find it
	Name     string   // who holds it; unique among keys not revoked
	Hash     []byte   // digest of the secret part
	TLPMax   string   // clear, green, amber or amber+strict
	Internal bool     // the server's own organisation: may read AMBER+STRICT
	Admin    bool     // may manage keys and read the audit trail
	Read     []string // collections it may read (ids or aliases; "*" = all)
	Write    []string // collections it may write
	Created  time.Time
	Revoked  time.Time // zero while valid
}

// KeyStore keeps API keys.
type KeyStore interface {
	// PutKey stores a new key; ErrExists when a key with its ID, or a
	// valid key with its name, exists.
	PutKey(ctx context.Context, k APIKey) error
	// Key returns the key with this ID, revoked or not; ErrNotFound.
	Key(ctx context.Context, id string) (APIKey, error)
	// Keys lists every key, revoked ones too, oldest first.
	Keys(ctx context.Context) ([]APIKey, error)
	// RevokeKey revokes the valid key named name; ErrNotFound when none.
	RevokeKey(ctx context.Context, name string, at time.Time) error
}

// AuditEntry is one request the server answered.
type AuditEntry struct {
	Seq     int64 // set by the store
	At      time.Time
	Key     string // the key's name, "" when none was accepted
	Remote  string // the client's address
	Method  string
	Path    string // path and query as received
	Status  int
	Objects int // objects served or received
	Took    time.Duration
}

// AuditQuery filters Audit; zero fields do not filter.
type AuditQuery struct {
	Key    string
	Since  time.Time
	Method string // exactly, when set
	Path   string // exactly, query string included, when set
	Status int    // exactly, when > 0
	Limit  int    // the newest Limit entries, when > 0
}

// AuditLog keeps the audit trail.
type AuditLog interface {
	PutAudit(ctx context.Context, e AuditEntry) error
	// Audit streams entries matching q, oldest first.
	Audit(ctx context.Context, q AuditQuery, fn func(AuditEntry) error) error
}

// StatusStore keeps TAXII status resources (JSON documents) until they
// expire.
type StatusStore interface {
	// PutStatus stores or replaces the status id.
	PutStatus(ctx context.Context, id string, doc []byte, expires time.Time) error
	// Status returns status id; ErrNotFound when absent or expired.
	Status(ctx context.Context, id string) ([]byte, error)
}

// Subscription is a remote TAXII collection whose objects are pulled.
type Subscription struct {
	Name       string // the source name its objects are imported under; unique
	URL        string // the API root
	Collection string // id or alias
	// AddedAfter is where the last pull stopped: the remote's
	// X-TAXII-Date-Added-Last, kept as the server wrote it.
	AddedAfter string
	Updated    time.Time
}

// SubscriptionStore keeps subscriptions and where each pull stopped.
type SubscriptionStore interface {
	// PutSubscription stores or replaces the subscription of s.Name.
	PutSubscription(ctx context.Context, s Subscription) error
	// Subscriptions lists them by name.
	Subscriptions(ctx context.Context) ([]Subscription, error)
}

// ServerStore is every role the server uses.
type ServerStore interface {
	Store
	ObjectPager
	KeyStore
	AuditLog
	StatusStore
	SubscriptionStore
}
