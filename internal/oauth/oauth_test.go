package oauth_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/connect/connecttest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

type reply struct {
	Status int
	Header http.Header
	Body   map[string]any
}

// post sends a token request. user/pass "" means no Basic auth.
func post(t testing.TB, h *sandboxtest.Harness, path, user, pass, contentType, body string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	return roundTrip(t, h, req)
}

func roundTrip(t testing.TB, h *sandboxtest.Harness, req *http.Request) reply {
	t.Helper()
	res, err := h.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%d body is not JSON: %q", res.StatusCode, raw)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q", ct)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("Cache-Control = %q", res.Header.Get("Cache-Control"))
	}
	return reply{res.StatusCode, res.Header, m}
}

const form = "application/x-www-form-urlencoded"

func exchange(t testing.TB, h *sandboxtest.Harness, code, redirect string) reply {
	t.Helper()
	return post(t, h, "/oauth/token", sandboxtest.ClientID, sandboxtest.ClientSecret, form,
		url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}.Encode())
}

// connectCode runs the real Connect flow and returns the code.
func connectCode(t testing.TB, h *sandboxtest.Harness, q url.Values) string {
	t.Helper()
	base := url.Values{"response_type": {"code"}, "client_id": {sandboxtest.ClientID}, "redirect_uri": {sandboxtest.RedirectURI},
		"scope": {"read_odometer read_vehicle_info"}, "mode": {"test"}, "approval_prompt": {"force"}}
	for k, v := range q {
		base[k] = v
	}
	p := connecttest.NewBrowser(h.URL).Flow(t, base, "TESLA", sandboxtest.DemoUser)
	if p.Status != http.StatusFound {
		t.Fatalf("Connect ended in %d:\n%s", p.Status, p.Body)
	}
	loc := p.Location(t)
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", loc)
	}
	return code
}

func wantError(t *testing.T, r reply, status int, code string) {
	t.Helper()
	if r.Status != status || r.Body["error"] != code || r.Body["error_description"] == "" {
		t.Fatalf("got %d %v, want %d %s", r.Status, r.Body, status, code)
	}
}

func TestCodeExchange(t *testing.T) {
	h := sandboxtest.MustStart(t)
	for _, path := range []string{"/oauth/token", "/oauth/token/", "/oauth/token?flags=country:DE"} {
		t.Run(path, func(t *testing.T) {
			code := connectCode(t, h, nil)
			r := post(t, h, path, sandboxtest.ClientID, sandboxtest.ClientSecret, form,
				url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {sandboxtest.RedirectURI}}.Encode())
			if r.Status != 200 || r.Body["token_type"] != "Bearer" || r.Body["expires_in"] != float64(7200) || !sandbox.IsUUID(r.Body["refresh_token"].(string)) {
				t.Fatalf("%d %v", r.Status, r.Body)
			}
			if _, err := h.Tokens.Verify(r.Body["access_token"].(string)); err != nil {
				t.Fatal(err)
			}
			wantError(t, exchange(t, h, code, sandboxtest.RedirectURI), 400, "invalid_grant") // reuse
		})
	}
}

func TestCodeErrors(t *testing.T) {
	h := sandboxtest.MustStart(t)
	other := sandbox.Application{Name: "Other", ClientID: "other", ClientSecret: "other-secret", RedirectURIs: []string{"scother://exchange"}}
	if err := h.Store.PutApplication(other); err != nil {
		t.Fatal(err)
	}
	t.Run("expired", func(t *testing.T) {
		code := connectCode(t, h, nil)
		h.Clock.Advance(11 * time.Minute)
		wantError(t, exchange(t, h, code, sandboxtest.RedirectURI), 400, "invalid_grant")
	})
	t.Run("another client's code", func(t *testing.T) {
		code := connectCode(t, h, nil)
		r := post(t, h, "/oauth/token", "other", "other-secret", form, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {sandboxtest.RedirectURI}}.Encode())
		wantError(t, r, 400, "invalid_grant")
	})
	t.Run("redirect mismatch", func(t *testing.T) {
		wantError(t, exchange(t, h, connectCode(t, h, nil), "http://localhost:8000/exchange"), 400, "invalid_grant")
	})
	t.Run("undefined redirect with two registered URIs", func(t *testing.T) {
		wantError(t, exchange(t, h, connectCode(t, h, nil), "undefined"), 400, "invalid_grant")
	})
	t.Run("unknown code", func(t *testing.T) {
		wantError(t, exchange(t, h, "f0f0f0f0-0000-4000-8000-000000000000", sandboxtest.RedirectURI), 400, "invalid_grant")
	})
	t.Run("missing code", func(t *testing.T) {
		wantError(t, exchange(t, h, "", sandboxtest.RedirectURI), 400, "invalid_request")
	})
}

