// Package sandboxtest runs a real smartcar-sandbox inside your own Go tests: the same server
// the smartcar-sandbox binary runs (Connect, the token endpoint, the vehicle and management
// APIs, the admin API), started in-process on 127.0.0.1 with a free port and stopped when the
// test ends. Nothing to install, no container, no network beyond the loopback.
//
//	func TestOdometer(t *testing.T) {
//		sb := sandboxtest.Start(t)                               // embedded fixtures
//		tok := sb.Connect("ci@example.com", "read_odometer")     // a whole Connect flow, no pages
//		c, err := client.New(sb.ClientConfig())                  // github.com/smartcar-sandbox/smartcar-sandbox/client
//		if err != nil {
//			t.Fatal(err)
//		}
//		odo, err := c.Vehicle(tok.VehicleIDs[0], tok.AccessToken).Odometer(context.Background())
//		if err != nil {
//			t.Fatal(err)
//		}
//		t.Log(odo.Distance)
//	}
//
// Start takes the binary's own flags as options (WithFixtures, WithDataDir, WithFlags, …), so a
// test sandbox is configured exactly like a running one. Your code under test reaches it through
// Origin (or the SMARTCAR_* variables of Env, which the official SDKs read), as the demo
// application App, or any application your fixtures declare.
package sandboxtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/client"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/app"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
)

// Sandbox is a running sandbox under test.
type Sandbox struct {
	// Origin is where it listens, e.g. http://127.0.0.1:41234: the Connect, auth, API and
	// management origin alike.
	Origin string
	// App is the application tests act as: the one WithApplication registered, otherwise the
	// fixtures' first (the embedded fixtures' sandbox-demo).
	App App
	// Admin calls the admin API (/admin/..., docs/admin.md) with the sandbox's admin token.
	Admin *Admin

	t   testing.TB
	app *app.App
}

// App is a registered application.
type App struct {
	Name            string
	ClientID        string
	ClientSecret    string
	RedirectURI     string // the first registered one
	RedirectURIs    []string
	ManagementToken string
}

// Option configures Start.
type Option func(*options)

type options struct {
	args []string
	env  map[string]string
	log  io.Writer
}

// WithFixtures serves the YAML fixtures in dir instead of the embedded defaults (-fixtures).
func WithFixtures(dir string) Option { return WithFlags("-fixtures", dir) }

// WithDataDir keeps the signing key and state in dir (-data-dir), so a second Start on the same
// dir sees what the first left.
func WithDataDir(dir string) Option { return WithFlags("-data-dir", dir) }

// WithApplication registers an application on top of the fixtures, as SMARTCAR_CLIENT_ID,
// SMARTCAR_CLIENT_SECRET and SMARTCAR_REDIRECT_URI do for the binary; it becomes App.
func WithApplication(clientID, clientSecret string, redirectURIs ...string) Option {
	return func(o *options) {
		o.env["SMARTCAR_CLIENT_ID"] = clientID
		o.env["SMARTCAR_CLIENT_SECRET"] = clientSecret
		o.env["SMARTCAR_REDIRECT_URI"] = strings.Join(redirectURIs, ",")
	}
}

// WithFlags passes any of the binary's flags (smartcar-sandbox -h lists them), e.g.
// WithFlags("-fault-header", "-sim-seed=7"). -addr is always 127.0.0.1:0.
func WithFlags(args ...string) Option {
	return func(o *options) { o.args = append(o.args, args...) }
}

// WithLog sends the sandbox's log (one line per request, warnings) to w; by default it is
// dropped. Pass os.Stderr, or a testing writer, to see what your code sent.
func WithLog(w io.Writer) Option { return func(o *options) { o.log = w } }

// Start starts a sandbox with opts and stops it when the test ends (t.Cleanup). A bad option
// or fixture ends the test with the sandbox's own list of problems.
func Start(t testing.TB, opts ...Option) *Sandbox {
	t.Helper()
	o := &options{env: map[string]string{}, log: io.Discard}
	for _, opt := range opts {
		opt(o)
	}
	// The binary's own flag parsing and start, as the sandbox's own tests start it.
	a := sandboxtest.StartApp(t, o.args, o.env, o.log)
	s := &Sandbox{Origin: a.Origin, t: t, app: a,
		Admin: &Admin{Origin: a.Origin, Token: a.AdminToken, HTTP: &http.Client{Timeout: 30 * time.Second}}}
	apps := a.Store.Applications()
	if id := o.env["SMARTCAR_CLIENT_ID"]; id != "" {
		for i, ap := range apps {
			if ap.ClientID == id {
				apps = apps[i:]
				break
			}
		}
	}
	if len(apps) > 0 {
		ap := apps[0]
		s.App = App{Name: ap.Name, ClientID: ap.ClientID, ClientSecret: ap.ClientSecret, RedirectURIs: ap.RedirectURIs, ManagementToken: ap.ManagementToken}
		if len(ap.RedirectURIs) > 0 {
			s.App.RedirectURI = ap.RedirectURIs[0]
		}
	}
	return s
}

