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
	c := new(Context)
	c.Init(ctx, id)
	return c
}

// From returns the request id in ctx, or "".
func From(ctx context.Context) string {
	if c, _ := ctx.Value(key{}).(*Context); c != nil {
		return c.id
	}
	return ""
}

// Context is a context carrying a request id. With is the usual way to make one; the type is
// exported so the server's middleware can embed it in the one allocation it makes per request
// anyway (with the status recorder) instead of allocating a context of its own. Its Value
// answers the request id's key with the *Context itself, a pointer, so neither With nor From
// boxes the id string (context.WithValue's interface value cost an allocation).
type Context struct {
	context.Context
	id string
}

// Init makes c carry id on top of parent. c must not be in use yet.
func (c *Context) Init(parent context.Context, id string) {
	c.Context, c.id = parent, id
}

// Value implements context.Context.
func (c *Context) Value(k any) any {
	if k == (key{}) {
		return c
	}
	return c.Context.Value(k)
}

// String describes the context as context.WithValue's do, for debugging.
func (c *Context) String() string { return "requestid.With(" + c.id + ")" }

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
