// Package client is a small, context-aware client for the Smartcar platform: the Connect URL,
// the OAuth token endpoint, Vehicle API v2.0 and the management API. It works against the real
// Smartcar hosts or, through origin options or the SMARTCAR_*_ORIGIN environment variables, against
// smartcar-sandbox. It uses only the standard library, so any backend can import it.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"
)

// Default origins of the real Smartcar platform.
const (
	DefaultConnectOrigin    = "https://connect.smartcar.com"
	DefaultAuthOrigin       = "https://auth.smartcar.com"
	DefaultAPIOrigin        = "https://api.smartcar.com"
	DefaultManagementOrigin = "https://management.smartcar.com"
	// DefaultTimeout bounds every request unless Config.Timeout says otherwise. The official SDKs
	// wait 310 s; a backend serving people should give up sooner.
	DefaultTimeout = 30 * time.Second
	// RefreshTokenLifetime is how long a refresh token lives. Smartcar does not send it, so like
	// every official SDK the client computes RefreshExpiration locally.
	RefreshTokenLifetime = 60 * 24 * time.Hour
	// APIVersion is the Vehicle API version this client speaks.
	APIVersion = "2.0"
)

// Version is sent in the User-Agent header.
const Version = "0.1.0"

// Mode is the Connect mode.
type Mode string

// Connect modes.
const (
	ModeLive      Mode = "live"
	ModeTest      Mode = "test"
	ModeSimulated Mode = "simulated"
)

func (m Mode) valid() bool { return m == ModeLive || m == ModeTest || m == ModeSimulated }

// UnitSystem selects the units of vehicle data (the SC-Unit-System header).
type UnitSystem string

// Unit systems.
const (
	Metric   UnitSystem = "metric"
	Imperial UnitSystem = "imperial"
)

// Environment variable names read by ConfigFromEnv / Config.WithEnv. They are the ones the
// official SDKs read, so one set of variables points both this client and the SDKs at a sandbox.
const (
	EnvAPIOrigin        = "SMARTCAR_API_ORIGIN"
	EnvAuthOrigin       = "SMARTCAR_AUTH_ORIGIN"
	EnvConnectOrigin    = "SMARTCAR_CONNECT_ORIGIN"
	EnvManagementOrigin = "SMARTCAR_MANAGEMENT_API_ORIGIN"
	EnvClientID         = "SMARTCAR_CLIENT_ID"
	EnvClientSecret     = "SMARTCAR_CLIENT_SECRET"
	EnvRedirectURI      = "SMARTCAR_REDIRECT_URI"
)

// Config configures a Client. Empty fields get defaults in New.
type Config struct {
	ClientID     string
	ClientSecret string
	RedirectURI  string // optional: sent on Connect URLs and code exchanges when set

	ConnectOrigin    string // default DefaultConnectOrigin; "/oauth/authorize" is appended
	AuthOrigin       string // default DefaultAuthOrigin; "/oauth/token" is appended
	APIOrigin        string // default DefaultAPIOrigin; "/v2.0/..." is appended
	ManagementOrigin string // default DefaultManagementOrigin

	HTTPClient *http.Client  // default: a fresh client (never http.DefaultClient's shared state)
	Timeout    time.Duration // per request; 0 means DefaultTimeout, negative means none (ctx only)
	Mode       Mode          // Connect mode; default ModeLive
	UserAgent  string        // default "smartcar-sandbox-go-client/<Version> Go <version>"

	Now func() time.Time // clock for token expirations; default time.Now
}

// ConfigFromEnv returns a Config filled from the SMARTCAR_* environment variables.
func ConfigFromEnv() Config { return Config{}.WithEnv(os.LookupEnv) }

// WithEnv returns a copy of c whose empty fields are filled from lookup (e.g. os.LookupEnv), so
// explicit settings win over the environment. Like the Node SDK, the Connect origin falls back to
// SMARTCAR_API_ORIGIN when SMARTCAR_CONNECT_ORIGIN is unset: one sandbox origin then serves all.
func (c Config) WithEnv(lookup func(string) (string, bool)) Config {
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	fill := func(field *string, names ...string) {
		for _, n := range names {
			if *field != "" {
				return
			}
			*field = get(n)
		}
	}
	fill(&c.ClientID, EnvClientID)
	fill(&c.ClientSecret, EnvClientSecret)
	fill(&c.RedirectURI, EnvRedirectURI)
	fill(&c.APIOrigin, EnvAPIOrigin)
	fill(&c.AuthOrigin, EnvAuthOrigin)
	fill(&c.ConnectOrigin, EnvConnectOrigin, EnvAPIOrigin)
	fill(&c.ManagementOrigin, EnvManagementOrigin)
	return c
}

