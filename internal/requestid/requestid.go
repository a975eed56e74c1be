// Package requestid carries the per-request id (the SC-Request-Id header) in a context, so
// every door can put it in its error bodies and the access log can print it.
package requestid

import (
	"context"
	"encoding/binary"
	"math/rand/v2"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

type key struct{}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, key{}, id)
}

// From returns the request id in ctx, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}

// New returns a fresh request id in the UUID version 4 shape (8-4-4-4-12 lower-case hex).
// Request ids must be unique, not secret, so they come from math/rand/v2's runtime
// generator (ChaCha8, per thread, safe for concurrent use and far cheaper than crypto/rand);
// tokens, codes and other secrets keep sandbox.NewUUID. One allocation: the string.
func New() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	return sandbox.FormatUUID(sandbox.StampUUID(b, 4))
}
