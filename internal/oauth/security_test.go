package oauth_test

import (
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
)

// otherApp registers a second application, whose credentials are good but whose codes and
// tokens are not the demo app's.
func otherApp(t *testing.T, h *sandboxtest.Harness) {
	t.Helper()
	if err := h.Store.PutApplication(sandbox.Application{Name: "Other", ClientID: "other", ClientSecret: "other-secret", RedirectURIs: []string{sandboxtest.RedirectURI}}); err != nil {
		t.Fatal(err)
	}
}

func refreshAs(t *testing.T, h *sandboxtest.Harness, id, secret, tok string) reply {
	t.Helper()
	return post(t, h, "/oauth/token", id, secret, form, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}}.Encode())
}

// TestRefusedRequestsChangeNothing: a code or refresh token that the token endpoint refuses
// stays exactly as it was: the rightful client can still use it afterwards, even once the
// refresh grace period (which a "used" mark would start) has passed.
func TestRefusedRequestsChangeNothing(t *testing.T) {
	h := sandboxtest.MustStart(t)
	otherApp(t, h)
	id, secret := sandboxtest.ClientID, sandboxtest.ClientSecret
	codeForm := func(code, redirect string) string {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}.Encode()
	}
	t.Run("code presented by another client", func(t *testing.T) {
		code := connectCode(t, h, nil)
		wantError(t, post(t, h, "/oauth/token", "other", "other-secret", form, codeForm(code, sandboxtest.RedirectURI)), 400, "invalid_grant")
		if r := exchange(t, h, code, sandboxtest.RedirectURI); r.Status != 200 {
			t.Fatalf("rightful exchange after another client's attempt: %d %v", r.Status, r.Body)
		}
	})
	t.Run("code with the wrong redirect_uri", func(t *testing.T) {
		code := connectCode(t, h, nil)
		wantError(t, exchange(t, h, code, "http://localhost:8000/exchange"), 400, "invalid_grant")
		if r := exchange(t, h, code, sandboxtest.RedirectURI); r.Status != 200 {
			t.Fatalf("exchange with the right redirect_uri after a wrong one: %d %v", r.Status, r.Body)
		}
	})
	t.Run("code with a bad client secret", func(t *testing.T) {
		code := connectCode(t, h, nil)
		wantError(t, post(t, h, "/oauth/token", id, "wrong", form, codeForm(code, sandboxtest.RedirectURI)), 401, "invalid_client")
		if r := exchange(t, h, code, sandboxtest.RedirectURI); r.Status != 200 {
			t.Fatalf("exchange after a bad secret: %d %v", r.Status, r.Body)
		}
	})
	t.Run("refresh token presented by another client", func(t *testing.T) {
		rt := exchange(t, h, connectCode(t, h, nil), sandboxtest.RedirectURI).Body["refresh_token"].(string)
		wantError(t, refreshAs(t, h, "other", "other-secret", rt), 400, "invalid_grant")
		h.Clock.Advance(2 * time.Minute) // past the grace period a first use would have started
		if r := refreshAs(t, h, id, secret, rt); r.Status != 200 {
			t.Fatalf("rightful refresh after another client's attempt: %d %v", r.Status, r.Body)
		}
	})
}