// Client talks to Smartcar. It is safe for concurrent use.
type Client struct {
	cfg  Config
	http *http.Client
}

// New validates cfg, applies defaults and returns a Client. Every problem is reported at once.
// ClientID and ClientSecret are not required here (a client used only for vehicle calls needs
// neither); the calls that need them fail with a clear error.
func New(cfg Config) (*Client, error) {
	var errs []error
	origin := func(name string, field *string, def string) {
		if *field == "" {
			*field = def
			return
		}
		o, err := normalizeOrigin(*field)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			return
		}
		*field = o
	}
	origin("ConnectOrigin", &cfg.ConnectOrigin, DefaultConnectOrigin)
	origin("AuthOrigin", &cfg.AuthOrigin, DefaultAuthOrigin)
	origin("APIOrigin", &cfg.APIOrigin, DefaultAPIOrigin)
	origin("ManagementOrigin", &cfg.ManagementOrigin, DefaultManagementOrigin)
	if cfg.Mode == "" {
		cfg.Mode = ModeLive
	} else if !cfg.Mode.valid() {
		errs = append(errs, fmt.Errorf("Mode: %q is not one of live, test, simulated", cfg.Mode))
	}
	if cfg.RedirectURI != "" {
		if u, err := url.Parse(cfg.RedirectURI); err != nil || u.Scheme == "" {
			errs = append(errs, fmt.Errorf("RedirectURI: %q is not an absolute URI", cfg.RedirectURI))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("smartcar client config: %w", errors.Join(errs...))
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "smartcar-sandbox-go-client/" + Version + " Go " + runtime.Version()
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{cfg: cfg, http: hc}, nil
}

// Config returns the effective configuration (with defaults applied).
func (c *Client) Config() Config { return c.cfg }

// normalizeOrigin accepts "scheme://host[:port]" with an optional trailing slash (and tolerates
// a path prefix, for sandboxes mounted under one) and returns it without the trailing slash.
func normalizeOrigin(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("%q is not a URL: %v", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("%q must start with http:// or https://", s)
	}
	if u.Host == "" {
		return "", fmt.Errorf("%q has no host", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q must not have a query or fragment", s)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// Meta is the response metadata Smartcar sends in headers.
type Meta struct {
	RequestID  string     // sc-request-id
	DataAge    time.Time  // sc-data-age (zero when absent or unparseable)
	FetchedAt  time.Time  // sc-fetched-at
	UnitSystem UnitSystem // sc-unit-system
}

func metaFrom(get func(string) string) Meta {
	return Meta{
		RequestID:  get("sc-request-id"),
		DataAge:    parseTime(get("sc-data-age")),
		FetchedAt:  parseTime(get("sc-fetched-at")),
		UnitSystem: UnitSystem(get("sc-unit-system")),
	}
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// request is one HTTP call; exactly one of form and jsonBody may be set.
type request struct {
	method   string
	url      string
	query    url.Values
	header   http.Header
	form     url.Values
	jsonBody any
	// basic auth; set when basicUser != ""
	basicUser, basicPass string
	bearer               string
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// maxBody bounds how much of a response is read, so a broken server cannot exhaust memory.
const maxBody = 16 << 20

func (c *Client) do(ctx context.Context, r request) (*response, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if c.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
	}
	u := r.url
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	var contentType string
	switch {
	case r.form != nil:
		body = strings.NewReader(r.form.Encode())
		contentType = "application/x-www-form-urlencoded"
	case r.jsonBody != nil:
		b, err := json.Marshal(r.jsonBody)
		if err != nil {
			return nil, fmt.Errorf("smartcar: encoding request body: %w", err)
		}
		body = bytes.NewReader(b)
		contentType = "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("smartcar: building request: %w", err)
	}
	for k, vs := range r.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	switch {
	case r.basicUser != "":
		req.SetBasicAuth(r.basicUser, r.basicPass)
	case r.bearer != "":
		req.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("smartcar: %s %s: %w", r.method, r.url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("smartcar: %s %s: reading response: %w", r.method, r.url, err)
	}
	out := &response{status: resp.StatusCode, header: resp.Header, body: b}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, newError(resp.StatusCode, resp.Header, b)
	}
	return out, nil
}

// decode unmarshals a success body into v, with an error that names the call when it is not JSON.
func (r *response) decode(what string, v any) error {
	if len(bytes.TrimSpace(r.body)) == 0 {
		return fmt.Errorf("smartcar: %s: empty response body (HTTP %d)", what, r.status)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		return fmt.Errorf("smartcar: %s: decoding response: %w", what, err)
	}
	return nil
}

func (r *response) meta() Meta { return metaFrom(r.header.Get) }
