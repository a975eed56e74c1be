// Package oauth is the sandbox's token endpoint (auth.smartcar.com/oauth/token): it
// authenticates the client, exchanges Connect's authorization codes and refresh tokens for
// access tokens, and mints client-credentials application tokens. Every failure is one Error
// rendered by writeError, in the RFC 6749 shape all official SDKs parse.
package oauth

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/mux"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/route"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/token"
)

// Realm is sent in WWW-Authenticate with invalid_client.
const Realm = "smartcar-sandbox"

// Handler serves POST /oauth/token, or (NewIAM) v3's POST /oauth2/token.
type Handler struct {
	store  *store.Store
	tokens *token.Issuer
	now    func() time.Time
	// iam makes this v3's application-token endpoint (iam.smartcar.com/oauth2/token): a form
	// or JSON body, client_credentials only. Smartcar's docs show the credentials in the body;
	// Basic is accepted too, by the same authenticate as /oauth/token.
	iam bool
	// OnGrant, when set, hears the grant_type of each successful answer (the metrics).
	OnGrant func(grantType string)
}

// New returns the token endpoint. now is the clock codes expire by (nil means time.Now); the
// store and issuer carry their own clocks, which the server sets to the same one.
func New(st *store.Store, tokens *token.Issuer, now func() time.Time) *Handler {
	if now == nil {
		now = time.Now
	}
	return &Handler{store: st, tokens: tokens, now: now}
}

// NewIAM returns v3's application-token endpoint (POST /oauth2/token): the same handler
// limited to client_credentials, reading a form or a JSON body.
func NewIAM(st *store.Store, tokens *token.Issuer, now func() time.Time) *Handler {
	h := New(st, tokens, now)
	h.iam = true
	return h
}

// The endpoints' paths: auth.smartcar.com/oauth/token, and v3's iam.smartcar.com/oauth2/token.
const (
	PathToken    = "/oauth/token"
	PathIAMToken = "/oauth2/token"
)

// Mount declares the endpoint on r (PathIAMToken for NewIAM's, else PathToken). Every method
// reaches the handler, so a GET gets the OAuth 405 JSON rather than the HTML 404.
func (h *Handler) Mount(r *mux.Router) {
	path := PathToken
	if h.iam {
		path = PathIAMToken
	}
	route.Handle(r, path, h)
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

// WriteError is the one place an OAuth error is rendered (the token endpoints, their faults,
// a panic under them): anything but an *Error is a 500 server_error.
func WriteError(w http.ResponseWriter, err error) {
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
		WriteError(w, err)
		return
	}
	h.granted(r.PostForm.Get("grant_type"))
	writeJSON(w, http.StatusOK, resp)
}

func (h *Handler) granted(grantType string) {
	if h.OnGrant != nil {
		h.OnGrant(grantType)
	}
}

func (h *Handler) serve(r *http.Request) (*Response, error) {
	if r.Method != http.MethodPost {
		return nil, &Error{http.StatusMethodNotAllowed, "invalid_request", "The token endpoint only accepts POST, not " + r.Method + "."}
	}
	if err := h.readBody(r); err != nil {
		return nil, err
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
	gt := form.Get("grant_type")
	if h.iam && gt != "client_credentials" && gt != "" {
		return nil, &Error{http.StatusBadRequest, "unsupported_grant_type", "The grant_type " + quote(gt) + " is not supported here; this endpoint issues application tokens: use client_credentials."}
	}
	switch gt {
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

// readBody fills r.PostForm from the body: a form, or for the IAM endpoint also a JSON object
// of strings (its documented schema), so authenticate and the grants read one place.
func (h *Handler) readBody(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if h.iam && err == nil && mt == "application/json" {
		return readJSONBody(r)
	}
	if err != nil || mt != "application/x-www-form-urlencoded" {
		if h.iam {
			return invalidRequest("The request body must be application/x-www-form-urlencoded or application/json.")
		}
		return invalidRequest("The request body must be application/x-www-form-urlencoded.")
	}
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return invalidRequest("The request body is too large.")
		}
		return invalidRequest("The request body is not a valid form: " + err.Error())
	}
	return nil
}

// readJSONBody reads {"grant_type": "...", "client_id": "...", "client_secret": "..."}. Every
// value must be a string; a key given twice is refused as in a form.
func readJSONBody(r *http.Request) error {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return invalidRequest("The request body is too large.")
		}
		return invalidRequest("The request body could not be read.")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return invalidRequest("The request body is not a JSON object.")
	}
	form := url.Values{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return invalidRequest("The request body is not valid JSON.")
		}
		k, _ := kt.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return invalidRequest("The request body is not valid JSON.")
		}
		s, ok := v.(string)
		if !ok {
			return invalidRequest("The parameter " + quote(k) + " must be a string.")
		}
		form.Add(k, s)
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return invalidRequest("The request body is not valid JSON.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalidRequest("The request body has data after the JSON object.")
	}
	r.PostForm = form
	return nil
}

