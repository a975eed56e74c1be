package tutorial

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/client"
)

// fakeSmartcar is a tiny Smartcar: codes map to vehicles, tokens are counters.
type fakeSmartcar struct {
	*httptest.Server
	mu        sync.Mutex
	expiresIn int
	codes     map[string]string // code -> vehicle id
	access    map[string]string // live access token -> vehicle id
	refresh   map[string]string // live refresh token -> vehicle id
	n         int
	refreshes int
	forms     []url.Values
}

func newFakeSmartcar(t *testing.T) *fakeSmartcar {
	f := &fakeSmartcar{expiresIn: 7200, codes: map[string]string{"code-a": "veh-a", "code-b": "veh-b"},
		access: map[string]string{}, refresh: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", f.token)
	mux.HandleFunc("GET /v2.0/vehicles", f.auth(func(w http.ResponseWriter, r *http.Request, veh string) {
		fmt.Fprintf(w, `{"vehicles":[%q],"paging":{"count":1,"offset":0}}`, veh)
	}))
	mux.HandleFunc("GET /v2.0/vehicles/{id}", f.auth(func(w http.ResponseWriter, r *http.Request, veh string) {
		if r.PathValue("id") != veh {
			w.WriteHeader(403)
			io.WriteString(w, `{"type":"PERMISSION","code":null,"description":"not yours","statusCode":403,"resolution":{"type":null}}`)
			return
		}
		w.Header().Set("SC-Request-Id", "rq-"+veh)
		fmt.Fprintf(w, `{"id":%q,"make":"TESLA","model":"Model %s","year":2020}`, veh, strings.ToUpper(veh[4:]))
	}))
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSmartcar) issue(w http.ResponseWriter, veh string) {
	f.n++
	at, rt := fmt.Sprintf("at-%d", f.n), fmt.Sprintf("rt-%d", f.n)
	f.access[at], f.refresh[rt] = veh, veh
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":%d,"refresh_token":%q}`, at, f.expiresIn, rt)
}

func (f *fakeSmartcar) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r.ParseForm()
	f.forms = append(f.forms, r.PostForm)
	if id, secret, _ := r.BasicAuth(); id != "cid" || secret != "secret" {
		w.WriteHeader(401)
		io.WriteString(w, `{"error":"invalid_client","error_description":"bad client"}`)
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		veh, ok := f.codes[r.PostForm.Get("code")]
		if !ok {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"Invalid or expired code."}`)
			return
		}
		f.issue(w, veh)
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		veh, ok := f.refresh[rt]
		if !ok {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"Invalid refresh token."}`)
			return
		}
		delete(f.refresh, rt) // rotation
		f.refreshes++
		f.issue(w, veh)
	default:
		w.WriteHeader(400)
		io.WriteString(w, `{"error":"unsupported_grant_type","error_description":"no"}`)
	}
}

func (f *fakeSmartcar) auth(next func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		veh, ok := f.access[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(401)
			io.WriteString(w, `{"type":"AUTHENTICATION","code":null,"description":"bad token","statusCode":401,"resolution":{"type":"REAUTHENTICATE"}}`)
			return
		}
		next(w, r, veh)
	}
}

// revokeAccess invalidates every access token, as if they had expired on the server.
func (f *fakeSmartcar) revokeAccess() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.access = map[string]string{}
}

func (f *fakeSmartcar) refreshCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refreshes
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

type env struct {
	sc      *fakeSmartcar
	backend *httptest.Server
	h       *Handler
	clock   *clock
}

func newEnv(t *testing.T, mutate func(*Config)) *env {
	t.Helper()
	sc := newFakeSmartcar(t)
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	c, err := client.New(client.Config{ClientID: "cid", ClientSecret: "secret",
		RedirectURI: "http://127.0.0.1:8000/exchange", ConnectOrigin: sc.URL, AuthOrigin: sc.URL, APIOrigin: sc.URL,
		Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Client: c, Now: clk.Now}
	if mutate != nil {
		mutate(&cfg)
	}
	h, err := NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{sc: sc, backend: srv, h: h, clock: clk}
}

// phone is one app instance: its own cookie jar, no redirect following.
func phone(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (int, http.Header, map[string]any) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if resp.StatusCode != http.StatusFound {
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("GET %s: body is not JSON: %v", u, err)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("GET %s: Content-Type = %q", u, ct)
		}
	}
	return resp.StatusCode, resp.Header, body
}

