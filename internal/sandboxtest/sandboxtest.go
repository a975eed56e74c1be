// Package sandboxtest starts real sandboxes for tests: the real router over real HTTP on
// 127.0.0.1, the default fixtures, an injectable clock, and helpers to mint tokens and make
// requests. Every door's tests use it, so they all exercise the same wiring main uses.
package sandboxtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	defaultfixtures "github.com/smartcar-sandbox/smartcar-sandbox/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/faults"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/keys"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/requestlog"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/server"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/token"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/webhooks"
)

// Demo application of the default fixtures.
const (
	ClientID        = "sandbox-demo"
	ClientSecret    = "sandbox-demo-secret"
	RedirectURI     = "scsandbox-demo://exchange"
	ManagementToken = "sandbox-demo-management-token"
	DemoUser        = "demo@sandbox.test"
)

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Harness is a running sandbox under test.
type Harness struct {
	URL     string
	Store   *store.Store
	Tokens  *token.Issuer
	Dataset sandbox.Dataset
	Clock   *Clock
	Client  *http.Client
	// AdminToken is the admin API's bearer token ("" when Options.NoAdmin).
	AdminToken string
	// Control is the running sandbox's admin/fault/request-log wiring.
	Control *server.Control
	// Webhooks is the running sandbox's webhook service.
	Webhooks *webhooks.Service
	// connectKey signs Connect's flow state (nil: a fresh key per start).
	connectKey []byte
}

// Options tweak MustStart.
type Options struct {
	DataDir string
	Dataset *sandbox.Dataset // nil = the embedded default fixtures
	// NoAdmin leaves the admin API unmounted (as -no-admin does).
	NoAdmin bool
	// FaultHeader enables the SC-Sandbox-Fault request header.
	FaultHeader bool
	// Reload, when set, is what POST /admin/reload calls.
	Reload func() (store.ReloadResult, error)
	// SaveFault, when set, is the store's Options.SaveFault: an error from it fails a commit
	// the way a full disk does.
	SaveFault func() error
}

// AdminToken is the admin token every harness uses unless Options.NoAdmin.
const AdminToken = "sandbox-test-admin-token"

// Admin sends a request to the admin API with the harness's admin token.
func (h *Harness) Admin(t testing.TB, method, path string, body any) *Response {
	t.Helper()
	return h.Do(t, method, path, h.AdminToken, body)
}

// MustStart starts a sandbox on the default fixtures and stops it when the test ends.
func MustStart(t testing.TB) *Harness { return MustStartWith(t, Options{}) }

