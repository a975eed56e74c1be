// Package clock is the sandbox's one adjustable clock: real time plus an offset that the admin
// API can only move forward. Every door, the store and the token issuer read Now from it, so
// "move the clock two hours on" expires access tokens everywhere at once without sleeping.
package clock

import (
	"errors"
	"sync"
	"time"
)

// Clock is real time (or Base) shifted by an offset; safe for concurrent use.
type Clock struct {
	base   func() time.Time
	mu     sync.RWMutex
	offset time.Duration
}

// New returns a clock reading base (nil means time.Now) with no offset.
func New(base func() time.Time) *Clock {
	if base == nil {
		base = time.Now
	}
	return &Clock{base: base}
}

// Now is the base time plus the offset.
func (c *Clock) Now() time.Time {
	c.mu.RLock()
	off := c.offset
	c.mu.RUnlock()
	return c.base().Add(off)
}

// Offset is how far the clock has been moved forward in total.
func (c *Clock) Offset() time.Duration {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.offset
}

// ErrBackwards refuses moving the clock back: expiry checks, refresh grace periods and data
// ages all assume time only grows, and a clock that jumps back would revive expired tokens.
var ErrBackwards = errors.New("clock: can only move forward; give a positive duration")

// Advance moves the clock forward by d (> 0).
func (c *Clock) Advance(d time.Duration) error {
	if d <= 0 {
		return ErrBackwards
	}
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
	return nil
}
