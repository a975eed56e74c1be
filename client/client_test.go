package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// seen is one request as the fake server received it.
type seen struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   string
}

// fake is a 127.0.0.1 server that records requests and answers with a fixed response.
type fake struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []seen
	status int
	header map[string]string
	body   string
}

func newFake(t *testing.T, status int, body string, header map[string]string) *fake {
	t.Helper()
	f := &fake{status: status, body: body, header: header}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(b)})
		status, body := f.status, f.body
		f.mu.Unlock()
		for k, v := range f.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fake) respond(status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.body = status, body
}

func (f *fake) last(t *testing.T) seen {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		t.Fatal("no request reached the fake server")
	}
	return f.reqs[len(f.reqs)-1]
}

var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newTestClient(t *testing.T, origin string) *Client {
	t.Helper()
	c, err := New(Config{
		ClientID: "cid", ClientSecret: "secret", RedirectURI: "http://localhost:8000/exchange",
		ConnectOrigin: origin, AuthOrigin: origin, APIOrigin: origin, ManagementOrigin: origin,
		Now: func() time.Time { return fixedNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestNewDefaultsAndValidation(t *testing.T) {
	c, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	got := c.Config()
	want := [...]string{DefaultConnectOrigin, DefaultAuthOrigin, DefaultAPIOrigin, DefaultManagementOrigin, string(ModeLive)}
	have := [...]string{got.ConnectOrigin, got.AuthOrigin, got.APIOrigin, got.ManagementOrigin, string(got.Mode)}
	if have != want {
		t.Errorf("defaults = %v, want %v", have, want)
	}
	if got.Timeout != DefaultTimeout {
		t.Errorf("timeout = %v, want %v", got.Timeout, DefaultTimeout)
	}

	c, err = New(Config{APIOrigin: "http://127.0.0.1:4000/"})
	if err != nil {
		t.Fatal(err)
	}
	if o := c.Config().APIOrigin; o != "http://127.0.0.1:4000" {
		t.Errorf("trailing slash kept: %q", o)
	}

	_, err = New(Config{APIOrigin: "ftp://x", AuthOrigin: "localhost:4000", Mode: "sandbox", RedirectURI: "/exchange"})
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, part := range []string{"APIOrigin", "AuthOrigin", "Mode", "RedirectURI"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not mention %s (all problems must be listed at once)", err, part)
		}
	}
}

func TestConfigWithEnv(t *testing.T) {
	env := map[string]string{
		EnvAPIOrigin: "http://127.0.0.1:1", EnvAuthOrigin: "http://127.0.0.1:2",
		EnvManagementOrigin: "http://127.0.0.1:3", EnvClientID: "env-id", EnvClientSecret: "env-secret",
		EnvRedirectURI: "http://env/redirect",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	got := Config{ClientID: "explicit"}.WithEnv(lookup)
	want := Config{ClientID: "explicit", ClientSecret: "env-secret", RedirectURI: "http://env/redirect",
		APIOrigin: "http://127.0.0.1:1", AuthOrigin: "http://127.0.0.1:2", ManagementOrigin: "http://127.0.0.1:3",
		ConnectOrigin: "http://127.0.0.1:1"} // falls back to the API origin, like the Node SDK
	if !reflect.DeepEqual(got, want) {
		t.Errorf("WithEnv =\n%+v\nwant\n%+v", got, want)
	}

	env[EnvConnectOrigin] = "http://127.0.0.1:9"
	if got := (Config{}).WithEnv(lookup).ConnectOrigin; got != "http://127.0.0.1:9" {
		t.Errorf("ConnectOrigin = %q, want SMARTCAR_CONNECT_ORIGIN", got)
	}
	t.Setenv(EnvClientID, "from-process-env")
	if got := ConfigFromEnv().ClientID; got != "from-process-env" {
		t.Errorf("ConfigFromEnv ClientID = %q", got)
	}
}

func TestAuthURL(t *testing.T) {
	c := newTestClient(t, "http://127.0.0.1:5000")
	tests := []struct {
		name string
		opts AuthURLOptions
		want string
	}{
		{"minimal", AuthURLOptions{},
			"http://127.0.0.1:5000/oauth/authorize?response_type=code&client_id=cid&approval_prompt=auto&redirect_uri=http%3A%2F%2Flocalhost%3A8000%2Fexchange&mode=live"},
		{"everything", AuthURLOptions{
			Scope: []string{Required("read_vehicle_info"), "read_odometer"}, ForcePrompt: true, State: "s t&=",
			Make: "TESLA", SingleSelect: true, Flags: map[string]string{"country": "DE", "color": "00819D"},
			User: "u-1", ExternalID: "ext 1", Mode: ModeTest,
		}, "http://127.0.0.1:5000/oauth/authorize?response_type=code&client_id=cid&approval_prompt=force&redirect_uri=http%3A%2F%2Flocalhost%3A8000%2Fexchange&scope=required%3Aread_vehicle_info%20read_odometer&state=s%20t%26%3D&single_select=true&make=TESLA&flags=color%3A00819D%20country%3ADE&user=u-1&external_id=ext%201&mode=test"},
		{"vin forces single select", AuthURLOptions{SingleSelectVIN: "5YJSA1E14FF101307", Mode: ModeSimulated},
			"http://127.0.0.1:5000/oauth/authorize?response_type=code&client_id=cid&approval_prompt=auto&redirect_uri=http%3A%2F%2Flocalhost%3A8000%2Fexchange&single_select=true&single_select_vin=5YJSA1E14FF101307&mode=simulated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.AuthURL(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			// The URL must also round-trip through a standard parser with the same values.
			u, err := url.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			if tt.opts.State != "" && u.Query().Get("state") != tt.opts.State {
				t.Errorf("state round trip = %q", u.Query().Get("state"))
			}
		})
	}

	bad := []AuthURLOptions{{Mode: "demo"}, {Scope: []string{"a b"}}, {Flags: map[string]string{"a:b": "c"}}}
	for _, o := range bad {
		if _, err := c.AuthURL(o); err == nil {
			t.Errorf("AuthURL(%+v) accepted", o)
		}
	}
	noID, _ := New(Config{})
	if _, err := noID.AuthURL(AuthURLOptions{}); err == nil || !strings.Contains(err.Error(), "ClientID") {
		t.Errorf("missing ClientID: err = %v", err)
	}
}

func TestTokenRequests(t *testing.T) {
	tests := []struct {
		name     string
		call     func(*Client) (*Access, error)
		wantForm url.Values
		body     string
		want     Access
	}{
		{"exchange", func(c *Client) (*Access, error) { return c.ExchangeCode(context.Background(), "code-1") },
			url.Values{"grant_type": {"authorization_code"}, "code": {"code-1"}, "redirect_uri": {"http://localhost:8000/exchange"}},
			`{"access_token":"at","token_type":"Bearer","expires_in":7200,"refresh_token":"rt"}`,
			Access{AccessToken: "at", RefreshToken: "rt", TokenType: "Bearer", ExpiresIn: 7200,
				Expiration: fixedNow.Add(2 * time.Hour), RefreshExpiration: fixedNow.Add(60 * 24 * time.Hour)}},
		{"refresh", func(c *Client) (*Access, error) { return c.RefreshToken(context.Background(), "rt-old") },
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt-old"}},
			`{"access_token":"at2","token_type":"Bearer","expires_in":60,"refresh_token":"rt2"}`,
			Access{AccessToken: "at2", RefreshToken: "rt2", TokenType: "Bearer", ExpiresIn: 60,
				Expiration: fixedNow.Add(time.Minute), RefreshExpiration: fixedNow.Add(60 * 24 * time.Hour)}},
		{"client credentials", func(c *Client) (*Access, error) { return c.ClientCredentials(context.Background()) },
			url.Values{"grant_type": {"client_credentials"}},
			`{"access_token":"app","token_type":"Bearer","expires_in":3600}`,
			Access{AccessToken: "app", TokenType: "Bearer", ExpiresIn: 3600, Expiration: fixedNow.Add(time.Hour)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, 200, tt.body, map[string]string{"Content-Type": "application/json"})
			got, err := tt.call(newTestClient(t, f.URL))
			if err != nil {
				t.Fatal(err)
			}
			if *got != tt.want {
				t.Errorf("access = %+v\nwant %+v", *got, tt.want)
			}
			r := f.last(t)
			if r.Method != "POST" || r.Path != "/oauth/token" {
				t.Errorf("request = %s %s", r.Method, r.Path)
			}
			if h := r.Header.Get("Authorization"); h != basic("cid", "secret") {
				t.Errorf("Authorization = %q", h)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
				t.Errorf("Content-Type = %q", ct)
			}
			if r.Header.Get("User-Agent") == "" {
				t.Error("no User-Agent (Smartcar requires one)")
			}
			form, err := url.ParseQuery(r.Body)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(form, tt.wantForm) {
				t.Errorf("form = %v, want %v", form, tt.wantForm)
			}
		})
	}
}

func TestTokenBadResponses(t *testing.T) {
	for _, body := range []string{``, `not json`, `{"token_type":"Bearer"}`, `{"access_token":"a","expires_in":"soon"}`} {
		f := newFake(t, 200, body, nil)
		if _, err := newTestClient(t, f.URL).ExchangeCode(context.Background(), "c"); err == nil {
			t.Errorf("body %q accepted", body)
		}
	}
	noSecret, _ := New(Config{ClientID: "x"})
	if _, err := noSecret.ExchangeCode(context.Background(), "c"); err == nil {
		t.Error("exchange without a secret accepted")
	}
	c := newTestClient(t, "http://127.0.0.1:1")
	if _, err := c.ExchangeCode(context.Background(), ""); err == nil {
		t.Error("empty code accepted")
	}
	if _, err := c.RefreshToken(context.Background(), ""); err == nil {
		t.Error("empty refresh token accepted")
	}
}

func TestAccessExpired(t *testing.T) {
	a := Access{Expiration: fixedNow.Add(time.Minute)}
	tests := []struct {
		now    time.Time
		margin time.Duration
		want   bool
	}{
		{fixedNow, 0, false},
		{fixedNow, 30 * time.Second, false},
		{fixedNow, time.Minute, true},
		{fixedNow.Add(2 * time.Minute), 0, true},
	}
	for _, tt := range tests {
		if got := a.Expired(tt.now, tt.margin); got != tt.want {
			t.Errorf("Expired(%v, %v) = %v, want %v", tt.now, tt.margin, got, tt.want)
		}
	}
}

func goldenPath(name string) string { return filepath.Join("testdata", name) }

// checkGolden compares got with testdata/name (rewritten with -update).
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := goldenPath(name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s mismatch\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestTimeoutAndContext(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)

	c, err := New(Config{APIOrigin: srv.URL, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.User(context.Background(), "tok")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout err = %v, want DeadlineExceeded", err)
	}
	var se *Error
	if errors.As(err, &se) {
		t.Error("a transport failure must not be a *Error")
	}

	c, _ = New(Config{APIOrigin: srv.URL})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.User(ctx, "tok"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx err = %v", err)
	}
}