// MustStartWith starts a sandbox with options.
func MustStartWith(t testing.TB, o Options) *Harness {
	t.Helper()
	var ds sandbox.Dataset
	if o.Dataset != nil {
		ds = *o.Dataset
	} else {
		var err error
		if ds, err = fixtures.Load(defaultfixtures.FS); err != nil {
			t.Fatalf("default fixtures: %v", err)
		}
	}
	clock := NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	st, err := store.New(ds, store.Options{DataDir: o.DataDir, Garage: fixtures.Garage, Now: clock.Now, SaveFault: o.SaveFault})
	if err != nil {
		t.Fatal(err)
	}
	ks := keys.Set{Signing: []byte(strings.Repeat("sandbox-test-key", 2))}
	if o.DataDir != "" {
		// As the app keeps them, so a harness restarted on the same dir accepts old tokens and pages.
		if ks, err = keys.Load(o.DataDir); err != nil {
			t.Fatal(err)
		}
	}
	issuer, err := token.NewIssuer(ks.Signing, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	h := &Harness{Store: st, Tokens: issuer, Dataset: ds, Clock: clock, connectKey: ks.ConnectFlow}
	issuer.OnIssue = server.RecordTokens(st, nil)
	h.Control = &server.Control{
		Faults:      faults.NewSet(),
		FaultHeader: o.FaultHeader,
		Requests:    requestlog.New(200, clock.Now),
		Advance: func(d time.Duration) error {
			if d <= 0 {
				return errors.New("the clock only moves forward")
			}
			clock.Advance(d)
			return nil
		},
		Reload: o.Reload,
	}
	if !o.NoAdmin {
		h.AdminToken = AdminToken
		h.Control.AdminToken = AdminToken
	}
	// Webhooks are mounted as in the real app; nothing is delivered until a test subscribes.
	if h.Webhooks, err = webhooks.New(webhooks.Options{Store: st, Now: clock.Now}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Webhooks.Close)
	// The origin is only known once listening, and the handler needs it: start unstarted.
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	h.URL = srv.URL
	handler, err := server.New(h.Deps())
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = handler
	t.Cleanup(srv.Close)
	h.Client = &http.Client{
		Timeout: 10 * time.Second,
		// Tests look at redirects themselves (Connect's 302 to a custom scheme).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return h
}

// Deps are the server dependencies the harness serves with.
func (h *Harness) Deps() server.Deps {
	return server.Deps{Store: h.Store, Tokens: h.Tokens, ConnectKey: h.connectKey, Origin: h.URL, Now: h.Clock.Now, Control: h.Control, Webhooks: h.Webhooks}
}

// Connect grants clientID access to every vehicle of username's account with perms, the
// way a finished Connect flow would, and returns a vehicle access token and the account.
func (h *Harness) Connect(t testing.TB, clientID, username string, perms ...string) (string, sandbox.Account) {
	t.Helper()
	acct, err := h.Store.Account(username)
	if err != nil {
		t.Fatal(err)
	}
	var grants []sandbox.Grant
	for _, id := range acct.VehicleIDs {
		grants = append(grants, sandbox.Grant{ClientID: clientID, UserID: acct.UserID, VehicleID: id, Permissions: perms})
	}
	if err := h.Store.Connect(grants...); err != nil {
		t.Fatal(err)
	}
	// A number of its own, as a Connect approval gets: the token reaches these grants, and
	// revoking it (admin API) ends it alone.
	auth, err := h.Store.Authorize()
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := h.Tokens.IssueVehicle(token.VehicleGrant{ClientID: clientID, UserID: acct.UserID, VehicleIDs: acct.VehicleIDs, Permissions: perms, Authorization: auth})
	if err != nil {
		t.Fatal(err)
	}
	return tok, acct
}

// AllPermissions lists every permission in the catalogue.
func AllPermissions() []string {
	out := make([]string, len(sandbox.Permissions))
	for i, p := range sandbox.Permissions {
		out[i] = p.Name
	}
	return out
}

// Response is a finished HTTP exchange.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// V3Error is one object of v3's {"errors":[…]} body.
type V3Error struct {
	Status string `json:"status"`
	Type   string `json:"type"`
	Code   string `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Links  struct {
		About string `json:"about"`
	} `json:"links"`
	Meta struct {
		RequestID string           `json:"requestId"`
		Fields    []map[string]any `json:"fields"`
	} `json:"meta"`
}

// V3Error decodes a v3 error body, failing unless it is exactly one error whose status,
// requestId and docs link agree with the response and whose every documented field is set.
func (r *Response) V3Error(t testing.TB) V3Error {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want v3 error JSON: %.200s", ct, r.Body)
	}
	var b struct {
		Errors []V3Error `json:"errors"`
	}
	r.JSON(t, &b)
	if len(b.Errors) != 1 {
		t.Fatalf("want one v3 error for a %d: %s", r.Status, r.Body)
	}
	e := b.Errors[0]
	if e.Status != strconv.Itoa(r.Status) || e.Type == "" || e.Code == "" || e.Title == "" || e.Detail == "" ||
		!strings.HasPrefix(e.Links.About, "https://smartcar.com/docs/errors/api-errors/v3/") || e.Meta.RequestID != r.Header.Get("SC-Request-Id") {
		t.Fatalf("not a v3 error for a %d: %s", r.Status, r.Body)
	}
	return e
}

// JSON decodes the body into v, failing the test on error.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("body is not JSON (%v): %s", err, r.Body)
	}
}

// Map decodes the body as a JSON object.
func (r *Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Do sends a request. body may be nil, a string or []byte (sent as is) or any value (sent as
// JSON). hdr holds extra headers as "Name", "value" pairs. A bearer token is set when tok is
// not "".
func (h *Harness) Do(t testing.TB, method, path, tok string, body any, hdr ...string) *Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, h.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := h.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// Note returns the note the request log kept for res (the sandbox's own explanation of an
// error answer, which the answer itself leaves out), found by res's SC-Request-Id.
func (h *Harness) Note(t testing.TB, res *Response) string {
	t.Helper()
	id := res.Header.Get("SC-Request-Id")
	for _, e := range h.Control.Requests.List(0) {
		if e.RequestID == id {
			return e.Note
		}
	}
	t.Fatalf("the request log has no entry for request %s", id)
	return ""
}
