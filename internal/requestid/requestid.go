// Package requestid carries the per-request id (the SC-Request-Id header) in a context, so
// every door can put it in its error bodies and the access log can print it.
package requestid

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
)

type key struct{}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context { return context.WithValue(ctx, key{}, id) }

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
	b[6] = (b[6] & 0x0f) | 0x40 // version 4
	b[8] = (b[8] & 0x3f) | 0x80 // RFC 4122 variant
	var s [36]byte
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			s[j] = '-'
			j++
		}
		s[j], s[j+1] = hexDigits[c>>4], hexDigits[c&0x0f]
		j += 2
	}
	return string(s[:])
}

const hexDigits = "0123456789abcdef"