// TestUndefinedRedirect: the Node SDK sends redirect_uri=undefined when none was configured;
// that is fine when the app has one registered URI (which Connect then used).
func TestUndefinedRedirect(t *testing.T) {
	h := sandboxtest.MustStart(t)
	one := sandbox.Application{Name: "One", ClientID: "one", ClientSecret: "one-secret", RedirectURIs: []string{"scone://exchange"}}
	if err := h.Store.PutApplication(one); err != nil {
		t.Fatal(err)
	}
	for _, body := range []url.Values{
		{"redirect_uri": {"undefined"}},
		{"redirect_uri": {""}},
		{},
		{"redirect_uri": {"scone://exchange"}},
	} {
		code := connectCode(t, h, url.Values{"client_id": {"one"}, "redirect_uri": {""}})
		body.Set("grant_type", "authorization_code")
		body.Set("code", code)
		r := post(t, h, "/oauth/token", "one", "one-secret", form, body.Encode())
		if r.Status != 200 {
			t.Fatalf("%v: %d %v", body, r.Status, r.Body)
		}
	}
}

func TestClientAuthentication(t *testing.T) {
	h := sandboxtest.MustStart(t)
	body := "grant_type=client_credentials"
	for _, tc := range []struct {
		name       string
		user, pass string
		body       string
		status     int
	}{
		{"basic", sandboxtest.ClientID, sandboxtest.ClientSecret, body, 200},
		{"form fields", "", "", body + "&client_id=" + sandboxtest.ClientID + "&client_secret=" + sandboxtest.ClientSecret, 200},
		{"wrong secret", sandboxtest.ClientID, "nope", body, 401},
		{"secret prefix", sandboxtest.ClientID, sandboxtest.ClientSecret[:5], body, 401},
		{"unknown client", "ghost", "x", body, 401},
		{"none", "", "", body, 401},
		{"form wrong secret", "", "", body + "&client_id=" + sandboxtest.ClientID + "&client_secret=x", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, h, "/oauth/token", tc.user, tc.pass, form, tc.body)
			if r.Status != tc.status {
				t.Fatalf("%d %v", r.Status, r.Body)
			}
			if tc.status == 401 {
				wantError(t, r, 401, "invalid_client")
				if got := r.Header.Get("WWW-Authenticate"); got != `Basic realm="smartcar-sandbox"` {
					t.Fatalf("WWW-Authenticate = %q", got)
				}
				return
			}
			if r.Body["expires_in"] != float64(3600) || r.Body["token_type"] != "Bearer" {
				t.Fatalf("%v", r.Body)
			}
			if _, has := r.Body["refresh_token"]; has {
				t.Fatal("client credentials must not return a refresh token")
			}
			c, err := h.Tokens.Verify(r.Body["access_token"].(string))
			if err != nil || c.Kind != "application" || c.ClientID != sandboxtest.ClientID {
				t.Fatalf("%+v %v", c, err)
			}
		})
	}
	t.Run("bearer header", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, h.URL+"/oauth/token", strings.NewReader(body))
		req.Header.Set("Content-Type", form)
		req.Header.Set("Authorization", "Bearer abc")
		wantError(t, roundTrip(t, h, req), 401, "invalid_client")
	})
}