func TestLoginRedirect(t *testing.T) {
	e := newEnv(t, nil)
	status, hdr, _ := get(t, phone(t), e.backend.URL+"/login")
	if status != http.StatusFound {
		t.Fatalf("status = %d", status)
	}
	u, err := url.Parse(hdr.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := u.Scheme+"://"+u.Host+u.Path, e.sc.URL+"/oauth/authorize"; got != want {
		t.Errorf("Connect URL = %s, want %s", got, want)
	}
	want := url.Values{"response_type": {"code"}, "client_id": {"cid"}, "approval_prompt": {"auto"},
		"redirect_uri": {"http://127.0.0.1:8000/exchange"}, "scope": {"required:read_vehicle_info"}, "mode": {"test"}}
	if got := u.Query(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("query = %v\nwant    %v", got, want)
	}
	if hdr.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("CORS header missing")
	}
}

func TestExchangeAndVehicleIsolatedPerSession(t *testing.T) {
	e := newEnv(t, nil)
	a, b := phone(t), phone(t)

	if status, _, body := get(t, a, e.backend.URL+"/vehicle"); status != 401 || body["error"] != "not_connected" {
		t.Errorf("vehicle before exchange = %d %v", status, body)
	}

	status, hdr, body := get(t, a, e.backend.URL+"/exchange?code=code-a")
	if status != 200 || body["status"] != "connected" {
		t.Fatalf("exchange = %d %v", status, body)
	}
	for _, k := range []string{"access_token", "refresh_token", "accessToken"} {
		if _, leaked := body[k]; leaked {
			t.Errorf("exchange response leaks %s", k)
		}
	}
	sc := hdr.Get("Set-Cookie")
	if !strings.HasPrefix(sc, SessionCookie+"=") || !strings.Contains(sc, "HttpOnly") {
		t.Errorf("Set-Cookie = %q", sc)
	}
	if status, _, _ := get(t, b, e.backend.URL+"/exchange?code=code-b"); status != 200 {
		t.Fatalf("exchange b = %d", status)
	}

	for _, tc := range []struct {
		c    *http.Client
		want map[string]any
	}{
		{a, map[string]any{"id": "veh-a", "make": "TESLA", "model": "Model A", "year": 2020.0, "meta": map[string]any{"requestId": "rq-veh-a"}}},
		{b, map[string]any{"id": "veh-b", "make": "TESLA", "model": "Model B", "year": 2020.0, "meta": map[string]any{"requestId": "rq-veh-b"}}},
	} {
		status, _, body := get(t, tc.c, e.backend.URL+"/vehicle")
		if status != 200 || fmt.Sprint(body) != fmt.Sprint(tc.want) {
			t.Errorf("vehicle = %d %v, want %v", status, body, tc.want)
		}
	}
	if n := e.h.Sessions(); n != 2 {
		t.Errorf("sessions = %d, want 2", n)
	}
	// A third phone without a cookie is still not connected.
	if status, _, _ := get(t, phone(t), e.backend.URL+"/vehicle"); status != 401 {
		t.Errorf("stranger got %d", status)
	}
	// Exchanging again in the same session reuses the session.
	get(t, a, e.backend.URL+"/exchange?code=code-a")
	if n := e.h.Sessions(); n != 2 {
		t.Errorf("sessions after re-exchange = %d, want 2", n)
	}
}

func TestExchangeErrors(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		query     string
		status    int
		wantError string
		wantType  string
	}{
		{"", 400, "missing_code", ""},
		{"?code=", 400, "missing_code", ""},
		{"?code=nope", 400, "exchange_failed", "invalid_grant"},
		{"?error=access_denied&error_description=User+denied+access", 400, "access_denied", ""},
	}
	for _, tt := range tests {
		status, _, body := get(t, phone(t), e.backend.URL+"/exchange"+tt.query)
		if status != tt.status || body["error"] != tt.wantError {
			t.Errorf("%q: %d %v, want %d %s", tt.query, status, body, tt.status, tt.wantError)
		}
		if tt.wantType != "" && body["type"] != tt.wantType {
			t.Errorf("%q: type = %v, want %s", tt.query, body["type"], tt.wantType)
		}
		if body["description"] == "" || body["description"] == nil {
			t.Errorf("%q: no description", tt.query)
		}
	}

	// Smartcar unreachable → 502.
	dead, _ := client.New(client.Config{ClientID: "cid", ClientSecret: "secret", AuthOrigin: "http://127.0.0.1:1"})
	h, err := NewHandler(Config{Client: dead})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/exchange?code=x", nil))
	if rec.Code != http.StatusBadGateway {
		t.Errorf("unreachable auth = %d %s", rec.Code, rec.Body)
	}
}