// TestRefreshReuseReturnsTheSameSuccessor: within the grace period a used refresh token gives
// back the refresh token its first use made, never a new one, however many requests race.
func TestRefreshReuseReturnsTheSameSuccessor(t *testing.T) {
	h := sandboxtest.MustStart(t)
	id, secret := sandboxtest.ClientID, sandboxtest.ClientSecret
	t.Run("sequential", func(t *testing.T) {
		rt := exchange(t, h, connectCode(t, h, nil), sandboxtest.RedirectURI).Body["refresh_token"].(string)
		first := refreshAs(t, h, id, secret, rt)
		h.Clock.Advance(30 * time.Second)
		again := refreshAs(t, h, id, secret, rt)
		if first.Status != 200 || again.Status != 200 || first.Body["refresh_token"] != again.Body["refresh_token"] {
			t.Fatalf("first use %d %v, reuse %d %v: want the same refresh_token", first.Status, first.Body, again.Status, again.Body)
		}
		if first.Body["access_token"] == again.Body["access_token"] {
			t.Error("the reuse got the very same access token; it should get a fresh one for the same chain")
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		rt := exchange(t, h, connectCode(t, h, nil), sandboxtest.RedirectURI).Body["refresh_token"].(string)
		const n = 20
		got := make([]reply, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i] = refreshAs(t, h, id, secret, rt)
			}()
		}
		wg.Wait()
		successors := map[any]bool{}
		for _, r := range got {
			if r.Status == 200 {
				successors[r.Body["refresh_token"]] = true
			} else {
				wantError(t, r, 400, "invalid_grant")
			}
		}
		if len(successors) != 1 {
			t.Fatalf("%d parallel refreshes of one token made %d live successors, want 1", n, len(successors))
		}
	})
}

// TestCodeReplayRevokesItsTokens: presenting a used code again is refused and ends every token
// issued from it (RFC 6749 §4.1.2): its access tokens, its refresh token and what that refresh
// token was rotated into.
func TestCodeReplayRevokesItsTokens(t *testing.T) {
	h := sandboxtest.MustStart(t)
	acct, _ := h.Store.Account(sandboxtest.DemoUser)
	read := "/v2.0/vehicles/" + acct.VehicleIDs[0]
	code := connectCode(t, h, nil)
	first := exchange(t, h, code, sandboxtest.RedirectURI)
	if first.Status != 200 {
		t.Fatalf("exchange: %d %v", first.Status, first.Body)
	}
	rotated := refreshAs(t, h, sandboxtest.ClientID, sandboxtest.ClientSecret, first.Body["refresh_token"].(string))
	if rotated.Status != 200 {
		t.Fatalf("refresh: %d %v", rotated.Status, rotated.Body)
	}
	// An unrelated authorization of the same user and app must survive the replay.
	bystander := exchange(t, h, connectCode(t, h, nil), sandboxtest.RedirectURI)
	for _, tok := range []string{first.Body["access_token"].(string), rotated.Body["access_token"].(string)} {
		if res := h.Do(t, http.MethodGet, read, tok, nil); res.Status != 200 {
			t.Fatalf("before the replay: %d %s", res.Status, res.Body)
		}
	}

	wantError(t, exchange(t, h, code, sandboxtest.RedirectURI), 400, "invalid_grant")

	for name, tok := range map[string]string{"first access token": first.Body["access_token"].(string), "rotated access token": rotated.Body["access_token"].(string)} {
		if res := h.Do(t, http.MethodGet, read, tok, nil); res.Status != http.StatusUnauthorized {
			t.Errorf("%s after the code replay: %d %s, want 401", name, res.Status, res.Body)
		}
	}
	for name, rt := range map[string]string{"first refresh token": first.Body["refresh_token"].(string), "rotated refresh token": rotated.Body["refresh_token"].(string)} {
		wantError(t, refreshAs(t, h, sandboxtest.ClientID, sandboxtest.ClientSecret, rt), 400, "invalid_grant")
		_ = name
	}
	if res := h.Do(t, http.MethodGet, read, bystander.Body["access_token"].(string), nil); res.Status != 200 {
		t.Errorf("another authorization's token after the replay: %d %s", res.Status, res.Body)
	}
	if r := refreshAs(t, h, sandboxtest.ClientID, sandboxtest.ClientSecret, bystander.Body["refresh_token"].(string)); r.Status != 200 {
		t.Errorf("another authorization's refresh token after the replay: %d %v", r.Status, r.Body)
	}
}

