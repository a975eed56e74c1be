package store

import (
	"strings"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

// Refresh tokens live in state.refresh, a plain map by token text, each one a
// sandbox.RefreshToken as it is saved. A rotation's successor shares its predecessor's client,
// user, mode and lists (the lists are never changed in place), and the used token's Next
// shares the successor's text, so a rotation allocates one record and one text.

// putRefresh stores t with its times in UTC, as the store keeps every time (and as a
// backend gives them back, so memory and database agree).
func (s *Store) putRefresh(t sandbox.RefreshToken) {
	t.ExpiresAt, t.UsedAt = t.ExpiresAt.UTC(), t.UsedAt.UTC()
	s.refresh[t.Token] = t
}

// cloneList copies a list, keeping nil and empty apart.
func cloneList(l []string) []string {
	if l == nil {
		return nil
	}
	return append(make([]string, 0, len(l)), l...)
}

// deleteRefreshIf drops every refresh token for which drop says so. drop gets a copy: a
// pointer to the loop's variable would move every token the sweep looks at to the heap.
func (t *tx) deleteRefreshIf(drop func(r sandbox.RefreshToken) bool) {
	for tok, r := range t.s.refresh {
		if drop(r) {
			t.touchRefresh(r) // before it goes: touch keeps its value for undo
			delete(t.s.refresh, tok)
		}
	}
}

// refreshKey is a refresh token's record key: its expiry as its JSON spells it (RFC 3339 in
// UTC, which sorts by time but for the trailing zeros Go leaves out), then its text. The
// sandbox gives every token the same lifetime, so keys sort by when the tokens were made:
// a rotation marks used a token made a moment ago and adds one made now, and the records a
// commit of many rotations writes are neighbours at the end of a backend's B-tree (SQLite's,
// PostgreSQL's), a few pages in all, where keys spread over the whole tree (the texts alone,
// random UUIDs) made it write two pages per rotation. A change of expiry moves the record.
func refreshKey(r sandbox.RefreshToken) string {
	return r.ExpiresAt.UTC().Format(time.RFC3339Nano) + "/" + r.Token
}

// touchRefresh is touch for the record of r as it is keyed now, its key built only when there
// is a backend to name it to (in memory a rotation must not pay for it).
func (t *tx) touchRefresh(r sandbox.RefreshToken) {
	if t.durable && !t.full {
		t.touch(kindRefresh, refreshKey(r))
	}
}

// storedRefresh is the token a refreshKey names, if one is stored under that key.
func (s *Store) storedRefresh(key string) (sandbox.RefreshToken, bool) {
	_, tok, _ := strings.Cut(key, "/")
	r, ok := s.refresh[tok]
	if !ok || refreshKey(r) != key {
		return sandbox.RefreshToken{}, false
	}
	return r, true
}
