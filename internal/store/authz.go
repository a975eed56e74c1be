package store

import (
	"errors"
	"strconv"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/token"
)

// This file holds the life of an authorization. Each Connect approval gets a number (its code
// carries it); the code is exchanged once for the first refresh token of a chain, each refresh
// rotates the chain, and every access token minted on the way carries the number too. Two
// things end tokens before they expire:
//
//   - A disconnect ends grants. A grant records the number current when its connection began
//     (sandbox.Grant.Generation), and a token reaches a grant only if its own number is not
//     lower: so tokens issued before a disconnect never reach the grant a later Connect makes.
//   - A replayed code (RFC 6749 §4.1.2) or an admin revoke ends the authorization itself: its
//     refresh tokens are deleted and its number is refused until its access tokens expire.
//
// Every check runs under the store's lock together with the change it guards, so a refused
// request changes nothing and two racing requests cannot both pass a check meant for one.

// ErrExpired is returned for an expired code or token.
var ErrExpired = errors.New("expired")

// ErrRefreshUsed is returned for a refresh token used longer ago than the grace period and not
// yet forgotten. The store forgets a used token soon after its grace period (by the next
// sweep, see tx.prune), so such a token then gives ErrNotFound: a caller must treat both
// alike (the token endpoint answers invalid_grant to both).
var ErrRefreshUsed = errors.New("refresh token already used")

// ErrCodeUsed is returned when an authorization code is presented again by its application;
// the presentation has revoked every token issued from the code.
var ErrCodeUsed = errors.New("authorization code already used")

// ErrGrantEnded is returned when every vehicle of a code or refresh token has been
// disconnected since it was issued.
var ErrGrantEnded = errors.New("every vehicle of the authorization was disconnected")