// TestOneClientAuthenticationMethod: RFC 6749 §2.3 allows one client authentication method
// per request; HTTP Basic plus a client_secret in the form is two.
func TestOneClientAuthenticationMethod(t *testing.T) {
	h := sandboxtest.MustStart(t)
	id, secret := sandboxtest.ClientID, sandboxtest.ClientSecret
	for _, tc := range []struct {
		name   string
		body   url.Values
		status int
		code   string
	}{
		{"basic and form credentials", url.Values{"client_id": {id}, "client_secret": {secret}}, 400, "invalid_request"},
		{"basic and a form secret", url.Values{"client_secret": {secret}}, 400, "invalid_request"},
		{"basic and a form client_id of another client", url.Values{"client_id": {"other"}}, 400, "invalid_request"},
		{"basic and the same client_id (an identifier, not a method)", url.Values{"client_id": {id}}, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.body.Set("grant_type", "client_credentials")
			r := post(t, h, "/oauth/token", id, secret, form, tc.body.Encode())
			if tc.status == 200 {
				if r.Status != 200 {
					t.Fatalf("%d %v", r.Status, r.Body)
				}
				return
			}
			wantError(t, r, tc.status, tc.code)
		})
	}
}

// TestOAuthErrorDescriptions: invalid_grant says what Smartcar says: "Invalid code: <code>."
// for any code that cannot be exchanged and "Invalid refresh_token: <token>." for any refresh
// token that cannot be used.
func TestOAuthErrorDescriptions(t *testing.T) {
	h := sandboxtest.MustStart(t)
	otherApp(t, h)
	id, secret := sandboxtest.ClientID, sandboxtest.ClientSecret
	used := connectCode(t, h, nil)
	exchange(t, h, used, sandboxtest.RedirectURI)
	expired := connectCode(t, h, nil)
	foreign := connectCode(t, h, nil)
	unknown := "f0f0f0f0-0000-4000-8000-000000000000"
	rt := exchange(t, h, connectCode(t, h, nil), sandboxtest.RedirectURI).Body["refresh_token"].(string)
	usedRT := exchange(t, h, connectCode(t, h, nil), sandboxtest.RedirectURI).Body["refresh_token"].(string)
	refreshAs(t, h, id, secret, usedRT)
	h.Clock.Advance(11 * time.Minute) // codes expire; usedRT's grace is over

	for _, tc := range []struct {
		name string
		r    reply
		want string
	}{
		{"unknown code", exchange(t, h, unknown, sandboxtest.RedirectURI), "Invalid code: " + unknown + "."},
		{"used code", exchange(t, h, used, sandboxtest.RedirectURI), "Invalid code: " + used + "."},
		{"expired code", exchange(t, h, expired, sandboxtest.RedirectURI), "Invalid code: " + expired + "."},
		{"another client's code", post(t, h, "/oauth/token", "other", "other-secret", form,
			url.Values{"grant_type": {"authorization_code"}, "code": {foreign}, "redirect_uri": {sandboxtest.RedirectURI}}.Encode()), "Invalid code: " + foreign + "."},
		{"unknown refresh token", refreshAs(t, h, id, secret, "nope"), "Invalid refresh_token: nope."},
		{"used refresh token", refreshAs(t, h, id, secret, usedRT), "Invalid refresh_token: " + usedRT + "."},
		{"another client's refresh token", refreshAs(t, h, "other", "other-secret", rt), "Invalid refresh_token: " + rt + "."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, tc.r, 400, "invalid_grant")
			if got := tc.r.Body["error_description"]; got != tc.want {
				t.Errorf("error_description = %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("expired refresh token", func(t *testing.T) {
		h.Clock.Advance(60 * 24 * time.Hour)
		r := refreshAs(t, h, id, secret, rt)
		wantError(t, r, 400, "invalid_grant")
		if want := "Invalid refresh_token: " + rt + "."; r.Body["error_description"] != want {
			t.Errorf("error_description = %q, want %q", r.Body["error_description"], want)
		}
	})
	t.Run("redirect mismatch", func(t *testing.T) {
		r := exchange(t, h, connectCode(t, h, nil), "http://localhost:8000/exchange")
		wantError(t, r, 400, "invalid_grant")
		if want := "Unauthorized redirect_uri: http://localhost:8000/exchange"; r.Body["error_description"] != want {
			t.Errorf("error_description = %q, want %q", r.Body["error_description"], want)
		}
	})
}