func TestRefreshOnExpiry(t *testing.T) {
	e := newEnv(t, nil)
	p := phone(t)
	get(t, p, e.backend.URL+"/exchange?code=code-a")

	e.clock.Advance(2*time.Hour - 30*time.Second) // within the refresh margin
	if status, _, body := get(t, p, e.backend.URL+"/vehicle"); status != 200 || body["id"] != "veh-a" {
		t.Fatalf("vehicle after expiry = %d %v", status, body)
	}
	if n := e.sc.refreshCount(); n != 1 {
		t.Errorf("refreshes = %d, want 1", n)
	}
	// The rotated refresh token was stored: expiring again refreshes with it successfully.
	e.clock.Advance(3 * time.Hour)
	if status, _, _ := get(t, p, e.backend.URL+"/vehicle"); status != 200 {
		t.Fatalf("second refresh failed: %d", status)
	}
	if n := e.sc.refreshCount(); n != 2 {
		t.Errorf("refreshes = %d, want 2", n)
	}
	// Not expired: no refresh.
	get(t, p, e.backend.URL+"/vehicle")
	if n := e.sc.refreshCount(); n != 2 {
		t.Errorf("refreshed a valid token: %d", n)
	}
}

func TestRefreshOnAuthenticationError(t *testing.T) {
	e := newEnv(t, nil)
	p := phone(t)
	get(t, p, e.backend.URL+"/exchange?code=code-a")
	e.sc.revokeAccess() // the server forgets the access token although our clock says it is valid
	if status, _, body := get(t, p, e.backend.URL+"/vehicle"); status != 200 || body["id"] != "veh-a" {
		t.Fatalf("vehicle = %d %v", status, body)
	}
	if n := e.sc.refreshCount(); n != 1 {
		t.Errorf("refreshes = %d, want 1", n)
	}
}

func TestDeadRefreshTokenDropsSession(t *testing.T) {
	e := newEnv(t, nil)
	p := phone(t)
	get(t, p, e.backend.URL+"/exchange?code=code-a")
	e.sc.mu.Lock()
	e.sc.refresh = map[string]string{}
	e.sc.access = map[string]string{}
	e.sc.mu.Unlock()
	status, _, body := get(t, p, e.backend.URL+"/vehicle")
	if status != 401 || body["error"] != "reauthenticate" || body["type"] != "invalid_grant" {
		t.Errorf("vehicle = %d %v", status, body)
	}
	if n := e.h.Sessions(); n != 0 {
		t.Errorf("sessions = %d, want the dead one dropped", n)
	}
	if status, _, body := get(t, p, e.backend.URL+"/vehicle"); status != 401 || body["error"] != "not_connected" {
		t.Errorf("after drop = %d %v", status, body)
	}
}

func TestSmartcarErrorPassthrough(t *testing.T) {
	e := newEnv(t, nil)
	e.sc.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/token" {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"access_token":"at","token_type":"Bearer","expires_in":7200,"refresh_token":"rt"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(429)
		io.WriteString(w, `{"type":"RATE_LIMIT","code":"VEHICLE","description":"slow down","docURL":"d","statusCode":429,"requestId":"r1","resolution":{"type":"RETRY_LATER"},"suggestedUserMessage":"wait"}`)
	})
	p := phone(t)
	get(t, p, e.backend.URL+"/exchange?code=anything")
	status, hdr, body := get(t, p, e.backend.URL+"/vehicle")
	want := map[string]any{"type": "RATE_LIMIT", "code": "VEHICLE", "description": "slow down", "docURL": "d",
		"statusCode": 429.0, "requestId": "r1", "resolution": map[string]any{"type": "RETRY_LATER"}, "suggestedUserMessage": "wait"}
	if status != 429 || fmt.Sprint(body) != fmt.Sprint(want) {
		t.Errorf("got %d %v\nwant %v", status, body, want)
	}
	if hdr.Get("Retry-After") != "7" {
		t.Errorf("Retry-After = %q", hdr.Get("Retry-After"))
	}
}