func TestRequestErrors(t *testing.T) {
	h := sandboxtest.MustStart(t)
	id, secret := sandboxtest.ClientID, sandboxtest.ClientSecret
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		code                    string
	}{
		{"no grant_type", form, "", 400, "invalid_request"},
		{"unsupported grant", form, "grant_type=password", 400, "unsupported_grant_type"},
		{"json body", "application/json", `{"grant_type":"client_credentials"}`, 400, "invalid_request"},
		{"no content type", "", "grant_type=client_credentials", 400, "invalid_request"},
		{"bad form", form, "grant_type=%zz", 400, "invalid_request"},
		{"repeated parameter", form, "grant_type=refresh_token&grant_type=client_credentials", 400, "invalid_request"},
		{"missing refresh token", form, "grant_type=refresh_token", 400, "invalid_request"},
		{"unknown refresh token", form, "grant_type=refresh_token&refresh_token=nope", 400, "invalid_grant"},
		{"oversize", form, "grant_type=client_credentials&x=" + strings.Repeat("a", 2<<20), 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, post(t, h, "/oauth/token", id, secret, tc.contentType, tc.body), tc.status, tc.code)
		})
	}
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(m, h.URL+"/oauth/token/", nil)
		r := roundTrip(t, h, req)
		wantError(t, r, 405, "invalid_request")
		if r.Header.Get("Allow") != http.MethodPost {
			t.Fatalf("Allow = %q", r.Header.Get("Allow"))
		}
	}
}

func TestRefreshRotation(t *testing.T) {
	h := sandboxtest.MustStart(t)
	first := exchange(t, h, connectCode(t, h, nil), sandboxtest.RedirectURI)
	rt := first.Body["refresh_token"].(string)
	refresh := func(tok string) reply {
		return post(t, h, "/oauth/token", sandboxtest.ClientID, sandboxtest.ClientSecret, form, "grant_type=refresh_token&refresh_token="+url.QueryEscape(tok))
	}
	second := refresh(rt)
	if second.Status != 200 || second.Body["refresh_token"] == rt {
		t.Fatalf("%d %v", second.Status, second.Body)
	}
	// Within the grace minute the old token still works (a client that lost the response).
	h.Clock.Advance(30 * time.Second)
	if r := refresh(rt); r.Status != 200 {
		t.Fatalf("within grace: %d %v", r.Status, r.Body)
	}
	h.Clock.Advance(31 * time.Second)
	wantError(t, refresh(rt), 400, "invalid_grant")
	third := refresh(second.Body["refresh_token"].(string))
	if third.Status != 200 {
		t.Fatalf("%d %v", third.Status, third.Body)
	}

	t.Run("another client's refresh token", func(t *testing.T) {
		if err := h.Store.PutApplication(sandbox.Application{Name: "O", ClientID: "o", ClientSecret: "os", RedirectURIs: []string{"sco://x"}}); err != nil {
			t.Fatal(err)
		}
		r := post(t, h, "/oauth/token", "o", "os", form, "grant_type=refresh_token&refresh_token="+third.Body["refresh_token"].(string))
		wantError(t, r, 400, "invalid_grant")
	})
	t.Run("expires after 60 days", func(t *testing.T) {
		r := exchange(t, h, connectCode(t, h, nil), sandboxtest.RedirectURI)
		h.Clock.Advance(60*24*time.Hour + time.Second)
		wantError(t, refresh(r.Body["refresh_token"].(string)), 400, "invalid_grant")
	})
}

// TestRefreshDropsDisconnectedVehicles: a disconnected vehicle is gone from the next token;
// with none left the refresh fails.
func TestRefreshDropsDisconnectedVehicles(t *testing.T) {
	h := sandboxtest.MustStart(t)
	acct, _ := h.Store.Account(sandboxtest.DemoUser)
	r := exchange(t, h, connectCode(t, h, nil), sandboxtest.RedirectURI)
	if _, err := h.Store.Disconnect(store.GrantFilter{ClientID: sandboxtest.ClientID, VehicleID: acct.VehicleIDs[0]}); err != nil {
		t.Fatal(err)
	}
	refresh := func(tok string) reply {
		return post(t, h, "/oauth/token", sandboxtest.ClientID, sandboxtest.ClientSecret, form, "grant_type=refresh_token&refresh_token="+tok)
	}
	r2 := refresh(r.Body["refresh_token"].(string))
	if r2.Status != 200 {
		t.Fatalf("%d %v", r2.Status, r2.Body)
	}
	c, err := h.Tokens.Verify(r2.Body["access_token"].(string))
	if err != nil || len(c.VehicleIDs) != len(acct.VehicleIDs)-1 || c.HasVehicle(acct.VehicleIDs[0]) {
		t.Fatalf("claims %+v (%v), want without %s", c, err, acct.VehicleIDs[0])
	}
	if _, err := h.Store.Disconnect(store.GrantFilter{ClientID: sandboxtest.ClientID}); err != nil {
		t.Fatal(err)
	}
	wantError(t, refresh(r2.Body["refresh_token"].(string)), 400, "invalid_grant")
}

