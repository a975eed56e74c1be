// Package admin is the sandbox's control API (/admin/...): reset and reload fixtures, add
// applications, accounts and vehicles, read and set any signal, list grants and tokens, expire
// or revoke them, move the clock, read the request log and script faults. It is JSON only,
// protected by its own bearer token (never a Smartcar access token), and every admin error is
// rendered by writeError in one shape: {"error": code, "message": text, "details": [...],
// "requestId": id}.
package admin

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/connect"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/faults"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/oauth"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/requestid"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/requestlog"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/webhooks"
)

// Options is what the admin API controls.
type Options struct {
	// Token is the admin bearer token; it must not be empty (an empty token would let anybody
	// in, so New refuses it).
	Token    string
	Store    *store.Store
	Faults   *faults.Set
	Requests *requestlog.Log
	// Now reads the sandbox clock; Advance moves it forward (nil: the clock cannot be moved).
	Now     func() time.Time
	Advance func(time.Duration) error
	// Reload reads the fixture folder again; nil when the sandbox runs on embedded fixtures.
	Reload func() (store.ReloadResult, error)
	// Webhooks is the webhook delivery log; nil when webhooks are off.
	Webhooks DeliveryLog
	// Connect runs a whole Connect flow without its pages (the Connect handler's Run) and
	// Exchange trades its code for tokens (the token endpoint's); POST /admin/connect needs both.
	Connect  func(connect.Request) (connect.Result, error)
	Exchange func(clientID, code, redirectURI string) (*oauth.Response, error)
}

// DeliveryLog is what the admin API reads of the webhook service.
type DeliveryLog interface {
	FindDeliveries(webhooks.DeliveryFilter) []webhooks.Delivery
}

// API serves /admin/....
type API struct{ o Options }

// New checks the options and builds the API.
func New(o Options) (*API, error) {
	if o.Token == "" {
		return nil, errors.New("admin: empty admin token")
	}
	if o.Store == nil || o.Faults == nil {
		return nil, errors.New("admin: store and fault set are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &API{o: o}, nil
}

// Error is an admin API error; writeError renders it.
type Error struct {
	Status  int
	Code    string
	Message string
	Details []string
	// Fields are extra top-level members of the body: a headless Connect error carries what
	// the redirect would (error_description, state, vin, …) beside the usual ones.
	Fields map[string]string
}

func (e *Error) Error() string { return e.Message }

func badRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "bad_request", Message: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf(format, args...)}
}

// invalid is a 400 listing every problem of a body.
func invalid(what string, err error) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid", Message: what + " is not valid", Details: strings.Split(err.Error(), "\n")}
}

type errorBody struct {
	Error     string   `json:"error"`
	Message   string   `json:"message"`
	Details   []string `json:"details,omitempty"`
	RequestID string   `json:"requestId"`
}

