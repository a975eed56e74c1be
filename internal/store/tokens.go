package store

import (
	"sort"
	"strings"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/token"
)

// This file holds what the admin API needs beyond the Smartcar doors: a bounded record of the
// access tokens issued (tokens are stateless JWTs, so without it nobody could list them),
// early expiry of tokens and codes to test refresh paths, and reloading fixtures without
// logging everybody out.

// MaxIssuedTokens bounds the record of issued access tokens; the oldest are forgotten first.
// A forgotten token keeps working; it just cannot be listed, expired or revoked by id.
const MaxIssuedTokens = 1000

// IssuedToken is an access token the issuer minted, as the admin API lists it.
type IssuedToken struct {
	ID          string    `json:"id"` // the JWT id (jti)
	Kind        string    `json:"kind"`
	ClientID    string    `json:"clientId"`
	UserID      string    `json:"userId,omitempty"`
	VehicleIDs  []string  `json:"vehicleIds,omitempty"`
	Permissions []string  `json:"permissions,omitempty"`
	IssuedAt    time.Time `json:"issuedAt"`
	ExpiresAt   time.Time `json:"expiresAt"`
	// Authorization is the number of the Connect approval a vehicle token comes from (0 for
	// application tokens): revoking the token revokes it (see RevokeAuthorization).
	Authorization uint64 `json:"authorization,omitempty"`
}

// IssuedFromClaims is what the store remembers of an access token with claims c.
func IssuedFromClaims(c *token.Claims) IssuedToken {
	t := IssuedToken{ID: c.ID, Kind: c.Kind, ClientID: c.ClientID, UserID: c.UserID(),
		VehicleIDs: c.VehicleIDs, Permissions: c.Permissions, Authorization: c.Authorization}
	if c.IssuedAt != nil {
		t.IssuedAt = c.IssuedAt.Time.UTC()
	}
	if c.ExpiresAt != nil {
		t.ExpiresAt = c.ExpiresAt.Time.UTC()
	}
	return t
}

// Mint makes the access token a token request hands out with the refresh token rt: its
// claims, not signed yet. RedeemCode and RotateRefreshToken call it inside their transaction,
// under the store's lock (so it must not call the store), and record the token (see
// IssuedTokens) in that same transaction, so a token request is one commit; the claims come
// back marked Recorded, for the caller to sign once the transaction is committed. A nil Mint
// mints nothing.
type Mint func(rt sandbox.RefreshToken) *token.Claims

// mint records the access token m makes for rt, if any.
func (t *tx) mint(m Mint, rt sandbox.RefreshToken) {
	if m == nil {
		return
	}
	c := m(rt)
	t.recordIssued(IssuedFromClaims(c))
	c.Recorded = true
}

// RecordIssuedToken remembers an issued access token.
func (s *Store) RecordIssuedToken(t IssuedToken) error {
	return s.tx(func(tx *tx) error {
		tx.recordIssued(t)
		return nil
	})
}

func (tx *tx) recordIssued(t IssuedToken) {
	s := tx.s
	t.VehicleIDs = append([]string(nil), t.VehicleIDs...)
	t.Permissions = append([]string(nil), t.Permissions...)
	if tx.durable {
		tx.undo = append(tx.undo, s.capture(kindIssued, ""))
	}
	s.issuedSeq++
	rec := issuedRec{Seq: s.issuedSeq, Token: t}
	s.issued = append(s.issued, rec)
	if tx.durable { // the keys cost a Sprintf each
		tx.write(kindIssued, rec.key(), rec)
	}
	// Drop the oldest by re-slicing: copying the 1,000 kept records into a new array on
	// every token issued (as this did) made each token response allocate ~170 KB. append
	// reallocates only when the capacity left over runs out, so the copying is amortised.
	if n := len(s.issued) - MaxIssuedTokens; n > 0 {
		if tx.durable {
			for _, gone := range s.issued[:n] {
				tx.write(kindIssued, gone.key(), nil)
			}
		} else {
			clear(s.issued[:n]) // let the dropped records' strings go (undo needs them)
		}
		s.issued = s.issued[n:]
	}
	now := s.now()
	for k, exp := range s.expiredNow {
		if now.After(exp) {
			tx.touch(kindExpiredNow, k)
			delete(s.expiredNow, k)
		}
	}
}

// IssuedTokens lists the remembered access tokens, newest first.
func (s *Store) IssuedTokens() []IssuedToken {
	s.catchUp()
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]IssuedToken, 0, len(s.issued))
	for i := len(s.issued) - 1; i >= 0; i-- {
		out = append(out, s.issued[i].Token)
	}
	return out
}

// IssuedToken finds a remembered access token by id.
func (s *Store) IssuedToken(jti string) (IssuedToken, bool) {
	s.catchUp()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.issuedLocked(jti)
}

func (s *Store) issuedLocked(jti string) (IssuedToken, bool) {
	for i := len(s.issued) - 1; i >= 0; i-- {
		if s.issued[i].Token.ID == jti {
			return s.issued[i].Token, true
		}
	}
	return IssuedToken{}, false
}

// ExpireAccessToken makes a remembered access token expired from now on (ErrNotFound for an
// id the store does not remember).
func (s *Store) ExpireAccessToken(jti string) error {
	return s.tx(func(tx *tx) error {
		t, ok := s.issuedLocked(jti)
		if !ok {
			return ErrNotFound
		}
		if s.expiredNow == nil {
			s.expiredNow = make(map[string]time.Time)
		}
		tx.touch(kindExpiredNow, jti)
		s.expiredNow[jti] = t.ExpiresAt
		return nil
	})
}

