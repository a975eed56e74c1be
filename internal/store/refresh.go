package store

import (
	"math"
	"strconv"
	"strings"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

// refreshTokens holds the refresh tokens compactly. Every refresh rotates the token and the
// used one must be kept for its grace period (a retry within it gets the same successor
// back), so a busy client leaves a minute's worth of used tokens behind: make bench's 5 s
// refresh phase leaves ~80,000. Kept as sandbox.RefreshToken in a map by string they cost
// 275 B of heap each (the record, its UUID string, the map slot), here 84 B, and the sweep
// over them takes a tenth of the time: measured against that plain map in BENCHMARKS.md,
// "Refresh-token set: packed vs plain map" (issue 12 item 5: it pays). Here a token the sandbox issued (a canonical UUID) is a 16-byte map
// key, times are Unix nanoseconds, the successor is 16 bytes, and the client, user, mode,
// authorization, vehicles and permissions are one record shared by every token of the same
// chain (counted, and dropped with its last token).
type refreshTokens struct {
	uuids  tokenSet[[16]byte]       // canonical lower-case UUIDs: every token the sandbox issues
	texts  tokenSet[string]         // any other text (tests, hand-written state)
	grants map[string]*refreshGrant // by refreshGrantKey
}

// tokenSet is one kind of key's tokens. Used tokens past their grace are found by the store's
// periodic sweep (see Store.pruneLocked): with packed records it costs a few nanoseconds per
// token, and a queue of first uses (tried first) cost 24 B more per token than the longer
// wait for the sweep does.
type tokenSet[K comparable] struct {
	recs map[K]refreshRec
}

type refreshRec struct {
	g       *refreshGrant
	expires int64    // packTime
	used    int64    // packTime; noTime: not used yet
	next    [16]byte // the successor its first use made (a canonical UUID); zero: none
}

type refreshGrant struct {
	key                     string
	clientID, userID, mode  string
	authorization           uint64
	vehicleIDs, permissions []string
	refs                    int
}

func newRefreshTokens() *refreshTokens {
	return &refreshTokens{uuids: tokenSet[[16]byte]{recs: make(map[[16]byte]refreshRec)},
		texts: tokenSet[string]{recs: make(map[string]refreshRec)}, grants: make(map[string]*refreshGrant)}
}

func (rt *refreshTokens) len() int { return len(rt.uuids.recs) + len(rt.texts.recs) }

// put stores t, replacing a token with the same text. A Next that is not a canonical UUID
// (only hand-written state could hold one) is dropped: the sandbox's successors all are.
func (rt *refreshTokens) put(t sandbox.RefreshToken) {
	r := refreshRec{g: rt.intern(t), expires: packTime(t.ExpiresAt), used: packTime(t.UsedAt)}
	r.next, _ = parseCanonicalUUID(t.Next)
	if u, ok := parseCanonicalUUID(t.Token); ok {
		rt.uuids.put(rt, u, r)
	} else {
		rt.texts.put(rt, t.Token, r)
	}
}

// putUUID stores a token the sandbox made (a canonical UUID) on an existing grant record: a
// rotation that keeps every vehicle shares its predecessor's record without building a key.
func (rt *refreshTokens) putUUID(u [16]byte, g *refreshGrant, expires int64) {
	g.refs++
	rt.uuids.put(rt, u, refreshRec{g: g, expires: expires, used: noTime})
}

func (rt *refreshTokens) get(token string) (sandbox.RefreshToken, bool) {
	r, ok := rt.rec(token)
	if !ok {
		return sandbox.RefreshToken{}, false
	}
	return r.token(token), true
}

// rec is the packed record of a token.
func (rt *refreshTokens) rec(token string) (refreshRec, bool) {
	if u, isUUID := parseCanonicalUUID(token); isUUID {
		r, ok := rt.uuids.recs[u]
		return r, ok
	}
	r, ok := rt.texts.recs[token]
	return r, ok
}

// markUsed records the first use of a stored token at at (packed), which made next.
func (rt *refreshTokens) markUsed(token string, at int64, next [16]byte) {
	if u, ok := parseCanonicalUUID(token); ok {
		rt.uuids.markUsed(u, at, next)
	} else {
		rt.texts.markUsed(token, at, next)
	}
}

// setExpires changes a stored token's expiry; false if there is no such token.
func (rt *refreshTokens) setExpires(token string, at time.Time) (sandbox.RefreshToken, bool) {
	var r refreshRec
	var ok bool
	if u, isUUID := parseCanonicalUUID(token); isUUID {
		r, ok = rt.uuids.setExpires(u, packTime(at))
	} else {
		r, ok = rt.texts.setExpires(token, packTime(at))
	}
	if !ok {
		return sandbox.RefreshToken{}, false
	}
	return r.token(token), true
}

// deleteIf drops every token for which drop says so.
func (rt *refreshTokens) deleteIf(drop func(r refreshRec) bool) {
	rt.uuids.deleteIf(rt, drop)
	rt.texts.deleteIf(rt, drop)
}

// all unpacks every token (for snapshots and the admin API).
func (rt *refreshTokens) all() []sandbox.RefreshToken {
	out := make([]sandbox.RefreshToken, 0, rt.len())
	for u, r := range rt.uuids.recs {
		out = append(out, r.token(sandbox.FormatUUID(u)))
	}
	for text, r := range rt.texts.recs {
		out = append(out, r.token(text))
	}
	return out
}

func (ts *tokenSet[K]) put(rt *refreshTokens, k K, r refreshRec) {
	if old, ok := ts.recs[k]; ok {
		rt.release(old.g)
	}
	ts.recs[k] = r
}

func (ts *tokenSet[K]) markUsed(k K, used int64, next [16]byte) {
	r, ok := ts.recs[k]
	if !ok {
		return
	}
	r.used, r.next = used, next
	ts.recs[k] = r
}

func (ts *tokenSet[K]) setExpires(k K, expires int64) (refreshRec, bool) {
	r, ok := ts.recs[k]
	if ok {
		r.expires = expires
		ts.recs[k] = r
	}
	return r, ok
}

func (ts *tokenSet[K]) deleteIf(rt *refreshTokens, drop func(r refreshRec) bool) {
	for k, r := range ts.recs {
		if drop(r) {
			rt.release(r.g)
			delete(ts.recs, k)
		}
	}
}

func (r refreshRec) token(text string) sandbox.RefreshToken {
	t := sandbox.RefreshToken{Token: text, ClientID: r.g.clientID, UserID: r.g.userID,
		VehicleIDs: r.g.vehicleIDs, Permissions: r.g.permissions, Mode: r.g.mode,
		ExpiresAt: unpackTime(r.expires), UsedAt: unpackTime(r.used), Authorization: r.g.authorization}
	if r.next != ([16]byte{}) {
		t.Next = sandbox.FormatUUID(r.next)
	}
	return t
}

func (rt *refreshTokens) intern(t sandbox.RefreshToken) *refreshGrant {
	key := refreshGrantKey(t)
	g, ok := rt.grants[key]
	if !ok {
		// Own copies of the lists: the caller may reuse its slices.
		g = &refreshGrant{key: key, clientID: t.ClientID, userID: t.UserID, mode: t.Mode, authorization: t.Authorization,
			vehicleIDs: cloneList(t.VehicleIDs), permissions: cloneList(t.Permissions)}
		rt.grants[key] = g
	}
	g.refs++
	return g
}

// cloneList copies a list, keeping nil and empty apart.
func cloneList(l []string) []string {
	if l == nil {
		return nil
	}
	return append(make([]string, 0, len(l)), l...)
}

func (rt *refreshTokens) release(g *refreshGrant) {
	if g.refs--; g.refs <= 0 {
		delete(rt.grants, g.key)
	}
}

// refreshGrantKey joins the grant's fields with separators no id or permission name holds;
// nil and empty lists are told apart so a token comes back exactly as it was saved.
func refreshGrantKey(t sandbox.RefreshToken) string {
	var b strings.Builder
	for _, s := range []string{t.ClientID, t.UserID, t.Mode, strconv.FormatUint(t.Authorization, 10)} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	for _, list := range [][]string{t.VehicleIDs, t.Permissions} {
		if list == nil {
			b.WriteByte(2)
		}
		for _, s := range list {
			b.WriteString(s)
			b.WriteByte(1)
		}
		b.WriteByte(0)
	}
	return b.String()
}

// noTime packs the zero time.Time (a token not used yet, or saved without expiry).
const noTime = math.MinInt64

// packTime keeps the instant to the nanosecond; instants outside what Unix nanoseconds can
// hold (years before 1678 or after 2261, never used by the sandbox) are clamped.
func packTime(t time.Time) int64 {
	switch {
	case t.IsZero():
		return noTime
	case t.Year() < 1678:
		return math.MinInt64 + 1
	case t.Year() > 2261:
		return math.MaxInt64
	}
	return t.UnixNano()
}

// unpackTime gives the instant back in UTC (the sandbox stores every time in UTC).
func unpackTime(n int64) time.Time {
	if n == noTime {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// parseCanonicalUUID accepts exactly the form sandbox.FormatUUID writes (lower-case hex, 8-4-4-4-12),
// so a key always gives back the very text it was made from.
func parseCanonicalUUID(s string) ([16]byte, bool) {
	var u [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, ok1 := lowerHex(s[i])
		lo, ok2 := lowerHex(s[i+1])
		if !ok1 || !ok2 {
			return u, false
		}
		u[j] = hi<<4 | lo
		j++
		i += 2
	}
	return u, true
}

func lowerHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// remove drops one token, if stored.
func (rt *refreshTokens) remove(token string) {
	if u, ok := parseCanonicalUUID(token); ok {
		rt.uuids.remove(rt, u)
	} else {
		rt.texts.remove(rt, token)
	}
}

func (ts *tokenSet[K]) remove(rt *refreshTokens, k K) {
	if r, ok := ts.recs[k]; ok {
		rt.release(r.g)
		delete(ts.recs, k)
	}
}

// deleteRefreshIf drops every refresh token for which drop says so (drop must only look).
func (t *tx) deleteRefreshIf(drop func(r refreshRec) bool) {
	rt := t.s.refresh
	if t.durable && !t.full {
		// Name them before they go: touch keeps each one's value for undo.
		for u, r := range rt.uuids.recs {
			if drop(r) {
				t.touch(kindRefresh, r.key(sandbox.FormatUUID(u)))
			}
		}
		for k, r := range rt.texts.recs {
			if drop(r) {
				t.touch(kindRefresh, r.key(k))
			}
		}
	}
	rt.deleteIf(drop)
}

// refreshKey is a refresh token's record key: its expiry as its JSON spells it (RFC 3339 in
// UTC, which sorts by time but for the trailing zeros Go leaves out), then its text. The
// sandbox gives every token the same lifetime, so keys sort by when the tokens were made:
// a rotation marks used a token made a moment ago and adds one made now, and the records a
// commit of many rotations writes are neighbours at the end of a backend's B-tree (SQLite's,
// PostgreSQL's), a few pages in all, where keys spread over the whole tree (the texts alone,
// random UUIDs) made it write two pages per rotation. A change of expiry moves the record.
func refreshKey(expires int64, token string) string {
	return unpackTime(expires).Format(time.RFC3339Nano) + "/" + token
}

// touchRefresh is touch for the record of the token with text token and expiry expires, its
// key built only when there is a backend to name it to (in memory a rotation must not pay
// for it).
func (t *tx) touchRefresh(expires int64, token string) {
	if t.durable && !t.full {
		t.touch(kindRefresh, refreshKey(expires, token))
	}
}

// key is the record key of the token with text token and this record.
func (r refreshRec) key(token string) string { return refreshKey(r.expires, token) }

// storedRefresh is the token a refreshKey names, if one is stored under that key.
func (rt *refreshTokens) stored(key string) (sandbox.RefreshToken, bool) {
	_, tok, _ := strings.Cut(key, "/")
	r, ok := rt.rec(tok)
	if !ok || r.key(tok) != key {
		return sandbox.RefreshToken{}, false
	}
	return r.token(tok), true
}