// Authorize hands out a new authorization number. Tokens that carry it reach every grant that
// exists now, for as long as it lasts. SaveCode takes one for each code; tests that mint
// tokens without going through Connect take one here.
func (s *Store) Authorize() (uint64, error) {
	var n uint64
	err := s.tx(func(t *tx) error {
		n = t.nextAuthorization()
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

func (t *tx) nextAuthorization() uint64 {
	t.touch(kindMeta, metaAuthSeq)
	t.s.authSeq++
	return t.s.authSeq
}

// --- authorization codes ---

// SaveCode stores an authorization code under a new authorization number (the Authorization
// and UsedAt given are replaced). Call it after Connect has recorded the code's grants.
func (s *Store) SaveCode(c sandbox.AuthCode) error {
	return s.tx(func(t *tx) error {
		c.Authorization, c.UsedAt = t.nextAuthorization(), time.Time{}
		t.touch(kindCode, c.Code)
		s.codes[c.Code] = &c
		t.prune()
		return nil
	})
}

// ConsumeCode removes and returns a code not yet used, so a second call finds nothing (tests
// read what Connect put in a code with it; the token endpoint uses RedeemCode).
func (s *Store) ConsumeCode(code string) (sandbox.AuthCode, error) {
	var out sandbox.AuthCode
	err := s.tx(func(t *tx) error {
		c, ok := s.codes[code]
		if !ok || !c.UsedAt.IsZero() {
			return ErrNotFound
		}
		out = *c
		t.touch(kindCode, code)
		delete(s.codes, code)
		return nil
	})
	if err != nil {
		return sandbox.AuthCode{}, err
	}
	return out, nil
}

// RedeemCode exchanges clientID's authorization code for the first refresh token of its
// chain, which expires after refreshTTL; the change is saved before it returns. check is the
// caller's own test of the code (expiry, redirect_uri); it runs under the store's lock (so it
// must not call the store), and an error from it is returned as is. The access token mint
// makes with the refresh token is recorded in the same transaction (see Mint). Errors:
//
//   - ErrNotFound: no such code, or another application's (which is left as it was: only
//     its own application may use it, or end what it gave by replaying it).
//   - ErrCodeUsed: the code was exchanged before; this replay has revoked its authorization.
//   - ErrGrantEnded: every vehicle of the code was disconnected since.
//
// On any error but ErrCodeUsed nothing changed. The returned token's lists are shared with
// the store: do not change them.
func (s *Store) RedeemCode(code, clientID string, check func(sandbox.AuthCode) error, mint Mint) (sandbox.RefreshToken, error) {
	text := sandbox.NewUUID() // outside the lock: the common case needs it
	now := s.now().UTC()
	var out sandbox.RefreshToken
	replayed := false
	err := s.tx(func(t *tx) error {
		c, ok := s.codes[code]
		if !ok || c.ClientID != clientID {
			return ErrNotFound
		}
		if !c.UsedAt.IsZero() {
			t.revokeAuthorization(c.Authorization)
			replayed = true
			return nil
		}
		if err := check(*c); err != nil {
			return err
		}
		vehicles := s.connectedLocked(c.ClientID, c.UserID, c.VehicleIDs, c.Authorization)
		if len(vehicles) == 0 {
			return ErrGrantEnded
		}
		t.touch(kindCode, code)
		c.UsedAt = now
		out = sandbox.RefreshToken{Token: text, ClientID: c.ClientID, UserID: c.UserID, VehicleIDs: vehicles,
			Permissions: c.Permissions, Mode: c.Mode, ExpiresAt: now.Add(s.refreshTTL), Authorization: c.Authorization}
		t.touchRefresh(packTime(out.ExpiresAt), text)
		s.refresh.put(out)
		t.mint(mint, out)
		t.prune()
		return nil
	})
	switch {
	case err != nil:
		return sandbox.RefreshToken{}, err
	case replayed:
		return sandbox.RefreshToken{}, ErrCodeUsed
	}
	return out, nil
}

// --- refresh tokens ---

// SaveRefreshToken stores a refresh token as given (tests and tools; the token endpoint's
// come from RedeemCode and RotateRefreshToken).
func (s *Store) SaveRefreshToken(rt sandbox.RefreshToken) error {
	return s.tx(func(t *tx) error {
		if r, ok := s.refresh.rec(rt.Token); ok {
			t.touchRefresh(r.expires, rt.Token) // the record it replaces, under another key if its expiry differs
		}
		t.touchRefresh(packTime(rt.ExpiresAt), rt.Token)
		s.refresh.put(rt)
		t.prune()
		return nil
	})
}

// RotateRefreshToken uses clientID's refresh token and returns its successor, which expires
// after Options.RefreshTTL and covers the vehicles still connected; the change is saved
// before it returns. A token already used returns, within Options.RefreshGrace of its first
// use (Smartcar: one minute), the very successor that first use made, so retries and racing
// requests never fork the chain. The access token mint makes with the successor is recorded
// in the same transaction (see Mint).
// Errors, on which nothing changed:
//
//   - ErrNotFound: no such token (or forgotten after its grace), or another application's.
//   - ErrExpired, ErrRefreshUsed (used longer than grace ago), ErrGrantEnded.
//
// The returned token's lists are shared with the store: do not change them.
func (s *Store) RotateRefreshToken(tok, clientID string, mint Mint) (sandbox.RefreshToken, error) {
	text := sandbox.NewUUID() // outside the lock: the common case needs it
	next, _ := parseCanonicalUUID(text)
	now := packTime(s.now())
	var out sandbox.RefreshToken
	err := s.tx(func(t *tx) error {
		r, ok := s.refresh.rec(tok)
		if !ok || r.g.clientID != clientID {
			return ErrNotFound
		}
		if now >= r.expires {
			return ErrExpired
		}
		if r.used != noTime {
			var err error
			if out, err = s.successorLocked(r, now); err == nil {
				t.mint(mint, out)
			}
			return err
		}
		vehicles := s.connectedLocked(r.g.clientID, r.g.userID, r.g.vehicleIDs, r.g.authorization)
		if len(vehicles) == 0 {
			return ErrGrantEnded
		}
		expires := now + int64(s.refreshTTL)
		t.touchRefresh(expires, text)
		t.touchRefresh(r.expires, tok)
		if len(vehicles) == len(r.g.vehicleIDs) {
			s.refresh.putUUID(next, r.g, expires) // same chain record: no key to build
		} else {
			s.refresh.put(sandbox.RefreshToken{Token: text, ClientID: r.g.clientID, UserID: r.g.userID, VehicleIDs: vehicles,
				Permissions: r.g.permissions, Mode: r.g.mode, ExpiresAt: unpackTime(expires), Authorization: r.g.authorization})
		}
		s.refresh.markUsed(tok, now, next)
		out = s.refresh.uuids.recs[next].token(text)
		t.mint(mint, out)
		t.prune()
		return nil
	})
	if err != nil {
		return sandbox.RefreshToken{}, err
	}
	return out, nil
}

// successorLocked answers a used refresh token (r) presented again at now: its successor while
// within the grace of its first use, with the vehicles still connected.
func (s *Store) successorLocked(r refreshRec, now int64) (sandbox.RefreshToken, error) {
	if now-r.used > int64(s.refreshGrace) {
		return sandbox.RefreshToken{}, ErrRefreshUsed
	}
	nr, ok := s.refresh.uuids.recs[r.next]
	if r.next == ([16]byte{}) || !ok {
		// The successor is gone (its authorization was revoked, or it was saved by hand
		// without one): there is nothing to hand out again.
		return sandbox.RefreshToken{}, ErrRefreshUsed
	}
	vehicles := s.connectedLocked(nr.g.clientID, nr.g.userID, nr.g.vehicleIDs, nr.g.authorization)
	if len(vehicles) == 0 {
		return sandbox.RefreshToken{}, ErrGrantEnded
	}
	out := nr.token(sandbox.FormatUUID(r.next))
	out.VehicleIDs = vehicles
	return out, nil
}

// dropUnusableRefreshTokens deletes clientID's refresh tokens that no longer reach any
// grant (after a disconnect): a grant made later has a higher generation than they can pass,
// so they can never be used again.
func (t *tx) dropUnusableRefreshTokens(clientID string) {
	s := t.s
	var dead map[*refreshGrant]bool
	for _, g := range s.refresh.grants {
		if g.clientID == clientID && !s.anyConnectedLocked(g.clientID, g.userID, g.vehicleIDs, g.authorization) {
			if dead == nil {
				dead = make(map[*refreshGrant]bool)
			}
			dead[g] = true
		}
	}
	if dead != nil {
		t.deleteRefreshIf(func(r refreshRec) bool { return dead[r.g] })
	}
}

// --- what a token may reach ---

// usable reports whether a token of authorization may use grant g: it must have been issued
// no earlier than the connection g belongs to began.
func usable(g *sandbox.Grant, authorization uint64) bool { return g.Generation <= authorization }

// TokenGrant returns the grant of a user's vehicle to an application if a token of
// authorization may use it (see usable).
func (s *Store) TokenGrant(clientID, userID, vehicleID string, authorization uint64) (sandbox.Grant, bool) {
	s.catchUp()
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, ok := s.grants[grantKey{clientID, userID, vehicleID}]
	if !ok || !usable(g, authorization) {
		return sandbox.Grant{}, false
	}
	return *g, true
}

// ConnectedVehicles returns the ids among ids whose grant a token of authorization may use, in
// order: ids itself when that is all of them (no copy), an empty list when none.
func (s *Store) ConnectedVehicles(clientID, userID string, ids []string, authorization uint64) []string {
	s.catchUp()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.connectedLocked(clientID, userID, ids, authorization)
}

func (s *Store) connectedLocked(clientID, userID string, ids []string, authorization uint64) []string {
	var out []string
	for i, id := range ids {
		if g, ok := s.grants[grantKey{clientID, userID, id}]; ok && usable(g, authorization) {
			if out != nil {
				out = append(out, id)
			}
			continue
		}
		if out == nil {
			out = append(make([]string, 0, len(ids)), ids[:i]...)
		}
	}
	if out == nil {
		return ids
	}
	return out
}

func (s *Store) anyConnectedLocked(clientID, userID string, ids []string, authorization uint64) bool {
	for _, id := range ids {
		if g, ok := s.grants[grantKey{clientID, userID, id}]; ok && usable(g, authorization) {
			return true
		}
	}
	return false
}

// --- revocation ---

// RevokeAccessToken marks an access token id as revoked until it would expire anyway.
func (s *Store) RevokeAccessToken(jti string, expiresAt time.Time) error {
	return s.tx(func(t *tx) error {
		t.touch(kindRevoked, jti)
		s.revoked[jti] = expiresAt
		return nil
	})
}

// RevokeAuthorization ends an authorization: its refresh tokens are deleted and its access
// tokens refused until the last of them has expired anyway. Number 0 (tokens from before
// authorizations were numbered) names no one authorization and is refused.
func (s *Store) RevokeAuthorization(authorization uint64) error {
	if authorization == 0 {
		return errors.New("store: authorization 0 cannot be revoked")
	}
	return s.tx(func(t *tx) error {
		t.revokeAuthorization(authorization)
		return nil
	})
}

func (t *tx) revokeAuthorization(authorization uint64) {
	if authorization == 0 {
		return
	}
	s := t.s
	// Its refresh tokens go now, so no access token of it is minted after this moment, and
	// the last one minted before expires within token.AccessTTL.
	t.touch(kindRevokedAuth, strconv.FormatUint(authorization, 10))
	s.revokedAuth[authorization] = s.now().Add(token.AccessTTL).UTC()
	t.deleteRefreshIf(func(r refreshRec) bool { return r.g.authorization == authorization })
}

// AccessTokenEnded reports whether an access token (id jti, of authorization) was revoked,
// by id or with its authorization, and whether the admin API expired it early. One lock for
// both: it runs on every API request.
func (s *Store) AccessTokenEnded(jti string, authorization uint64) (revoked, expired bool) {
	s.catchUp()
	s.mu.RLock()
	_, revoked = s.revoked[jti]
	if !revoked && authorization != 0 {
		_, revoked = s.revokedAuth[authorization]
	}
	_, expired = s.expiredNow[jti]
	s.mu.RUnlock()
	return revoked, expired
}