// Env lists the variables that point the official SDKs, the tutorial backend and the client
// package at this sandbox as App: SMARTCAR_API_ORIGIN=… and so on, "NAME=value" each (append
// them to an exec.Cmd's Env).
func (s *Sandbox) Env() []string {
	return []string{
		client.EnvAPIOrigin + "=" + s.Origin, client.EnvAuthOrigin + "=" + s.Origin,
		client.EnvConnectOrigin + "=" + s.Origin, client.EnvManagementOrigin + "=" + s.Origin,
		client.EnvClientID + "=" + s.App.ClientID, client.EnvClientSecret + "=" + s.App.ClientSecret,
		client.EnvRedirectURI + "=" + s.App.RedirectURI,
	}
}

// ClientConfig is a client.Config for App against this sandbox, in test mode.
func (s *Sandbox) ClientConfig() client.Config {
	return client.Config{ClientID: s.App.ClientID, ClientSecret: s.App.ClientSecret, RedirectURI: s.App.RedirectURI,
		ConnectOrigin: s.Origin, AuthOrigin: s.Origin, APIOrigin: s.Origin, ManagementOrigin: s.Origin, Mode: client.ModeTest}
}

// Tokens is a finished Connect flow: what was granted and the token endpoint's answer.
type Tokens struct {
	Code         string   `json:"code"`
	UserID       string   `json:"userId"`
	VehicleIDs   []string `json:"vehicleIds"`
	Permissions  []string `json:"permissions"`
	AccessToken  string   `json:"-"`
	RefreshToken string   `json:"-"`
	ExpiresIn    int      `json:"-"`
}

// Connect runs a whole Connect flow for App in test mode (POST /admin/connect: the pages'
// own checks, test users and grants), username sharing every vehicle it offers with scopes,
// and returns the exchanged tokens. A username no fixture names gets one test-mode car; the
// test usernames of docs/fixtures.md work as on the pages. Any problem ends the test.
func (s *Sandbox) Connect(username string, scopes ...string) Tokens {
	s.t.Helper()
	tok, err := s.ConnectWith(ConnectRequest{Username: username, Scope: scopes})
	if err != nil {
		s.t.Fatalf("sandboxtest: Connect(%q): %v", username, err)
	}
	return tok
}

// ConnectRequest is a Connect flow for ConnectWith; see docs/admin.md (Headless Connect).
// Empty ClientID and RedirectURI mean App's; empty Mode means test.
type ConnectRequest struct {
	ClientID    string   `json:"clientId"`
	RedirectURI string   `json:"redirectUri,omitempty"`
	Username    string   `json:"username"`
	Make        string   `json:"make,omitempty"`
	VehicleIDs  []string `json:"vehicleIds,omitempty"`
	Scope       []string `json:"scope"`
	Mode        string   `json:"mode,omitempty"`
	State       string   `json:"state,omitempty"`
	Deny        bool     `json:"deny,omitempty"`
}

// ConnectWith runs the Connect flow req describes and exchanges its code. A flow that ends in
// a Connect error (vehicle_incompatible, access_denied, …) returns an *AdminError whose Code
// is the error the app's redirect would carry.
func (s *Sandbox) ConnectWith(req ConnectRequest) (Tokens, error) {
	if req.ClientID == "" {
		req.ClientID, req.RedirectURI = s.App.ClientID, s.App.RedirectURI
	}
	if req.Mode == "" {
		req.Mode = "test"
	}
	var ans struct {
		Tokens
		Exchanged struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
			ExpiresIn    int    `json:"expires_in"`
		} `json:"tokens"`
	}
	body := struct {
		ConnectRequest
		Exchange bool `json:"exchange"`
	}{req, true}
	if err := s.Admin.Do(context.Background(), http.MethodPost, "/admin/connect", body, &ans); err != nil {
		return Tokens{}, err
	}
	t := ans.Tokens
	t.AccessToken, t.RefreshToken, t.ExpiresIn = ans.Exchanged.AccessToken, ans.Exchanged.RefreshToken, ans.Exchanged.ExpiresIn
	return t, nil
}

// Admin is a client of the admin API.
type Admin struct {
	Origin string
	Token  string
	HTTP   *http.Client
}

// AdminError is an admin API error answer ({"error", "message", …}).
type AdminError struct {
	Status  int
	Code    string `json:"error"`
	Message string `json:"message"`
	// Fields are the whole answer, e.g. a headless Connect error's error_description and state.
	Fields map[string]any `json:"-"`
}

func (e *AdminError) Error() string {
	return fmt.Sprintf("admin API: %d %s: %s", e.Status, e.Code, e.Message)
}

// Do sends body (nil: none; otherwise JSON) to the admin API at path ("/admin/clock") and
// decodes a 2xx answer into out (nil: dropped). Other answers come back as *AdminError.
func (a *Admin) Do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.Origin+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := a.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		e := &AdminError{Status: res.StatusCode}
		if json.Unmarshal(b, e) != nil || json.Unmarshal(b, &e.Fields) != nil {
			e.Code, e.Message = "not_json", string(b)
		}
		return e
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}
