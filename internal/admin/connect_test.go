package admin_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/connect/connecttest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

// TestHeadlessConnectMatchesPages runs each case twice on two fresh sandboxes, once through
// the Connect pages (a browser keeping everything preselected and allowing) and once with
// POST /admin/connect, and compares what the app gets: the redirect's query (with the code's
// content in place of its random value), the grants and the code's vehicles, permissions and
// mode. Errors must be the very same redirect.
func TestHeadlessConnectMatchesPages(t *testing.T) {
	for _, tc := range []struct {
		name, username, make, scope, redirect string
		wantErr                               string
	}{
		{"fixture user", sandboxtest.DemoUser, "TESLA", "required:read_vehicle_info read_odometer", "", ""},
		{"generated user gets a car of the brand", "ci-new@example.com", "KIA", "read_odometer read_location", "", ""},
		{"n vehicles", "7-vehicles@smartcar.com", "AUDI", "read_odometer", "", ""},
		{"level drops unsupported permissions", "1HGCM82633A004352@bev.smartcar.com", "AUDI", "read_battery read_fuel", "", ""},
		{"required unsupported", "1HGCM82633A004352@fuel.smartcar.com", "AUDI", "required:read_charge read_fuel", "", "vehicle_incompatible"},
		{"vehicle incompatible", "smartcar@vehicle-incompatible.com", "AUDI", "read_odometer", "", "vehicle_incompatible"},
		{"invalid subscription", "smartcar@invalid-subscription.com", "AUDI", "read_odometer", "", "invalid_subscription"},
		{"unknown permission", sandboxtest.DemoUser, "TESLA", "read_odometer fly_car", "", "configuration_error"},
		{"other registered redirect URI", sandboxtest.DemoUser, "TESLA", "read_vin", "http://localhost:8000/exchange", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			redirect := tc.redirect
			if redirect == "" {
				redirect = sandboxtest.RedirectURI
			}
			q := url.Values{"response_type": {"code"}, "client_id": {sandboxtest.ClientID}, "redirect_uri": {redirect},
				"scope": {tc.scope}, "mode": {"test"}, "state": {"st-42"}, "approval_prompt": {"force"}}

			pages := sandboxtest.MustStart(t)
			p := connecttest.NewBrowser(pages.URL).Flow(t, q, tc.make, tc.username)
			if p.Status != http.StatusFound {
				t.Fatalf("pages: status %d:\n%s", p.Status, p.Body)
			}
			loc := p.Header.Get("Location")

			headless := sandboxtest.MustStart(t)
			res := headless.Admin(t, http.MethodPost, "/admin/connect", map[string]any{"clientId": sandboxtest.ClientID, "redirectUri": redirect,
				"username": tc.username, "make": tc.make, "scope": tc.scope, "mode": "test", "state": "st-42"})
			m := res.Map(t)

			if tc.wantErr != "" {
				wantAdminError(t, res, http.StatusBadRequest, tc.wantErr)
				if m["redirectUrl"] != loc {
					t.Fatalf("headless redirect %v\npages' redirect  %s", m["redirectUrl"], loc)
				}
				want, _ := url.Parse(loc)
				for k := range want.Query() {
					if k != "error" && m[k] != want.Query().Get(k) {
						t.Errorf("%s = %v, the pages' redirect has %q", k, m[k], want.Query().Get(k))
					}
				}
				return
			}
			wantStatus(t, "headless", res, http.StatusOK)
			u, _ := url.Parse(loc)
			if m["state"] != u.Query().Get("state") || !strings.HasPrefix(m["redirectUrl"].(string), redirect+"?code=") {
				t.Fatalf("headless answer %v, pages' redirect %s", m, loc)
			}
			pc, hc := findCode(t, pages.Store, u.Query().Get("code")), findCode(t, headless.Store, m["code"].(string))
			if pc.UserID != hc.UserID || !slices.Equal(pc.VehicleIDs, hc.VehicleIDs) || !slices.Equal(pc.Permissions, hc.Permissions) ||
				pc.Mode != hc.Mode || pc.RedirectURI != hc.RedirectURI || !pc.ExpiresAt.Equal(hc.ExpiresAt) {
				t.Fatalf("codes differ:\npages    %+v\nheadless %+v", pc, hc)
			}
			if len(pc.VehicleIDs) == 0 {
				t.Fatal("the code shares no vehicle")
			}
			pg, hg := pages.Store.Grants(store.GrantFilter{}), headless.Store.Grants(store.GrantFilter{})
			if !slices.EqualFunc(pg, hg, sameGrant) {
				t.Fatalf("grants differ:\npages    %+v\nheadless %+v", pg, hg)
			}
		})
	}
}

func sameGrant(a, b sandbox.Grant) bool {
	return a.ClientID == b.ClientID && a.UserID == b.UserID && a.VehicleID == b.VehicleID &&
		slices.Equal(a.Permissions, b.Permissions) && a.Mode == b.Mode && a.ConnectedAt.Equal(b.ConnectedAt)
}

func findCode(t *testing.T, st *store.Store, code string) sandbox.AuthCode {
	t.Helper()
	for _, c := range st.Codes() {
		if c.Code == code {
			return c
		}
	}
	t.Fatalf("no code %s in the store", code)
	return sandbox.AuthCode{}
}

