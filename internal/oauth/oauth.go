// Package oauth is the sandbox's token endpoint (auth.smartcar.com/oauth/token): it
// authenticates the client, exchanges Connect's authorization codes and refresh tokens for
// access tokens, and mints client-credentials application tokens. Every failure is one Error
// rendered by writeError, in the RFC 6749 shape all official SDKs parse.
package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/token"
)

// Lifetimes Smartcar documents for refresh tokens.
const (
	RefreshTTL   = 60 * 24 * time.Hour // a refresh token expires after 60 days
	RefreshGrace = time.Minute         // a used refresh token keeps working this long
)

// Realm is sent in WWW-Authenticate with invalid_client.
const Realm = "smartcar-sandbox"

// Handler serves POST /oauth/token.
type Handler struct {
	store  *store.Store
	tokens *token.Issuer
	now    func() time.Time
}

// New returns the token endpoint. now is the clock codes expire by (nil means time.Now); the
// store and issuer carry their own clocks, which the server sets to the same one.
func New(st *store.Store, tokens *token.Issuer, now func() time.Time) *Handler {
	if now == nil {
		now = time.Now
	}
	return &Handler{store: st, tokens: tokens, now: now}
}

// Error is an OAuth error response.
type Error struct {
	Status      int
	Code        string // RFC 6749 error code
	Description string
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

func invalidRequest(desc string) *Error {
	return &Error{http.StatusBadRequest, "invalid_request", desc}
}

func invalidGrant(desc string) *Error {
	return &Error{http.StatusBadRequest, "invalid_grant", desc}
}

func invalidClient(desc string) *Error {
	return &Error{http.StatusUnauthorized, "invalid_client", desc}
}

// writeError is the one place an OAuth error is rendered.
func writeError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{http.StatusInternalServerError, "server_error", "The sandbox could not complete the request: " + err.Error()}
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+Realm+`"`)
	}
	writeJSON(w, e.Status, map[string]string{"error": e.Code, "error_description": e.Description})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	b, _ := json.Marshal(body) // only maps of strings and Response: cannot fail
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	// Token responses must never be cached (RFC 6749 §5.1).
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// Response is the token endpoint's success body. expires_in is an integer because the Java and
// Go SDKs fail on anything else; refresh_token is absent for client credentials.
type Response struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// ServeHTTP handles the token request. The ?flags= query the SDKs may add is ignored: only
// the form body is read.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	resp, err := h.serve(r)
	if err != nil {
		if e, ok := err.(*Error); ok && e.Status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", http.MethodPost)
		}
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (h *Handler) serve(r *http.Request) (*Response, error) {
	if r.Method != http.MethodPost {
		return nil, &Error{http.StatusMethodNotAllowed, "invalid_request", "The token endpoint only accepts POST, not " + r.Method + "."}
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, invalidRequest("The request body must be application/x-www-form-urlencoded.")
	}
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, invalidRequest("The request body is too large.")
		}
		return nil, invalidRequest("The request body is not a valid form: " + err.Error())
	}
	form := r.PostForm // never r.Form: the query (flags) must not supply credentials or codes
	for _, k := range []string{"grant_type", "code", "redirect_uri", "refresh_token", "client_id", "client_secret"} {
		if len(form[k]) > 1 {
			return nil, invalidRequest("The parameter " + k + " is repeated.")
		}
	}
	app, err := h.authenticate(r)
	if err != nil {
		return nil, err
	}
	switch gt := form.Get("grant_type"); gt {
	case "authorization_code":
		return h.exchangeCode(app, form.Get("code"), form.Get("redirect_uri"), form.Has("redirect_uri"))
	case "refresh_token":
		return h.refresh(app, form.Get("refresh_token"))
	case "client_credentials":
		tok, _, err := h.tokens.IssueApplication(app.ClientID)
		if err != nil {
			return nil, err
		}
		return &Response{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int(token.ApplicationTTL / time.Second)}, nil
	case "":
		return nil, invalidRequest("The grant_type parameter is missing.")
	default:
		return nil, &Error{http.StatusBadRequest, "unsupported_grant_type", "The grant_type " + quote(gt) + " is not supported; use authorization_code, refresh_token or client_credentials."}
	}
}

// authenticate checks HTTP Basic credentials, falling back to client_id/client_secret form
// fields (RFC 6749 §2.3.1 allows both; the SDKs use Basic).
func (h *Handler) authenticate(r *http.Request) (sandbox.Application, error) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		if r.Header.Get("Authorization") != "" {
			return sandbox.Application{}, invalidClient("The Authorization header is not valid HTTP Basic credentials.")
		}
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		if id == "" {
			return sandbox.Application{}, invalidClient("Client authentication is missing: send HTTP Basic base64(client_id:client_secret).")
		}
	}
	app, found := h.store.Application(id)
	// Compare fixed-length digests so neither the secret's content nor its length leaks through
	// timing; an unknown client compares against a dummy so it costs the same.
	want := sha256.Sum256([]byte(app.ClientSecret + "\x00" + id))
	got := sha256.Sum256([]byte(secret + "\x00" + id))
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 || !found || app.ClientSecret == "" {
		return sandbox.Application{}, invalidClient("Invalid client_id or client_secret.")
	}
	return app, nil
}

