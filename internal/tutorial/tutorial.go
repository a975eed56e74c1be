// Package tutorial is the backend of Smartcar's getting-started tutorial (the iOS and Android
// sample apps), in Go: GET /login redirects to Connect, GET /exchange trades the code for tokens
// and keeps them server side, GET /vehicle answers the first vehicle's attributes. Unlike the
// official Node backend, tokens are kept per session cookie, so many phones can share one backend.
package tutorial

import (
	"container/list"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/client"
)

// SessionCookie is the name of the cookie that identifies a tutorial session.
const SessionCookie = "tutorial_session"

// DefaultScope is the official tutorial's scope.
var defaultScope = []string{client.Required("read_vehicle_info")}

// Defaults for Config.
const (
	DefaultMaxSessions   = 10000
	DefaultRefreshMargin = time.Minute
)

// Config configures a Handler.
type Config struct {
	Client        *client.Client // required; its Config supplies client id, secret and redirect URI
	Scope         []string       // default: required:read_vehicle_info
	Mode          client.Mode    // default: test, like the official tutorial
	MaxSessions   int            // default DefaultMaxSessions; the oldest session is evicted beyond it
	RefreshMargin time.Duration  // refresh this long before the access token expires
	Now           func() time.Time
	Logger        *slog.Logger
	// DataDir keeps the sessions on disk (DataDir/sessions, one file each), so phones stay
	// connected across a restart of the backend; "" keeps them in memory only.
	DataDir string
	// WebOrigins are the origins of web front-ends (http://localhost:3000) allowed to call
	// /exchange and /vehicle with the session cookie (fetch with credentials: "include"); any
	// other origin gets the official backend's credential-less "*".
	WebOrigins []string
}

// Handler serves /login, /exchange and /vehicle.
type Handler struct {
	cfg Config
	mux *http.ServeMux

	mu       sync.Mutex
	sessions map[string]*list.Element // of *session
	order    *list.List               // oldest first

	disk *sessionDir // nil: sessions live in memory only
}

// session is one browser's or app's tokens. mu serialises refreshes, so two parallel requests
// do not both spend the same refresh token.
type session struct {
	id     string
	mu     sync.Mutex
	access client.Access
}

// NewHandler returns a Handler; it fails when cfg.Client is nil or the mode is invalid.
func NewHandler(cfg Config) (*Handler, error) {
	if cfg.Client == nil {
		return nil, errors.New("tutorial: Config.Client is required")
	}
	if len(cfg.Scope) == 0 {
		cfg.Scope = defaultScope
	}
	if cfg.Mode == "" {
		cfg.Mode = client.ModeTest
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.RefreshMargin <= 0 {
		cfg.RefreshMargin = DefaultRefreshMargin
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	// Building the URL once validates client id, mode and scope at start-up, not at the first user.
	if _, err := cfg.Client.AuthURL(client.AuthURLOptions{Scope: cfg.Scope, Mode: cfg.Mode}); err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, mux: http.NewServeMux(), sessions: map[string]*list.Element{}, order: list.New()}
	if cfg.DataDir != "" {
		if err := h.loadSessions(filepath.Join(cfg.DataDir, "sessions")); err != nil {
			return nil, err
		}
	}
	h.mux.HandleFunc("GET /login", h.login)
	h.mux.HandleFunc("GET /exchange", h.exchange)
	h.mux.HandleFunc("GET /vehicle", h.vehicle)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such route; use /login, /exchange or /vehicle", "")
	})
	return h, nil
}

// ServeHTTP applies CORS like the official backend (the cors() defaults: any origin, no
// credentials), except for the configured web origins, which may send the session cookie, and
// routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if o := r.Header.Get("Origin"); o != "" && slices.Contains(h.cfg.WebOrigins, o) {
		// A credentialed request needs its own origin echoed, never "*".
		w.Header().Set("Access-Control-Allow-Origin", o)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
	}
	w.Header().Add("Vary", "Origin")
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE")
		if reqHeaders := r.Header.Get("Access-Control-Request-Headers"); reqHeaders != "" {
			w.Header().Set("Access-Control-Allow-Headers", reqHeaders)
		}
		w.Header().Add("Vary", "Access-Control-Request-Headers")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// Sessions is the number of stored sessions.
func (h *Handler) Sessions() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sessions)
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	u, err := h.cfg.Client.AuthURL(client.AuthURLOptions{Scope: h.cfg.Scope, Mode: h.cfg.Mode})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "config_error", err.Error(), "")
		return
	}
	http.Redirect(w, r, u, http.StatusFound)
}

