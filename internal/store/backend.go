package store

import "errors"

// Backend is where a Store keeps its records durably. The Store holds the working state in
// plain maps and runs every change as one transaction (see tx); a durable backend is told
// each transaction's changed records and must make them all durable, or none, before Commit
// returns. No Backend (nil) keeps everything in memory, the default.
//
// A record is one fact the store holds (an application, a vehicle, a grant, a refresh
// token...), named by its kind and a key unique within the kind, and held as JSON. The
// store, not the backend, knows what a record means, so a new backend only has to store
// rows; conformance_test.go holds the behaviour every backend must show.
type Backend interface {
	// Load calls fn with every record, one at a time, as it reads them, in no particular
	// order; fn may keep the record. An error from fn stops Load, which returns it.
	Load(fn func(Record) error) error
	// Commit writes the changes in one transaction: a Record with a nil Value deletes. With
	// full, every state record (all but the kinds in keptKinds) is deleted first, so the
	// changes are the whole state (Reset and Reload).
	Commit(full bool, changes []Record) error
	Close() error
}

// Shared is a Backend several sandboxes may use at once (PostgreSQL). Every record write gets
// a version, increasing in commit order, and a delete leaves a tombstone (a nil Value), so a
// sandbox holding the state as of version v catches up by applying what changed after v.
type Shared interface {
	Backend
	// Snapshot returns every live record and the version they are as of.
	Snapshot() ([]Record, int64, error)
	// Changed returns the records written after version since (a nil Value: deleted), oldest
	// first, and the version reached.
	Changed(since int64) ([]Record, int64, error)
	// Sync runs one writing transaction, alone among all the sandboxes: fn gets what the
	// others wrote after since and returns the changes to commit (full: the changes are the
	// whole state). It returns the version reached once they are committed.
	Sync(since int64, fn func(changed []Record) (full bool, changes []Record, err error)) (int64, error)
}

// Record is one row of a Backend.
type Record struct {
	Kind  string
	Key   string
	Value []byte // JSON; nil deletes the record in Commit
}

// The record kinds.
const (
	kindApp         = "app"
	kindAccount     = "account"
	kindVehicle     = "vehicle"
	kindGrant       = "grant"
	kindCode        = "code"
	kindRefresh     = "refresh"
	kindRevoked     = "revoked"      // access token id -> when it expires anyway
	kindRevokedAuth = "revoked_auth" // authorization number -> when its tokens expire anyway
	kindExpiredNow  = "expired_now"  // access token id -> when it expires anyway
	kindIssued      = "issued"       // access token id -> issuedRec
	kindMeta        = "meta"         // counters and markers (metaAuthSeq, metaImported)
	kindKey         = "key"          // named secrets (see Store.Key)

	kindWebhookSub      = "webhook_sub"      // webhook id \x1f vehicle id -> WebhookSubscription
	kindWebhookVerified = "webhook_verified" // webhook id -> true
)

// keptKinds are not dropped by a full commit: they are never part of what Reset replaces.
var keptKinds = []string{kindMeta, kindKey}

const (
	metaAuthSeq  = "authorization_seq"
	metaImported = "imported_state_json"
)

// errClosed is returned by a backend used after Close.
var errClosed = errors.New("store: backend closed")