func TestSessionsAreBounded(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxSessions = 2 })
	phones := []*http.Client{phone(t), phone(t), phone(t)}
	for _, p := range phones {
		get(t, p, e.backend.URL+"/exchange?code=code-a")
	}
	if n := e.h.Sessions(); n != 2 {
		t.Errorf("sessions = %d, want 2", n)
	}
	if status, _, _ := get(t, phones[0], e.backend.URL+"/vehicle"); status != 401 {
		t.Errorf("oldest session not evicted: %d", status)
	}
	if status, _, _ := get(t, phones[2], e.backend.URL+"/vehicle"); status != 200 {
		t.Errorf("newest session evicted: %d", status)
	}
}

func TestCORSPreflightAndUnknownRoute(t *testing.T) {
	e := newEnv(t, nil)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("OPTIONS", "/vehicle", nil)
	req.Header.Set("Access-Control-Request-Headers", "x-app")
	e.h.ServeHTTP(rec, req)
	if rec.Code != 204 || rec.Header().Get("Access-Control-Allow-Origin") != "*" || rec.Header().Get("Access-Control-Allow-Headers") != "x-app" {
		t.Errorf("preflight = %d %v", rec.Code, rec.Header())
	}
	status, _, body := get(t, phone(t), e.backend.URL+"/nope")
	if status != 404 || body["error"] != "not_found" {
		t.Errorf("unknown route = %d %v", status, body)
	}
}

// TestCORSForWebOrigins: a configured web front-end may send the session cookie (its origin
// echoed with credentials allowed); any other origin keeps the official backend's "*".
func TestCORSForWebOrigins(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.WebOrigins = []string{"http://localhost:3000"} })
	tests := []struct {
		name, method, origin string
		wantOrigin, wantCred string
	}{
		{"web front-end", "GET", "http://localhost:3000", "http://localhost:3000", "true"},
		{"web front-end preflight", "OPTIONS", "http://localhost:3000", "http://localhost:3000", "true"},
		{"other origin", "GET", "http://evil.example", "*", ""},
		{"other port", "GET", "http://localhost:3001", "*", ""},
		{"no origin (the phone app)", "GET", "", "*", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(tc.method, "/vehicle", nil)
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			e.h.ServeHTTP(rec, req)
			h := rec.Header()
			if h.Get("Access-Control-Allow-Origin") != tc.wantOrigin || h.Get("Access-Control-Allow-Credentials") != tc.wantCred {
				t.Errorf("Allow-Origin %q, Allow-Credentials %q; want %q, %q", h.Get("Access-Control-Allow-Origin"),
					h.Get("Access-Control-Allow-Credentials"), tc.wantOrigin, tc.wantCred)
			}
			if !slices.Contains(h.Values("Vary"), "Origin") {
				t.Errorf("Vary %v: caches must keep answers per origin", h.Values("Vary"))
			}
		})
	}
}

func TestNewHandlerValidates(t *testing.T) {
	if _, err := NewHandler(Config{}); err == nil {
		t.Error("nil client accepted")
	}
	noID, _ := client.New(client.Config{})
	if _, err := NewHandler(Config{Client: noID}); err == nil {
		t.Error("client without id accepted")
	}
}

func TestConcurrentRefreshSpendsOneRefreshToken(t *testing.T) {
	e := newEnv(t, nil)
	p := phone(t)
	get(t, p, e.backend.URL+"/exchange?code=code-a")
	e.clock.Advance(3 * time.Hour)
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := p.Get(e.backend.URL + "/vehicle")
			if err != nil {
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != 200 {
			t.Errorf("request %d: status %d", i, c)
		}
	}
	if n := e.sc.refreshCount(); n != 1 {
		t.Errorf("refreshes = %d, want 1", n)
	}
}