// authenticate checks HTTP Basic credentials, falling back to client_id/client_secret form
// fields (RFC 6749 §2.3.1 allows both; the SDKs use Basic). A request may use one method only
// (§2.3): Basic with a client_secret in the form is refused. A client_id in the form next to
// Basic is only an identifier (as in §4.1.3) and is fine when it names the same client.
func (h *Handler) authenticate(r *http.Request) (sandbox.Application, error) {
	id, secret, ok := r.BasicAuth()
	if ok {
		if r.PostForm.Has("client_secret") {
			return sandbox.Application{}, invalidRequest("Send the client credentials once: either HTTP Basic or client_id and client_secret in the form, not both.")
		}
		if r.PostForm.Has("client_id") && r.PostForm.Get("client_id") != id {
			return sandbox.Application{}, invalidRequest("The client_id in the form is not the one in the Authorization header.")
		}
	} else {
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

// invalidCode is Smartcar's answer for any code that cannot be exchanged: unknown, used,
// expired, another application's, or one whose every vehicle was disconnected since.
func invalidCode(code string) *Error { return invalidGrant("Invalid code: " + shorten(code) + ".") }

// invalidRefreshToken is Smartcar's answer for any refresh token that cannot be used.
func invalidRefreshToken(tok string) *Error {
	return invalidGrant("Invalid refresh_token: " + shorten(tok) + ".")
}

// exchangeCode trades a code for tokens. Every check runs in the store together with using
// up the code, so a refused exchange leaves the code as it was, and a replay of a used code
// by its application ends every token issued from it (RFC 6749 §4.1.2).
func (h *Handler) exchangeCode(app sandbox.Application, code, redirectURI string, sent bool) (*Response, error) {
	if code == "" {
		return nil, invalidRequest("The code parameter is missing.")
	}
	var claims *token.Claims
	t, err := h.store.RedeemCode(code, app.ClientID, func(c sandbox.AuthCode) error {
		if !h.now().Before(c.ExpiresAt) { // codes live 10 minutes
			return invalidCode(code)
		}
		if !redirectMatches(app, c.RedirectURI, redirectURI, sent) {
			return invalidGrant("Unauthorized redirect_uri: " + shorten(redirectURI))
		}
		return nil
	}, h.mint(&claims))
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrCodeUsed) || errors.Is(err, store.ErrGrantEnded) {
		return nil, invalidCode(code)
	} else if err != nil {
		return nil, err
	}
	return h.issue(t, claims)
}

// Exchange trades a code for tokens as POST /oauth/token does for the code's application with
// the given redirect_uri ("": the app's only one). The admin API's headless Connect uses it:
// it stands in for the app's backend, so it is trusted without the client secret.
func (h *Handler) Exchange(clientID, code, redirectURI string) (*Response, error) {
	app, ok := h.store.Application(clientID)
	if !ok {
		return nil, invalidClient("Invalid client_id or client_secret.")
	}
	resp, err := h.exchangeCode(app, code, redirectURI, redirectURI != "")
	if err == nil {
		h.granted("authorization_code")
	}
	return resp, err
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

// refresh rotates a refresh token. The store checks it and rotates it in one step: another
// application's token is refused untouched, and a retry within the grace minute gets the same
// successor, so a chain never forks.
func (h *Handler) refresh(app sandbox.Application, rt string) (*Response, error) {
	if rt == "" {
		return nil, invalidRequest("The refresh_token parameter is missing.")
	}
	var claims *token.Claims
	t, err := h.store.RotateRefreshToken(rt, app.ClientID, h.mint(&claims))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExpired) ||
			errors.Is(err, store.ErrRefreshUsed) || errors.Is(err, store.ErrGrantEnded) {
			return nil, invalidRefreshToken(rt)
		}
		return nil, err
	}
	return h.issue(t, claims)
}

// mint makes the access token handed out with a refresh token inside the store transaction
// that stores the refresh token, which records it too (one commit for the whole request),
// and leaves its claims in *claims.
func (h *Handler) mint(claims **token.Claims) store.Mint {
	return func(t sandbox.RefreshToken) *token.Claims {
		*claims = h.tokens.VehicleClaims(token.VehicleGrant{ClientID: t.ClientID, UserID: t.UserID, VehicleIDs: t.VehicleIDs,
			Permissions: t.Permissions, Mode: t.Mode, Authorization: t.Authorization})
		return *claims
	}
}

// issue signs the access token minted (and recorded) with the refresh token t and answers
// with both.
func (h *Handler) issue(t sandbox.RefreshToken, claims *token.Claims) (*Response, error) {
	at, err := h.tokens.Sign(claims)
	if err != nil {
		return nil, err
	}
	return &Response{AccessToken: at, TokenType: "Bearer", ExpiresIn: int(token.AccessTTL / time.Second), RefreshToken: t.Token}, nil
}

// shorten cuts untrusted input echoed in a description to a sane length.
func shorten(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return s
}

// quote shortens and quotes untrusted input echoed in a description.
func quote(s string) string {
	b, _ := json.Marshal(shorten(s))
	return string(b)
}