// TestHeadlessConnectDeny: deny is the pages' Deny button: access_denied with the state, and
// no grant.
func TestHeadlessConnectDeny(t *testing.T) {
	h := sandboxtest.MustStart(t)
	res := h.Admin(t, http.MethodPost, "/admin/connect", map[string]any{"clientId": sandboxtest.ClientID, "username": "solo@smartcar.test",
		"make": "TESLA", "scope": []string{"read_odometer"}, "state": "0facda3319", "deny": true, "redirectUri": sandboxtest.RedirectURI})
	wantAdminError(t, res, http.StatusBadRequest, "access_denied")
	m := res.Map(t)
	if want := "scsandbox-demo://exchange?error=access_denied&error_description=User+denied+access+to+application.&state=0facda3319"; m["redirectUrl"] != want || m["error_description"] != "User denied access to application." || m["state"] != "0facda3319" {
		t.Fatalf("deny answer = %v", m)
	}
	if n := len(h.Store.Grants(store.GrantFilter{})); n != 0 {
		t.Fatalf("deny left %d grants", n)
	}
}

// TestHeadlessConnectTokens: exchange:true returns the token endpoint's answer, whose access
// token reads the chosen vehicles only, and whose refresh token works at /oauth/token.
func TestHeadlessConnectTokens(t *testing.T) {
	h := sandboxtest.MustStart(t)
	acct, err := h.Store.Account(sandboxtest.DemoUser)
	if err != nil {
		t.Fatal(err)
	}
	one := acct.VehicleIDs[1]
	res := h.Admin(t, http.MethodPost, "/admin/connect", map[string]any{"clientId": sandboxtest.ClientID, "redirectUri": sandboxtest.RedirectURI,
		"username": sandboxtest.DemoUser, "scope": "read_vehicle_info read_odometer", "vehicleIds": []string{one}, "exchange": true})
	wantStatus(t, "connect", res, http.StatusOK)
	var ans struct {
		Code        string
		VehicleIDs  []string
		Permissions []string
		Tokens      struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
			ExpiresIn    int    `json:"expires_in"`
		}
	}
	res.JSON(t, &ans)
	if !slices.Equal(ans.VehicleIDs, []string{one}) || !slices.Equal(ans.Permissions, []string{"read_odometer", "read_vehicle_info"}) || ans.Tokens.ExpiresIn != 7200 {
		t.Fatalf("answer = %s", res.Body)
	}
	var list struct{ Vehicles []string }
	r := h.Do(t, http.MethodGet, "/v2.0/vehicles", ans.Tokens.AccessToken, nil)
	r.JSON(t, &list)
	if r.Status != http.StatusOK || !slices.Equal(list.Vehicles, []string{one}) {
		t.Fatalf("GET /v2.0/vehicles = %d %s", r.Status, r.Body)
	}
	tr := tokenRequest(t, h, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {ans.Tokens.RefreshToken}}, "")
	wantStatus(t, "refresh", tr, http.StatusOK)
	// The exchange used the code up: the app cannot redeem it again.
	tr = tokenRequest(t, h, url.Values{"grant_type": {"authorization_code"}, "code": {ans.Code}, "redirect_uri": {sandboxtest.RedirectURI}}, "")
	wantStatus(t, "code replay", tr, http.StatusBadRequest)
}

// TestHeadlessConnectBadRequests: what the pages would show as their own error page, and what
// only a headless call can get wrong, answer 400 invalid_request with the reason.
func TestHeadlessConnectBadRequests(t *testing.T) {
	h := sandboxtest.MustStart(t)
	base := func(kv ...any) map[string]any {
		m := map[string]any{"clientId": sandboxtest.ClientID, "redirectUri": sandboxtest.RedirectURI, "username": sandboxtest.DemoUser, "scope": "read_vin"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name string
		body any
		code string
		want string
	}{
		{"unregistered redirect URI", base("redirectUri", "https://evil.example/cb"), "invalid_request", "Redirect URI not registered"},
		{"unknown client", base("clientId", "nope"), "invalid_request", "Unknown application"},
		{"no username", base("username", " "), "invalid_request", "username is required"},
		{"unknown make", base("make", "DELOREAN"), "invalid_request", "DELOREAN"},
		{"vehicle not offered", base("vehicleIds", []string{"00000000-0000-4000-8000-000000000000"}), "invalid_request", "not among the vehicles"},
		{"two vehicles, single select", base("singleSelect", true), "invalid_request", "Choose one vehicle"},
		{"unknown field", base("scopes", "read_vin"), "bad_request", "scopes"},
		{"scope neither list nor string", base("scope", 3), "bad_request", "scope must be"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := h.Admin(t, http.MethodPost, "/admin/connect", tc.body)
			wantAdminError(t, res, http.StatusBadRequest, tc.code)
			if m := res.Map(t); !strings.Contains(m["message"].(string), tc.want) || m["redirectUrl"] != nil {
				t.Fatalf("answer %v, want a message with %q and no redirect", m, tc.want)
			}
		})
	}
	if n := len(h.Store.Grants(store.GrantFilter{})); n != 0 {
		t.Fatalf("refused calls left %d grants", n)
	}
	wantAdminError(t, h.Do(t, http.MethodPost, "/admin/connect", "", base()), http.StatusUnauthorized, "unauthorized")
}