// Codes lists the authorization codes not yet used, soonest expiry first.
func (s *Store) Codes() []sandbox.AuthCode {
	s.catchUp()
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]sandbox.AuthCode, 0, len(s.codes))
	for _, c := range s.codes {
		if c.UsedAt.IsZero() {
			out = append(out, *c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].ExpiresAt.Equal(out[j].ExpiresAt) {
			return out[i].ExpiresAt.Before(out[j].ExpiresAt)
		}
		return out[i].Code < out[j].Code
	})
	return out
}

// RefreshTokens lists the stored refresh tokens, soonest expiry first.
func (s *Store) RefreshTokens() []sandbox.RefreshToken {
	s.catchUp()
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := s.refresh.all()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].ExpiresAt.Equal(out[j].ExpiresAt) {
			return out[i].ExpiresAt.Before(out[j].ExpiresAt)
		}
		return out[i].Token < out[j].Token
	})
	return out
}

// expiredAt is a moment just before now: expiry checks use "now is not before ExpiresAt", and
// a second of margin keeps that true whatever the caller's clock rounding.
func (s *Store) expiredAt() time.Time { return s.now().Add(-time.Second).UTC() }

// ExpireCode makes an authorization code not yet used expired now (it stays stored, so the
// token endpoint still knows it).
func (s *Store) ExpireCode(code string) (sandbox.AuthCode, error) {
	var out sandbox.AuthCode
	err := s.tx(func(t *tx) error {
		c, ok := s.codes[code]
		if !ok || !c.UsedAt.IsZero() {
			return ErrNotFound
		}
		t.touch(kindCode, code)
		c.ExpiresAt = s.expiredAt()
		out = *c
		return nil
	})
	if err != nil {
		return sandbox.AuthCode{}, err
	}
	return out, nil
}

// ExpireRefreshToken makes a refresh token expired now.
func (s *Store) ExpireRefreshToken(tok string) (sandbox.RefreshToken, error) {
	var out sandbox.RefreshToken
	err := s.tx(func(t *tx) error {
		r, ok := s.refresh.rec(tok)
		if !ok {
			return ErrNotFound
		}
		at := s.expiredAt()
		t.touchRefresh(r.expires, tok) // the record moves to the key of its new expiry
		t.touchRefresh(packTime(at), tok)
		out, _ = s.refresh.setExpires(tok, at)
		return nil
	})
	if err != nil {
		return sandbox.RefreshToken{}, err
	}
	return out, nil
}

// ReloadResult says what a Reload kept, set aside and brought back.
type ReloadResult struct {
	GrantsKept int `json:"grantsKept"`
	// GrantsRestored counts grants an earlier reload set aside whose vehicle is back.
	GrantsRestored int `json:"grantsRestored"`
	// GrantsDropped counts grants this reload set aside because their vehicle is gone;
	// DroppedVehicleIDs (sorted) are those vehicles.
	GrantsDropped     int      `json:"grantsDropped"`
	DroppedVehicleIDs []string `json:"droppedVehicleIds,omitempty"`
	// GrantsWaiting counts every grant set aside, by this reload or earlier ones, still
	// waiting for its vehicle.
	GrantsWaiting int `json:"grantsWaiting"`
}

// Reload replaces the fixtures with ds without logging everyone out: applications, fixture
// accounts and vehicles (with their state) come from ds; generated garages, codes, refresh
// tokens, revocations and issued tokens stay; grants stay where their vehicle still exists, so
// an access token for such a vehicle keeps working.
//
// A grant whose vehicle is gone is set aside, not deleted, and comes back when a later
// reload brings the vehicle back: an editor that empties a file before writing it anew, or
// a file saved half-way, must not log every user out for good. Set-aside grants are kept in
// memory only, and Reset and Disconnect clear them like any grant.
func (s *Store) Reload(ds sandbox.Dataset) (ReloadResult, error) {
	var res ReloadResult
	err := s.tx(func(t *tx) error {
		t.replaceAll()
		res = s.reloadLocked(ds)
		return nil
	})
	if err != nil {
		return ReloadResult{}, err
	}
	return res, nil
}

func (s *Store) reloadLocked(ds sandbox.Dataset) ReloadResult {
	oldGrants, oldParked, oldCodes, oldRefresh := s.grants, s.parked, s.codes, s.refresh
	var generated []sandbox.Account
	for _, a := range s.accounts {
		if a.Generated {
			generated = append(generated, *a)
		}
	}
	oldVehicles := s.vehicles
	s.fixtures = ds
	s.seed(ds)
	for _, a := range generated {
		if _, taken := s.accounts[strings.ToLower(a.Username)]; taken {
			continue // the fixtures now name this user: they win
		}
		for _, id := range a.VehicleIDs {
			if v, ok := oldVehicles[id]; ok {
				if _, exists := s.vehicles[id]; !exists {
					s.vehicles[id] = v
				}
			}
		}
		s.putAccountLocked(a)
	}
	var res ReloadResult
	parked := make(map[grantKey]*sandbox.Grant)
	dropped := make(map[string]bool)
	for k, g := range oldGrants {
		if _, ok := s.vehicles[g.VehicleID]; ok {
			s.grants[k] = g
			res.GrantsKept++
			continue
		}
		parked[k] = g
		res.GrantsDropped++
		dropped[g.VehicleID] = true
	}
	for k, g := range oldParked {
		if _, ok := s.vehicles[g.VehicleID]; !ok {
			parked[k] = g
			continue
		}
		if _, newer := s.grants[k]; !newer {
			s.grants[k] = g
			res.GrantsRestored++
		}
	}
	s.parked = parked
	res.GrantsWaiting = len(parked)
	for id := range dropped {
		res.DroppedVehicleIDs = append(res.DroppedVehicleIDs, id)
	}
	sort.Strings(res.DroppedVehicleIDs)
	s.codes, s.refresh = oldCodes, oldRefresh
	return res
}
