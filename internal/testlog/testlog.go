// Package testlog gives tests one place to collect what a running sandbox logs: the sandbox
// writes from its own goroutines while the test reads, so the buffer takes a lock.
package testlog

import (
	"strings"
	"sync"
)

// Buffer is a strings.Builder safe for concurrent writers and readers.
type Buffer struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write appends p.
func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything written so far.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
