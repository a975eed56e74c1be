package scapi

import (
	"errors"
	"net/http"
	"strings"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/token"
)

// Auth checks bearer tokens against the issuer and the store's grants.
type Auth struct {
	Tokens *token.Issuer
	Store  *store.Store
}

// Access is what an authorized vehicle request may do.
type Access struct {
	Claims      *token.Claims
	UserID      string
	Permissions []string
	Vehicle     sandbox.Vehicle
}

// Has reports whether the access includes the permission.
func (a *Access) Has(permission string) bool {
	for _, p := range a.Permissions {
		if p == permission {
			return true
		}
	}
	return false
}

// Bearer verifies the request's bearer token. A token whose authorization ended (the token
// itself disconnected its last vehicle, a replayed code, an admin revoke) is refused by verify,
// everywhere. A token whose vehicles were disconnected another way (the management API) or
// reconnected under a new grant it does not reach still authenticates: the vehicle routes
// refuse it per vehicle, and /user and /vehicles answer (an empty list), as Smartcar does.
func (a *Auth) Bearer(r *http.Request) (*token.Claims, error) {
	return a.verify(r)
}

// verify checks the bearer token itself: signature, expiry and early ends (revocation, admin
// expiry). What it may reach is the caller's check.
func (a *Auth) verify(r *http.Request) (*token.Claims, error) {
	h := r.Header.Get("Authorization")
	scheme, raw, ok := strings.Cut(h, " ")
	if h == "" {
		return nil, sandbox.Unauthenticated("No Authorization header was sent; use 'Authorization: Bearer <access token>'.")
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return nil, sandbox.Unauthenticated("The Authorization header must be 'Bearer <access token>'.")
	}
	c, err := a.Tokens.Verify(strings.TrimSpace(raw))
	if err != nil {
		msg := "The access token is not one this sandbox issued."
		if errors.Is(err, token.ErrExpired) {
			msg = "The access token has expired; use the refresh token to get a new one."
		}
		return nil, sandbox.Unauthenticated(msg)
	}
	revoked, expired := a.Store.AccessTokenEnded(c.ID, c.Authorization)
	if revoked { // by id, or its whole authorization (code replay, admin revoke)
		return nil, sandbox.Unauthenticated("The access token was revoked.")
	}
	if expired { // expired early through the admin API
		return nil, sandbox.Unauthenticated("The access token has expired; use the refresh token to get a new one.")
	}
	return c, nil
}

// UserFromVehicleToken is for endpoints that need a Connect token and a user (e.g. /user,
// /vehicles): application tokens are refused there.
func (a *Auth) UserFromVehicleToken(r *http.Request) (*token.Claims, error) {
	c, err := a.Bearer(r)
	if err != nil {
		return nil, err
	}
	if c.Kind != token.KindVehicle {
		return nil, sandbox.Unauthenticated("This endpoint needs an access token from Connect, not an application token.")
	}
	return c, nil
}

// Accepts says which tokens a vehicle route takes.
type Accepts int

const (
	// ConnectOnly: Connect (vehicle) tokens, as API v2.0 and v1.0 take.
	ConnectOnly Accepts = iota
	// ConnectOrApp: Connect tokens, or application tokens scoped by the sc-user-id header (v3).
	ConnectOrApp
)

// Vehicle authorizes a request for one vehicle and, when permission is not "", one
// permission. It accepts Connect (vehicle) tokens; with ConnectOrApp it also accepts application
// tokens scoped by the sc-user-id header (API v3). The grant in the store is checked on every
// call, which is what makes a disconnect take effect before the token expires.
func (a *Auth) Vehicle(r *http.Request, vehicleID, permission string, accept Accepts) (*Access, error) {
	c, err := a.verify(r) // the grant of vehicleID is checked below: Bearer's check would repeat it
	if err != nil {
		return nil, err
	}
	return a.Authorize(r, c, vehicleID, permission, accept)
}

// Authorize is Vehicle after the bearer token was verified (c): the grant, the vehicle and the
// permission. Handlers that validate the request between the two call Bearer and Authorize
// themselves, so a malformed request is a VALIDATION error before any lookup or permission.
func (a *Auth) Authorize(r *http.Request, c *token.Claims, vehicleID, permission string, accept Accepts) (*Access, error) {
	acc := &Access{Claims: c}
	switch c.Kind {
	case token.KindVehicle:
		if !c.HasVehicle(vehicleID) {
			return nil, sandbox.Errorf(sandbox.TypePermission, "", "This access token does not grant access to vehicle %s.", vehicleID)
		}
		if !a.connectAccess(acc, vehicleID) {
			return nil, sandbox.Unauthenticated("The vehicle was disconnected from this application; reconnect it through Connect.")
		}
	case token.KindApplication:
		if err := a.applicationAccess(r, acc, vehicleID, accept); err != nil {
			return nil, err
		}
	}
	if !a.Store.VehicleInto(vehicleID, &acc.Vehicle) {
		return nil, sandbox.Errorf(sandbox.TypeResourceNotFound, "PATH", "Vehicle %s does not exist in this sandbox.", vehicleID)
	}
	if permission != "" && !acc.Has(permission) {
		return nil, sandbox.Errorf(sandbox.TypePermission, "", "This request needs the %s permission, which was not granted for vehicle %s.", permission, vehicleID)
	}
	return acc, nil
}

// connectAccess fills acc for a Connect token from the grant in the store; false when the
// token does not reach it: the grant is gone, or was made after the token's authorization (a
// disconnect and a new Connect), see store.TokenGrant.
func (a *Auth) connectAccess(acc *Access, vehicleID string) bool {
	c := acc.Claims
	g, ok := a.Store.TokenGrant(c.ClientID, c.UserID(), vehicleID, c.Authorization)
	if !ok {
		return false
	}
	acc.UserID = c.UserID()
	// The token's permissions are what the user approved for this token; the grant may
	// have been narrowed since by a later Connect, so take the intersection. Usually the
	// grant still has them all, and the token's own list (parsed for this request) is it.
	acc.Permissions = intersect(c.Permissions, g.Permissions)
	return true
}

// applicationAccess fills acc for an application token (API v3), scoped by the sc-user-id
// header.
func (a *Auth) applicationAccess(r *http.Request, acc *Access, vehicleID string, accept Accepts) error {
	if accept != ConnectOrApp {
		return sandbox.Unauthenticated("This endpoint needs an access token from Connect, not an application token.")
	}
	userID := strings.TrimSpace(r.Header.Get("Sc-User-Id")) // canonical key: see UnitsOf
	if userID == "" {
		return sandbox.Errorf(sandbox.TypeValidation, "PARAMETER", "The sc-user-id header is required with an application token: name the user who connected vehicle %s.", vehicleID)
	}
	g, ok := a.Store.Grant(acc.Claims.ClientID, userID, vehicleID)
	if !ok {
		return sandbox.Errorf(sandbox.TypePermission, "", "User %s has not connected vehicle %s to this application.", userID, vehicleID)
	}
	acc.UserID = userID
	acc.Permissions = g.Permissions
	return nil
}

// intersect returns the elements of have that are also in allowed, in have's order (with
// have's repeats). When that is all of have it returns have itself rather than a copy.
func intersect(have, allowed []string) []string {
	in := func(p string) bool {
		for _, q := range allowed {
			if p == q {
				return true
			}
		}
		return false
	}
	for i, p := range have {
		if !in(p) {
			out := append([]string(nil), have[:i]...)
			for _, p := range have[i+1:] {
				if in(p) {
					out = append(out, p)
				}
			}
			return out
		}
	}
	return have
}