func (h *Handler) exchangeCode(app sandbox.Application, code, redirectURI string, sent bool) (*Response, error) {
	if code == "" {
		return nil, invalidRequest("The code parameter is missing.")
	}
	c, err := h.store.ConsumeCode(code)
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalidGrant("The authorization code is invalid or has already been used.")
	} else if err != nil {
		return nil, err
	}
	if c.ClientID != app.ClientID {
		return nil, invalidGrant("The authorization code was issued to another application.")
	}
	if !h.now().Before(c.ExpiresAt) {
		return nil, invalidGrant("The authorization code has expired; codes are valid for 10 minutes.")
	}
	if !redirectMatches(app, c.RedirectURI, redirectURI, sent) {
		return nil, invalidGrant("The redirect_uri does not match the one used to obtain the authorization code.")
	}
	vehicles := h.stillGranted(app.ClientID, c.UserID, c.VehicleIDs)
	if len(vehicles) == 0 {
		return nil, invalidGrant("The user disconnected every vehicle of this authorization.")
	}
	return h.issue(sandbox.RefreshToken{ClientID: app.ClientID, UserID: c.UserID, VehicleIDs: vehicles, Permissions: c.Permissions, Mode: c.Mode})
}

// redirectMatches decides whether the token request's redirect_uri fits the code. The Node SDK
// sends the literal "undefined" (and newer SDKs may send nothing) when no redirect URI was
// configured; that is accepted only when the code went to the app's one registered URI,
// which is the URI Connect would have defaulted to.
func redirectMatches(app sandbox.Application, issued, sent string, present bool) bool {
	if present && sent != "" && sent != "undefined" {
		return sent == issued
	}
	return len(app.RedirectURIs) == 1 && app.RedirectURIs[0] == issued
}

func (h *Handler) refresh(app sandbox.Application, rt string) (*Response, error) {
	if rt == "" {
		return nil, invalidRequest("The refresh_token parameter is missing.")
	}
	t, err := h.store.UseRefreshToken(rt, RefreshGrace)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, invalidGrant("The refresh token is invalid.")
	case errors.Is(err, store.ErrExpired):
		return nil, invalidGrant("The refresh token has expired; refresh tokens are valid for 60 days.")
	case errors.Is(err, store.ErrRefreshUsed):
		return nil, invalidGrant("The refresh token has already been used; a used refresh token stops working 1 minute after its first use.")
	case err != nil:
		return nil, err
	}
	if t.ClientID != app.ClientID {
		return nil, invalidGrant("The refresh token was issued to another application.")
	}
	vehicles := h.stillGranted(app.ClientID, t.UserID, t.VehicleIDs)
	if len(vehicles) == 0 {
		return nil, invalidGrant("Every vehicle of this refresh token has been disconnected.")
	}
	t.VehicleIDs = vehicles
	return h.issue(t)
}

// stillGranted keeps the vehicles whose grant still exists, so a disconnect takes effect on
// the next refresh too.
// When every vehicle is still granted it returns ids itself, so a refresh chain shares one
// list rather than copying it at every rotation.
func (h *Handler) stillGranted(clientID, userID string, ids []string) []string {
	var out []string
	for i, id := range ids {
		if _, ok := h.store.Grant(clientID, userID, id); ok {
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

// issue mints an access token and a fresh refresh token for what t describes.
func (h *Handler) issue(t sandbox.RefreshToken) (*Response, error) {
	at, _, err := h.tokens.IssueVehicle(token.VehicleGrant{ClientID: t.ClientID, UserID: t.UserID, VehicleIDs: t.VehicleIDs, Permissions: t.Permissions, Mode: t.Mode})
	if err != nil {
		return nil, err
	}
	next := sandbox.RefreshToken{
		Token:    sandbox.NewUUID(),
		ClientID: t.ClientID,
		UserID:   t.UserID,
		// Shared, not copied: nobody changes a token's lists in place (a refresh that loses
		// a vehicle builds a new list in stillGranted), and the store keeps one copy per
		// grant anyway, so a copy per rotation was only garbage.
		VehicleIDs:  t.VehicleIDs,
		Permissions: t.Permissions,
		Mode:        t.Mode,
		ExpiresAt:   h.now().Add(RefreshTTL).UTC(),
	}
	if err := h.store.SaveRefreshToken(next); err != nil {
		return nil, err
	}
	return &Response{AccessToken: at, TokenType: "Bearer", ExpiresIn: int(token.AccessTTL / time.Second), RefreshToken: next.Token}, nil
}

// quote shortens and quotes untrusted input echoed in a description.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	b, _ := json.Marshal(s)
	return string(b)
}