func (h *Handler) exchange(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// Connect redirects failures here too: ?error=access_denied&error_description=…
	if e := q.Get("error"); e != "" {
		writeError(w, http.StatusBadRequest, e, q.Get("error_description"), "visit /login to try again")
		return
	}
	code := q.Get("code")
	if code == "" {
		writeError(w, http.StatusBadRequest, "missing_code", "the query parameter code is required", "visit /login to get one")
		return
	}
	access, err := h.cfg.Client.ExchangeCode(r.Context(), code)
	if err != nil {
		h.cfg.Logger.Warn("code exchange failed", "err", err)
		var se *client.Error
		if errors.As(err, &se) {
			status := http.StatusBadGateway
			if se.StatusCode >= 400 && se.StatusCode < 500 {
				status = http.StatusBadRequest // a bad, used or expired code: the caller's problem
			}
			writeJSON(w, status, map[string]any{
				"error": "exchange_failed", "type": se.Type, "description": se.Description,
				"statusCode": se.StatusCode, "hint": "visit /login to get a new code",
			})
			return
		}
		writeUnreachable(w, "exchange_failed", err) // the code was not spent: the app can retry it
		return
	}
	id := ""
	if c, err := r.Cookie(SessionCookie); err == nil && validID(c.Value) {
		id = c.Value
	}
	id = h.store(id, *access)
	h.persist(id, *access)
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		// Max-Age, not Expires: relative to the browser's clock, which the refresh token outlives.
		Secure: r.TLS != nil, MaxAge: int(client.RefreshTokenLifetime / time.Second),
	})
	writeJSON(w, http.StatusOK, map[string]string{"status": "connected", "next": "/vehicle"})
}

func (h *Handler) vehicle(w http.ResponseWriter, r *http.Request) {
	s := h.sessionFor(r)
	if s == nil {
		writeError(w, http.StatusUnauthorized, "not_connected", "no vehicle is connected in this session", "visit /login first")
		return
	}
	ctx := r.Context()
	token, err := h.token(ctx, s, "")
	if err == nil {
		var attrs *client.Attributes
		attrs, err = h.firstVehicle(ctx, token)
		if isAuthError(err) {
			// The token may have been revoked or rotated elsewhere: refresh once and retry.
			if token, err = h.token(ctx, s, token); err == nil {
				attrs, err = h.firstVehicle(ctx, token)
			}
		}
		if err == nil {
			out := map[string]any{"id": attrs.ID, "make": attrs.Make, "model": attrs.Model, "year": attrs.Year}
			if attrs.Meta.RequestID != "" {
				out["meta"] = map[string]string{"requestId": attrs.Meta.RequestID}
			}
			writeJSON(w, http.StatusOK, out)
			return
		}
	}
	h.writeAPIError(w, err)
}

var errNoVehicles = errors.New("the connected account has no vehicles")

func (h *Handler) firstVehicle(ctx context.Context, token string) (*client.Attributes, error) {
	ids, err := h.cfg.Client.Vehicles(ctx, token, 0, 0)
	if err != nil {
		return nil, err
	}
	if len(ids.Vehicles) == 0 {
		return nil, errNoVehicles
	}
	return h.cfg.Client.Vehicle(ids.Vehicles[0], token).Attributes(ctx)
}

func isAuthError(err error) bool {
	var se *client.Error
	return errors.As(err, &se) && se.StatusCode == http.StatusUnauthorized
}

// errRefresh marks a failed refresh: the session is gone and the user must log in again.
type errRefresh struct{ err error }

func (e errRefresh) Error() string { return "refreshing the access token failed: " + e.err.Error() }
func (e errRefresh) Unwrap() error { return e.err }

// token returns a usable access token for s, refreshing it when it is (nearly) expired or when
// it equals stale (a token the API just rejected). Only one refresh per session runs at a time;
// a request that waited finds the new token and does not refresh again.
func (h *Handler) token(ctx context.Context, s *session, stale string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.access
	if a.AccessToken != stale && !a.Expired(h.cfg.Now(), h.cfg.RefreshMargin) {
		return a.AccessToken, nil
	}
	if a.AccessToken != stale && stale != "" {
		return a.AccessToken, nil // someone else refreshed while we waited
	}
	fresh, err := h.cfg.Client.RefreshToken(ctx, a.RefreshToken)
	if err != nil {
		var se *client.Error
		if errors.As(err, &se) && se.StatusCode >= 400 && se.StatusCode < 500 {
			h.drop(s.id) // the refresh token is dead: forget the session
		}
		return "", errRefresh{err}
	}
	if fresh.RefreshToken == "" {
		fresh.RefreshToken = a.RefreshToken
		fresh.RefreshExpiration = a.RefreshExpiration
	}
	s.access = *fresh
	h.persist(s.id, *fresh) // the old refresh token is spent: a restart must find the new one
	return fresh.AccessToken, nil
}

