package tutorial

import (
	"net/http"
	"time"
)

// RoomIdleConns is how many idle connections to Smartcar (the sandbox) the backend keeps: one
// per phone of a large workshop room polling /vehicle at once. Go's default of 2 per host makes
// nearly every request of a busy room open a new connection (thousands of sockets left in
// TIME_WAIT at 300 phones); an idle connection costs a few kilobytes.
const RoomIdleConns = 512

// NewTransport returns the transport the backend talks to Smartcar with: Go's defaults (proxy
// from the environment, dial and TLS timeouts, HTTP/2) with an idle pool of idle connections
// per host. Idle connections are closed after 90 s, before the sandbox's own 120 s idle
// timeout, so the backend never reuses a connection the server is closing.
func NewTransport(idle int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = idle
	t.MaxIdleConnsPerHost = idle
	t.IdleConnTimeout = 90 * time.Second
	return t
}