// writeError is the one place admin errors are written.
// WriteError is the one place the admin API (and the dashboard's JSON calls) renders an
// error; anything but an *Error is a 500.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "the sandbox failed: " + err.Error()}
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="smartcar-sandbox admin"`)
	}
	body := errorBody{Error: e.Code, Message: e.Message, Details: e.Details, RequestID: requestid.From(r.Context())}
	if len(e.Fields) == 0 {
		scapi.WriteJSON(w, e.Status, body)
		return
	}
	m := make(map[string]any, len(e.Fields)+4)
	for k, v := range e.Fields {
		m[k] = v
	}
	m["error"], m["message"], m["requestId"] = body.Error, body.Message, body.RequestID
	if len(body.Details) > 0 {
		m["details"] = body.Details
	}
	scapi.WriteJSON(w, e.Status, m)
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle checks the admin token, then runs h and renders its error.
func (a *API) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if err := a.authorize(r); err != nil {
			WriteError(w, r, err)
			return
		}
		if err := h(w, r); err != nil {
			WriteError(w, r, err)
		}
	})
}

func (a *API) authorize(r *http.Request) error {
	h := r.Header.Get("Authorization")
	scheme, raw, ok := strings.Cut(h, " ")
	if h == "" || !ok || !strings.EqualFold(scheme, "Bearer") {
		return &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "send the admin token as 'Authorization: Bearer <admin token>' (printed at start, or set with -admin-token / SANDBOX_ADMIN_TOKEN)"}
	}
	// Constant time, so the token cannot be guessed byte by byte from response times.
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(raw)), []byte(a.o.Token)) != 1 {
		return &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "the bearer token is not the admin token (Smartcar access tokens do not work here)"}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, body any) { scapi.WriteJSON(w, status, body) }

// decode reads a JSON body strictly: unknown fields are mistakes worth reporting.
func decode(r *http.Request, v any) error {
	if r.Body == nil {
		return badRequest("a JSON body is required")
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return badRequest("a JSON body is required")
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Message: "the body is too large"}
		}
		return badRequest("the body is not valid JSON for this endpoint: %v", err)
	}
	if dec.More() {
		return badRequest("the body has data after the JSON value")
	}
	return nil
}

// Mount declares every admin route on r.
func (a *API) Mount(r *mux.Router) {
	h := a.handle
	unknown := h(func(w http.ResponseWriter, r *http.Request) error {
		return notFound("no admin endpoint %s %s; GET /admin lists them", r.Method, r.URL.Path)
	})
	r.Handle("/admin", h(a.index)).Methods(http.MethodGet)
	// Other methods on /admin itself (and /admin/, which the middleware folds into it) get the
	// admin shape too, not the HTML 404 page.
	r.Handle("/admin", unknown)
	s := r.PathPrefix("/admin/").Subrouter()
	s.Handle("/reset", h(a.reset)).Methods(http.MethodPost)
	s.Handle("/connect", h(a.connect)).Methods(http.MethodPost)
	s.Handle("/reload", h(a.reload)).Methods(http.MethodPost)
	s.Handle("/applications", h(a.listApplications)).Methods(http.MethodGet)
	s.Handle("/applications", h(a.addApplication)).Methods(http.MethodPost)
	s.Handle("/accounts", h(a.listAccounts)).Methods(http.MethodGet)
	s.Handle("/accounts", h(a.addAccount)).Methods(http.MethodPost)
	s.Handle("/vehicles", h(a.listVehicles)).Methods(http.MethodGet)
	s.Handle("/vehicles/{id}", h(a.getVehicle)).Methods(http.MethodGet)
	s.Handle("/vehicles/{id}", h(a.patchVehicle)).Methods(http.MethodPatch)
	s.Handle("/grants", h(a.listGrants)).Methods(http.MethodGet)
	s.Handle("/tokens", h(a.listTokens)).Methods(http.MethodGet)
	s.Handle("/tokens/{id}/revoke", h(a.revokeToken)).Methods(http.MethodPost)
	s.Handle("/tokens/{id}/expire", h(a.expireToken)).Methods(http.MethodPost)
	s.Handle("/codes", h(a.listCodes)).Methods(http.MethodGet)
	s.Handle("/codes/{code}/expire", h(a.expireCode)).Methods(http.MethodPost)
	s.Handle("/refresh-tokens", h(a.listRefreshTokens)).Methods(http.MethodGet)
	s.Handle("/refresh-tokens/{token}/expire", h(a.expireRefreshToken)).Methods(http.MethodPost)
	s.Handle("/clock", h(a.getClock)).Methods(http.MethodGet)
	s.Handle("/clock", h(a.advanceClock)).Methods(http.MethodPost)
	s.Handle("/requests", h(a.listRequests)).Methods(http.MethodGet)
	s.Handle("/requests", h(a.clearRequests)).Methods(http.MethodDelete)
	s.Handle("/requests", h(a.setRequestLogSize)).Methods(http.MethodPatch)
	s.Handle("/faults", h(a.listFaults)).Methods(http.MethodGet)
	s.Handle("/faults", h(a.addFault)).Methods(http.MethodPost)
	s.Handle("/faults", h(a.clearFaults)).Methods(http.MethodDelete)
	s.Handle("/faults/{id}", h(a.deleteFault)).Methods(http.MethodDelete)
	s.Handle("/webhooks/deliveries", h(a.listDeliveries)).Methods(http.MethodGet)
	// Anything else under /admin/ (a typo, a wrong method) answers in the admin shape, after
	// the token check, rather than with the HTML 404 page.
	s.PathPrefix("/").Handler(unknown)
}

var endpoints = []string{
	"POST /admin/reset", "POST /admin/reload", "POST /admin/connect",
	"GET /admin/applications", "POST /admin/applications",
	"GET /admin/accounts", "POST /admin/accounts",
	"GET /admin/vehicles", "GET /admin/vehicles/{id}", "PATCH /admin/vehicles/{id}",
	"GET /admin/grants",
	"GET /admin/tokens", "POST /admin/tokens/{id}/revoke", "POST /admin/tokens/{id}/expire",
	"GET /admin/codes", "POST /admin/codes/{code}/expire",
	"GET /admin/refresh-tokens", "POST /admin/refresh-tokens/{token}/expire",
	"GET /admin/clock", "POST /admin/clock", "GET /admin/webhooks/deliveries",
	"GET /admin/requests", "DELETE /admin/requests", "PATCH /admin/requests",
	"GET /admin/faults", "POST /admin/faults", "DELETE /admin/faults", "DELETE /admin/faults/{id}",
}

func (a *API) index(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"endpoints": endpoints})
	return nil
}
