package oauth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	defaultfixtures "github.com/smartcar-sandbox/smartcar-sandbox/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/oauth"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/server"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/token"
)

// BenchmarkRefreshGrant is one refresh_token grant through the token endpoint's handler, in
// memory (no data dir), with issued tokens recorded as the server does: each iteration
// rotates the chain once.
func BenchmarkRefreshGrant(b *testing.B) {
	ds, err := fixtures.Load(defaultfixtures.FS)
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.New(ds, store.Options{Garage: fixtures.Garage})
	if err != nil {
		b.Fatal(err)
	}
	iss, err := token.NewIssuer([]byte(strings.Repeat("k", 32)), nil)
	if err != nil {
		b.Fatal(err)
	}
	iss.OnIssue = server.RecordTokens(st, nil)
	h := oauth.New(st, iss, nil)
	acct, err := st.Account(sandboxtest.DemoUser)
	if err != nil {
		b.Fatal(err)
	}
	for _, id := range acct.VehicleIDs {
		if err := st.Connect(sandbox.Grant{ClientID: sandboxtest.ClientID, UserID: acct.UserID, VehicleID: id, Permissions: []string{"read_odometer"}}); err != nil {
			b.Fatal(err)
		}
	}
	code := sandbox.NewUUID()
	if err := st.SaveCode(sandbox.AuthCode{Code: code, ClientID: sandboxtest.ClientID, RedirectURI: sandboxtest.RedirectURI, UserID: acct.UserID,
		VehicleIDs: acct.VehicleIDs, Permissions: []string{"read_odometer"}, ExpiresAt: time.Now().Add(10 * time.Minute)}); err != nil {
		b.Fatal(err)
	}
	grant := func(form url.Values) string {
		req := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(sandboxtest.ClientID, sandboxtest.ClientSecret)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		var body struct {
			RefreshToken string `json:"refresh_token"`
		}
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &body) != nil {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
		return body.RefreshToken
	}
	rt := grant(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {sandboxtest.RedirectURI}})
	b.ReportAllocs()
	for b.Loop() {
		rt = grant(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	}
}