func (h *Handler) writeAPIError(w http.ResponseWriter, err error) {
	h.cfg.Logger.Warn("vehicle request failed", "err", err)
	var rerr errRefresh
	var se *client.Error
	switch {
	case errors.Is(err, errNoVehicles):
		writeError(w, http.StatusNotFound, "no_vehicles", err.Error(), "visit /login and connect a vehicle")
	case errors.As(err, &rerr):
		body := map[string]any{"error": "reauthenticate", "description": rerr.Error(), "hint": "visit /login again"}
		if errors.As(err, &se) {
			body["type"] = se.Type
		}
		writeJSON(w, http.StatusUnauthorized, body)
	case errors.As(err, &se):
		status := se.StatusCode
		if status < 400 || status > 599 {
			status = http.StatusBadGateway
		}
		// Pass the Smartcar error through with its own field names.
		body := map[string]any{
			"type": se.Type, "code": nullable(se.Code), "description": se.Description, "docURL": se.DocURL,
			"statusCode": se.StatusCode, "requestId": se.RequestID,
			"resolution":           map[string]any{"type": nullable(se.Resolution.Type)},
			"suggestedUserMessage": se.SuggestedUserMessage,
		}
		if se.Resolution.URL != "" {
			body["resolution"].(map[string]any)["url"] = se.Resolution.URL
		}
		if se.RetryAfterRaw != "" {
			w.Header().Set("Retry-After", se.RetryAfterRaw)
		}
		writeJSON(w, status, body)
	default:
		writeUnreachable(w, "smartcar_unreachable", err)
	}
}

// unreachableRetryAfter is the Retry-After, in seconds, of a 502 for a Smartcar (sandbox) that
// did not answer: long enough for a restarting sandbox to come back, short enough for a phone.
const unreachableRetryAfter = "2"

// writeUnreachable answers a request Smartcar did not answer (down, restarting, no network):
// a 502 the app can retry as it is, with Retry-After, and the session kept.
func writeUnreachable(w http.ResponseWriter, code string, err error) {
	w.Header().Set("Retry-After", unreachableRetryAfter)
	writeError(w, http.StatusBadGateway, code, err.Error(), "Smartcar did not answer (a sandbox restarting?); retry in a moment, the session is kept")
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// store saves access under id (a new random id when id is "" or unknown) and returns the id.
// The caller persists it (outside h.mu, so one phone's disk write never holds up the others).
func (h *Handler) store(id string, access client.Access) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if el, ok := h.sessions[id]; ok && id != "" {
		// A fresh session value rather than locking the old one: token() holds a session's lock
		// while it takes h.mu (drop), so taking a session lock under h.mu could deadlock.
		el.Value = &session{id: id, access: access}
		h.order.MoveToBack(el)
		return id
	}
	id = newID()
	h.sessions[id] = h.order.PushBack(&session{id: id, access: access})
	h.evictLocked()
	return id
}

// evictLocked drops the oldest sessions beyond MaxSessions (with h.mu held).
func (h *Handler) evictLocked() {
	for len(h.sessions) > h.cfg.MaxSessions {
		oldest := h.order.Front()
		h.order.Remove(oldest)
		old := oldest.Value.(*session).id
		delete(h.sessions, old)
		h.unpersist(old)
	}
}

// loadSessions opens the session folder and takes back the sessions kept there, oldest first
// (so the bound on sessions evicts the same ones it would have before the restart).
func (h *Handler) loadSessions(dir string) error {
	d, err := openSessionDir(dir)
	if err != nil {
		return err
	}
	saved, problems, err := d.load(h.cfg.Now())
	if err != nil {
		return err
	}
	for _, p := range problems {
		h.cfg.Logger.Warn("unusable session file", "problem", p)
	}
	h.disk = d
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range saved {
		el := h.order.PushBack(&session{id: s.ID, access: s.access()})
		h.sessions[s.ID] = el
		h.evictLocked()
	}
	h.cfg.Logger.Info("sessions loaded", "count", len(h.sessions), "dir", dir)
	return nil
}

// persist writes a session's tokens to the session folder, when there is one. A failed write
// is logged, not answered: the session still works until the backend restarts.
func (h *Handler) persist(id string, access client.Access) {
	if h.disk == nil {
		return
	}
	if err := h.disk.save(id, access, h.cfg.Now()); err != nil {
		h.cfg.Logger.Error("saving a session failed; it will not survive a restart", "err", err)
	}
}

func (h *Handler) unpersist(id string) {
	if h.disk == nil {
		return
	}
	if err := h.disk.remove(id); err != nil {
		h.cfg.Logger.Error("removing a session file failed", "err", err)
	}
}

func (h *Handler) sessionFor(r *http.Request) *session {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if el, ok := h.sessions[c.Value]; ok {
		return el.Value.(*session)
	}
	return nil
}

func (h *Handler) drop(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if el, ok := h.sessions[id]; ok {
		h.order.Remove(el)
		delete(h.sessions, id)
		h.unpersist(id)
	}
}

func newID() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics on an unusable system source instead)
	return hex.EncodeToString(b)
}

func validID(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, description, hint string) {
	body := map[string]string{"error": code, "description": description}
	if hint != "" {
		body["hint"] = hint
	}
	writeJSON(w, status, body)
}
