package store

import (
	"math"
	"strings"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

// refreshTokens holds the refresh tokens compactly. Every refresh rotates the token and the
// used one must be kept for its grace period (a retry within it gets a new pair), so a busy
// client leaves a minute's worth of used tokens behind: make bench's 5 s refresh phase leaves
// ~80,000. Kept as *sandbox.RefreshToken in a map by string they cost ~250 B of heap each
// (the record, its UUID string, the map slot) and most of the sandbox's memory after the load.
// Here a token the sandbox issued (a canonical UUID) is a 16-byte key, times are Unix
// nanoseconds, and the client, user, mode, vehicles and permissions are one record shared by
// every token of the same grant (counted, and dropped with its last token).
type refreshTokens struct {
	recs   map[tokenKey]refreshRec
	grants map[string]*refreshGrant // by refreshGrantKey
	// used lists first uses in order, so used tokens can be dropped as soon as their grace is
	// over without sweeping the whole map (see pruneUsed).
	used []usedRef
}

// tokenKey is a token's map key: the 16 bytes of a canonical lower-case UUID (every token the
// sandbox issues), or else the text itself (tests, hand-written state).
type tokenKey struct {
	uuid [16]byte
	text string
}

type refreshRec struct {
	g       *refreshGrant
	expires int64 // packTime
	used    int64 // packTime; noTime: not used yet
}

type refreshGrant struct {
	key                     string
	clientID, userID, mode  string
	vehicleIDs, permissions []string
	refs                    int
}

type usedRef struct {
	k    tokenKey
	used int64
}

func newRefreshTokens() *refreshTokens {
	return &refreshTokens{recs: make(map[tokenKey]refreshRec), grants: make(map[string]*refreshGrant)}
}

func (rt *refreshTokens) len() int { return len(rt.recs) }

// put stores t, replacing a token with the same text.
func (rt *refreshTokens) put(t sandbox.RefreshToken) {
	k := keyOf(t.Token)
	if old, ok := rt.recs[k]; ok {
		rt.release(old.g)
	}
	rt.recs[k] = refreshRec{g: rt.intern(t), expires: packTime(t.ExpiresAt), used: packTime(t.UsedAt)}
}

func (rt *refreshTokens) get(token string) (sandbox.RefreshToken, bool) {
	k := keyOf(token)
	r, ok := rt.recs[k]
	if !ok {
		return sandbox.RefreshToken{}, false
	}
	return r.token(k), true
}

// markUsed records the first use of a stored token at at.
func (rt *refreshTokens) markUsed(token string, at time.Time) {
	k := keyOf(token)
	r, ok := rt.recs[k]
	if !ok {
		return
	}
	r.used = packTime(at)
	rt.recs[k] = r
	rt.used = append(rt.used, usedRef{k: k, used: r.used})
}

// setExpires changes a stored token's expiry; false if there is no such token.
func (rt *refreshTokens) setExpires(token string, at time.Time) (sandbox.RefreshToken, bool) {
	k := keyOf(token)
	r, ok := rt.recs[k]
	if !ok {
		return sandbox.RefreshToken{}, false
	}
	r.expires = packTime(at)
	rt.recs[k] = r
	return r.token(k), true
}

// deleteIf drops every token for which drop (given the record, unpacked lazily) says so.
func (rt *refreshTokens) deleteIf(drop func(k tokenKey, r refreshRec) bool) {
	for k, r := range rt.recs {
		if drop(k, r) {
			rt.release(r.g)
			delete(rt.recs, k)
		}
	}
}

// all unpacks every token (for snapshots and the admin API).
func (rt *refreshTokens) all() []sandbox.RefreshToken {
	out := make([]sandbox.RefreshToken, 0, len(rt.recs))
	for k, r := range rt.recs {
		out = append(out, r.token(k))
	}
	return out
}

// pruneUsed drops the tokens first used longer than grace before now, oldest use first, and
// stops at the first one still in its grace: O(dropped), not O(tokens).
func (rt *refreshTokens) pruneUsed(now time.Time, grace time.Duration) {
	limit := packTime(now.Add(-grace)) // used before this: grace over
	n := 0
	for ; n < len(rt.used); n++ {
		u := rt.used[n]
		if u.used >= limit {
			break
		}
		// The token may be gone already (revoked, reset, swept); only drop it if the stored
		// record is still the one used at that time.
		if r, ok := rt.recs[u.k]; ok && r.used == u.used {
			rt.release(r.g)
			delete(rt.recs, u.k)
		}
		rt.used[n] = usedRef{}
	}
	if n > 0 {
		rt.used = rt.used[n:]
	}
}

func (r refreshRec) token(k tokenKey) sandbox.RefreshToken {
	return sandbox.RefreshToken{Token: k.String(), ClientID: r.g.clientID, UserID: r.g.userID,
		VehicleIDs: r.g.vehicleIDs, Permissions: r.g.permissions, Mode: r.g.mode,
		ExpiresAt: unpackTime(r.expires), UsedAt: unpackTime(r.used)}
}

func (rt *refreshTokens) intern(t sandbox.RefreshToken) *refreshGrant {
	key := refreshGrantKey(t)
	g, ok := rt.grants[key]
	if !ok {
		// Own copies of the lists: the caller may reuse its slices.
		g = &refreshGrant{key: key, clientID: t.ClientID, userID: t.UserID, mode: t.Mode,
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
	for _, s := range []string{t.ClientID, t.UserID, t.Mode} {
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

func keyOf(token string) tokenKey {
	if u, ok := parseCanonicalUUID(token); ok {
		return tokenKey{uuid: u}
	}
	return tokenKey{text: token}
}

// String is the token's text.
func (k tokenKey) String() string {
	if k.text != "" || k.uuid == ([16]byte{}) {
		return k.text
	}
	const hexDigits = "0123456789abcdef"
	var b [36]byte
	j := 0
	for i, x := range k.uuid {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = hexDigits[x>>4], hexDigits[x&0xf]
		j += 2
	}
	return string(b[:])
}

// parseCanonicalUUID accepts exactly the form String writes (lower-case hex, 8-4-4-4-12), so
// a key always gives back the very text it was made from. The all-zero UUID is refused: the
// zero key stands for the empty token.
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
	return u, u != [16]byte{}
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