// TestIAMToken: v3's POST /oauth2/token takes a form or JSON body with the credentials in it
// (or Basic), answers a 1-hour application token without a refresh token that the v3 API
// accepts, and refuses every other grant and malformed bodies with OAuth errors.
func TestIAMToken(t *testing.T) {
	h := sandboxtest.MustStart(t)
	id, secret := sandboxtest.ClientID, sandboxtest.ClientSecret
	jsonBody := func(kv ...string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	cases := []struct {
		name, user, pass, ct, body string
		status                     int
		errCode                    string
	}{
		{"json", "", "", "application/json", jsonBody("grant_type", "client_credentials", "client_id", id, "client_secret", secret), 200, ""},
		{"json charset", "", "", "application/json; charset=utf-8", jsonBody("grant_type", "client_credentials", "client_id", id, "client_secret", secret), 200, ""},
		{"form", "", "", form, url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}.Encode(), 200, ""},
		{"basic", id, secret, form, "grant_type=client_credentials", 200, ""},
		{"no grant_type", "", "", "application/json", jsonBody("client_id", id, "client_secret", secret), 400, "invalid_request"},
		{"wrong secret", "", "", "application/json", jsonBody("grant_type", "client_credentials", "client_id", id, "client_secret", "nope"), 401, "invalid_client"},
		{"no credentials", "", "", "application/json", jsonBody("grant_type", "client_credentials"), 401, "invalid_client"},
		{"refresh grant", "", "", form, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {id}, "client_secret": {secret}}.Encode(), 400, "unsupported_grant_type"},
		{"number value", "", "", "application/json", `{"grant_type":"client_credentials","client_id":1}`, 400, "invalid_request"},
		{"array", "", "", "application/json", `[]`, 400, "invalid_request"},
		{"broken json", "", "", "application/json", `{"grant_type":`, 400, "invalid_request"},
		{"trailing data", "", "", "application/json", jsonBody("grant_type", "client_credentials", "client_id", id, "client_secret", secret) + "{}", 400, "invalid_request"},
		{"repeated key", "", "", "application/json", `{"grant_type":"client_credentials","client_id":"` + id + `","client_id":"x","client_secret":"` + secret + `"}`, 400, "invalid_request"},
		{"text body", "", "", "text/plain", "grant_type=client_credentials", 400, "invalid_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := post(t, h, "/oauth2/token", c.user, c.pass, c.ct, c.body)
			if r.Status != c.status {
				t.Fatalf("status %d, want %d: %v", r.Status, c.status, r.Body)
			}
			if c.errCode != "" {
				if r.Body["error"] != c.errCode {
					t.Fatalf("error %v, want %s", r.Body["error"], c.errCode)
				}
				return
			}
			if r.Body["token_type"] != "Bearer" || r.Body["expires_in"] != float64(3600) {
				t.Fatalf("body %v", r.Body)
			}
			if _, ok := r.Body["refresh_token"]; ok {
				t.Fatalf("an application token came with a refresh token: %v", r.Body)
			}
			req, _ := http.NewRequest(http.MethodGet, h.URL+"/v3/connections", nil)
			req.Header.Set("Authorization", "Bearer "+r.Body["access_token"].(string))
			res, err := h.Client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET /v3/connections with the IAM token: %d", res.StatusCode)
			}
		})
	}
	// The v2.0 token endpoint still refuses JSON: it is form-only, as Smartcar's is.
	if r := post(t, h, "/oauth/token", "", "", "application/json", jsonBody("grant_type", "client_credentials", "client_id", id, "client_secret", secret)); r.Status != 400 {
		t.Fatalf("/oauth/token took JSON: %d", r.Status)
	}
}
