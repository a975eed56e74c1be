// Package sandboxtest starts real sandboxes for tests: internal/app's Start, the very wiring
// main uses, over real HTTP on 127.0.0.1, with the default fixtures, a clock fixed at StartTime
// until moved, and helpers to mint tokens and make requests. Every door's tests use it.
package sandboxtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/app"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/clock"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/server"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/simulator"
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

// StartTime is where every harness's clock starts: it stays there until a test (or the admin API)
// moves it forward, so times in answers are the same on every run.
var StartTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Harness is a running sandbox under test: internal/app's App, the binary's own wiring (access
// log, simulator, webhooks, admin API), with the fields tests reach for.
type Harness struct {
	URL     string
	Store   *store.Store
	Tokens  *token.Issuer
	Dataset sandbox.Dataset
	// Clock is the sandbox's one clock (Now, Advance), started at StartTime.
	Clock  *clock.Clock
	Client *http.Client
	// AdminToken is the admin API's bearer token ("" when Options.NoAdmin).
	AdminToken string
	// Control is the running sandbox's admin/fault/request-log wiring.
	Control *server.Control
	// Webhooks is the running sandbox's webhook service; Simulator moves its simulated
	// vehicles every second, as in the binary (none of the default fixtures is simulated).
	Webhooks  *webhooks.Service
	Simulator *simulator.Simulator
	app       *app.App
}

// Options tweak MustStart.
type Options struct {
	DataDir string
	Dataset *sandbox.Dataset // nil = the embedded default fixtures
	// NoAdmin leaves the admin API unmounted (as -no-admin does).
	NoAdmin bool
	// FaultHeader enables the SC-Sandbox-Fault request header.
	FaultHeader bool
	// Flags are more of the binary's flags (smartcar-sandbox -h), e.g. "-sim-seed=42".
	Flags []string
	// Reload, when set, is what POST /admin/reload calls.
	Reload func() (store.ReloadResult, error)
	// SaveFault, when set, is the store's Options.SaveFault: an error from it fails a commit
	// the way a full disk does.
	SaveFault func() error
	// Log receives the sandbox's log, the access line of every request among them; nil drops it.
	Log io.Writer
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
	args := append([]string{}, o.Flags...)
	if o.DataDir != "" {
		args = append(args, "-data-dir", o.DataDir)
	}
	if o.NoAdmin {
		args = append(args, "-no-admin")
	} else {
		args = append(args, "-admin-token", AdminToken)
	}
	if o.FaultHeader {
		args = append(args, "-fault-header")
	}
	with := []app.Option{app.FixedClock(StartTime), app.WithReload(o.Reload), app.WithSaveFault(o.SaveFault)}
	if o.Dataset != nil {
		with = append(with, app.WithDataset(*o.Dataset))
	}
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	a := StartApp(t, args, nil, log, with...)
	h := &Harness{URL: a.Origin, Store: a.Store, Tokens: a.Tokens, Dataset: a.Dataset, Clock: a.Clock,
		AdminToken: a.AdminToken, Control: a.Control, Webhooks: a.Webhooks, Simulator: a.Simulator, app: a,
		Client: &http.Client{
			Timeout: 10 * time.Second,
			// Tests look at redirects themselves (Connect's 302 to a custom scheme).
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}}
	// Before the shutdown (cleanups run last first): a connection the client dialled but never
	// sent a request on would hold the graceful shutdown until net/http gives up on it (5 s).
	t.Cleanup(h.Client.CloseIdleConnections)
	return h
}

// StartApp starts the sandbox the binary would start with args (its flags; -addr is always
// 127.0.0.1:0) and env (the only variables it reads: the test process's environment must not
// change the sandbox), logging to log, and shuts it down when the test ends. A bad flag or
// fixture ends the test with the sandbox's own list of problems. MustStartWith and the public
// client/sandboxtest both start through it.
func StartApp(t testing.TB, args []string, env map[string]string, log io.Writer, with ...app.Option) *app.App {
	t.Helper()
	args = append(append([]string{}, args...), "-addr", "127.0.0.1:0") // last, so it wins
	cfg, err := config.Parse(args, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatalf("sandboxtest: %v", err)
	}
	a, err := app.Start(cfg, log, with...)
	if err != nil {
		t.Fatalf("sandboxtest: the sandbox did not start: %v", err)
	}
	t.Cleanup(func() {
		// Longer than net/http's 5 s wait on a connection that never sent a request, which a
		// test's own client may leave behind, so that alone fails no test.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Errorf("sandboxtest: shutdown: %v", err)
		}
	})
	return a
}

// Stop shuts the sandbox down now rather than when the test ends (the cleanup then has nothing
// left to do): a test restarts a sandbox by stopping it and starting another on its data dir.
func (h *Harness) Stop(t testing.TB) {
	t.Helper()
	h.Client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.app.Shutdown(ctx); err != nil {
		t.Errorf("sandboxtest: shutdown: %v", err)
	}
}

// Deps are the server dependencies the harness serves with (server.Routes lists its routes).
func (h *Harness) Deps() server.Deps { return h.app.Deps() }

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

// Token posts form to the token endpoint as the demo application (HTTP Basic with its
// client id and secret); hdr holds extra headers as in Do.
func (h *Harness) Token(t testing.TB, form url.Values, hdr ...string) *Response {
	t.Helper()
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(ClientID+":"+ClientSecret))
	hdr = append([]string{"Content-Type", "application/x-www-form-urlencoded", "Authorization", basic}, hdr...)
	return h.Do(t, http.MethodPost, "/oauth/token", "", form.Encode(), hdr...)
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
