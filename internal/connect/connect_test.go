package connect_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/connect/connecttest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

func authQuery(extra ...string) url.Values {
	q := url.Values{
		"response_type":   {"code"},
		"client_id":       {sandboxtest.ClientID},
		"redirect_uri":    {sandboxtest.RedirectURI},
		"scope":           {"required:read_vehicle_info read_odometer read_location"},
		"approval_prompt": {"auto"},
		"mode":            {"test"},
		"state":           {"0facda3319"},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			q.Del(extra[i])
		} else {
			q.Set(extra[i], extra[i+1])
		}
	}
	return q
}

// wantRedirect checks a 302 to the demo redirect URI and returns its query.
func wantRedirect(t *testing.T, p *connecttest.Page) url.Values {
	t.Helper()
	if p.Status != http.StatusFound {
		t.Fatalf("status = %d, want 302; body:\n%s", p.Status, p.Body)
	}
	u := p.Location(t)
	if u.Scheme != "scsandbox-demo" || u.Host != "exchange" {
		t.Fatalf("Location = %s, want scsandbox-demo://exchange?…", u)
	}
	return u.Query()
}

func tokenRequest(t *testing.T, h *sandboxtest.Harness, form url.Values) (int, map[string]any) {
	t.Helper()
	res := h.Token(t, form)
	return res.Status, res.Map(t)
}

// TestFlowToTokens drives Connect from the authorize URL to tokens, refresh and refresh reuse,
// for a fixture account (3 vehicles, all shared whatever the brand) and a generated one (one
// vehicle of the brand signed in under). As on Smartcar's Connect, the page right after
// sign-in is the permissions page, with the vehicles to share on it.
func TestFlowToTokens(t *testing.T) {
	for _, tc := range []struct{ name, username, make string }{
		{"fixture user", sandboxtest.DemoUser, "TESLA"},
		{"generated user", "someone-new@example.com", "KIA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := sandboxtest.MustStart(t)
			b := connecttest.NewBrowser(h.URL)

			p := b.Authorize(t, authQuery())
			if !p.Has(`id="continue-button"`) || !p.Has("Sandbox Demo wants to connect to your vehicle") {
				t.Fatalf("preamble:\n%s", p.Body)
			}
			p = b.Submit(t, p, connectPath("start"), nil)
			if !p.Has(`id="TESLA" class="brand-list-item"`) || !p.Has(`id="brand-search"`) {
				t.Fatalf("brand page:\n%s", p.Body)
			}
			p = b.Submit(t, p, connectPath("brand"), url.Values{"make": {tc.make}})
			for _, id := range []string{`id="username"`, `id="password"`, `id="sign-in-button"`, "<details"} {
				if !p.Has(id) {
					t.Fatalf("login page lacks %s:\n%s", id, p.Body)
				}
			}
			p = b.Submit(t, p, connectPath("login"), url.Values{"username": {tc.username}, "password": {"pw"}})
			acct, err := h.Store.Account(tc.username)
			if err != nil {
				t.Fatal(err)
			}
			wantVehicles := acct.VehicleIDs
			if acct.Generated {
				if len(acct.VehicleIDs) != 1 {
					t.Fatalf("generated account after one sign-in has %d vehicles, want 1", len(acct.VehicleIDs))
				}
				if v, _ := h.Store.Vehicle(acct.VehicleIDs[0]); v.Make != tc.make {
					t.Fatalf("generated vehicle is a %s %s, want the brand signed in under (%s)", v.Make, v.Model, tc.make)
				}
			}
			if !p.Has(`class="page-content"`) {
				t.Fatalf("permissions page has no .page-content:\n%s", p.Body)
			}
			if got := connecttest.Checked(p, "vehicle"); !slices.Equal(got, wantVehicles) {
				t.Fatalf("vehicles checked on the permissions page = %v, want all %v", got, wantVehicles)
			}
			if !p.Has(`id="approval-button"`) || !p.Has(`id="deny-button"`) || !p.Has("Retrieve total distance traveled") {
				t.Fatalf("permissions page:\n%s", p.Body)
			}
			// Uncheck the optional read_location.
			p = b.Submit(t, p, connectPath("consent"), url.Values{"action": {"allow"}, "vehicle": wantVehicles, "permission": {"read_odometer"}})
			q := wantRedirect(t, p)
			if q.Get("state") != "0facda3319" || !sandbox.IsUUID(q.Get("code")) {
				t.Fatalf("redirect query = %v", q)
			}

			status, tok := tokenRequest(t, h, url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {sandboxtest.RedirectURI}})
			if status != http.StatusOK || tok["token_type"] != "Bearer" || tok["expires_in"] != float64(7200) || tok["refresh_token"] == "" {
				t.Fatalf("token: %d %v", status, tok)
			}
			claims, err := h.Tokens.Verify(tok["access_token"].(string))
			if err != nil {
				t.Fatal(err)
			}
			wantPerms := []string{"read_odometer", "read_vehicle_info"}
			if claims.UserID() != acct.UserID || !slices.Equal(claims.VehicleIDs, acct.VehicleIDs) || !slices.Equal(claims.Permissions, wantPerms) || claims.Mode != "test" {
				t.Fatalf("claims = %+v, want user %s vehicles %v perms %v", claims, acct.UserID, acct.VehicleIDs, wantPerms)
			}
			if res := h.Do(t, "GET", "/v2.0/vehicles", tok["access_token"].(string), nil); res.Status != http.StatusNotFound {
				// The vehicle API is mounted: the token must work there.
				var body struct{ Vehicles []string }
				res.JSON(t, &body)
				if res.Status != http.StatusOK || !slices.Equal(body.Vehicles, acct.VehicleIDs) {
					t.Fatalf("GET /v2.0/vehicles = %d %s", res.Status, res.Body)
				}
			}

			rt := tok["refresh_token"].(string)
			status, tok2 := tokenRequest(t, h, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
			if status != http.StatusOK || tok2["refresh_token"] == rt || tok2["expires_in"] != float64(7200) {
				t.Fatalf("refresh: %d %v", status, tok2)
			}
			h.Clock.Advance(2 * time.Minute)
			status, tok3 := tokenRequest(t, h, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
			if status != http.StatusBadRequest || tok3["error"] != "invalid_grant" {
				t.Fatalf("reused refresh token after grace: %d %v", status, tok3)
			}
		})
	}
}

func connectPath(step string) string { return "/connect/" + step }

func TestDenyEndsInAccessDenied(t *testing.T) {
	h := sandboxtest.MustStart(t)
	b := connecttest.NewBrowser(h.URL)
	p := b.Authorize(t, authQuery("make", "TESLA"))
	p = b.Submit(t, p, connectPath("start"), nil)
	p = b.Submit(t, p, connectPath("login"), url.Values{"username": {"solo@smartcar.test"}, "password": {"x"}})
	p = b.Submit(t, p, connectPath("consent"), url.Values{"action": {"deny"}})
	if got, want := p.Header.Get("Location"), "scsandbox-demo://exchange?error=access_denied&error_description=User+denied+access+to+application.&state=0facda3319"; got != want {
		t.Fatalf("Location = %q\nwant       %q", got, want)
	}
	if n := len(h.Store.Grants(store.GrantFilter{ClientID: sandboxtest.ClientID})); n != 0 {
		t.Fatalf("deny left %d grants", n)
	}
}

// TestErrorPagesNeverRedirect: an unknown client or an unregistered redirect URI is a page,
// never a redirect (no open redirect), and says how to fix it.
func TestErrorPagesNeverRedirect(t *testing.T) {
	h := sandboxtest.MustStart(t)
	for _, tc := range []struct {
		name  string
		q     url.Values
		wants []string
	}{
		{"unknown client", authQuery("client_id", "nope-123"), []string{"Unknown application", "nope-123", "SMARTCAR_CLIENT_ID"}},
		{"no client", authQuery("client_id", ""), []string{"No client_id"}},
		{"redirect mismatch", authQuery("redirect_uri", "https://evil.example/cb"), []string{"Redirect URI not registered", "https://evil.example/cb", "scsandbox-demo://exchange", "SMARTCAR_REDIRECT_URI", "redirect_uris"}},
		{"redirect prefix is not a match", authQuery("redirect_uri", "scsandbox-demo://exchange/extra"), []string{"Redirect URI not registered"}},
		{"no redirect, two registered", authQuery("redirect_uri", ""), []string{"No redirect_uri"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := connecttest.NewBrowser(h.URL).Authorize(t, tc.q)
			if p.Status != http.StatusBadRequest || p.Header.Get("Location") != "" {
				t.Fatalf("status %d Location %q", p.Status, p.Header.Get("Location"))
			}
			for _, w := range tc.wants {
				if !p.Has(w) {
					t.Errorf("page lacks %q:\n%s", w, p.Body)
				}
			}
		})
	}
}

// TestRequestErrorsRedirect: once the app and redirect URI are trusted, a bad parameter goes
// back to the app as configuration_error with the state.
func TestRequestErrorsRedirect(t *testing.T) {
	h := sandboxtest.MustStart(t)
	for _, tc := range []struct {
		name string
		q    url.Values
		desc string
	}{
		{"unknown permission", authQuery("scope", "read_odometer fly_car"), "fly_car"},
		{"no scope", authQuery("scope", ""), "No permissions"},
		{"bad response_type", authQuery("response_type", "token"), "response_type"},
		{"bad mode", authQuery("mode", "production"), "mode"},
		{"bad approval_prompt", authQuery("approval_prompt", "sometimes"), "approval_prompt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := wantRedirect(t, connecttest.NewBrowser(h.URL).Authorize(t, tc.q))
			if q.Get("error") != "configuration_error" || q.Get("state") != "0facda3319" || !strings.Contains(q.Get("error_description"), tc.desc) || q.Get("status_code") != "400" {
				t.Fatalf("redirect query = %v", q)
			}
		})
	}
}

// TestAuthorizeAcceptsSDKQueries: the parameter spellings the SDKs send all reach the preamble.
func TestAuthorizeAcceptsSDKQueries(t *testing.T) {
	h := sandboxtest.MustStart(t)
	for name, raw := range map[string]string{
		"node (%20, order)": "response_type=code&client_id=sandbox-demo&approval_prompt=auto&redirect_uri=scsandbox-demo%3A%2F%2Fexchange&scope=required%3Aread_vehicle_info%20read_odometer&state=abc&single_select=true&make=TESLA&flags=country%3ADE%20color%3A00819D&user=61a3e3d2&mode=test",
		"go (+, sorted)":    "approval_prompt=force&client_id=sandbox-demo&flags=country%3ADE&mode=test&redirect_uri=scsandbox-demo%3A%2F%2Fexchange&response_type=code&scope=read_odometer+read_vin&state=s",
		"js application_id": "response_type=code&application_id=sandbox-demo&redirect_uri=http%3A%2F%2Flocalhost%3A8000%2Fexchange&approval_prompt=auto&scope=read_vin&mode=simulated&state=eyJpbnN0YW5jZUlkIjoiMSJ9&external_id=ext-1&sdk_platform=iOS&sdk_version=6.0.0",
	} {
		t.Run(name, func(t *testing.T) {
			p := connecttest.NewBrowser(h.URL).Get(t, "/oauth/authorize?"+raw)
			if p.Status != http.StatusOK || !p.Has(`id="continue-button"`) {
				t.Fatalf("%d:\n%s", p.Status, p.Body)
			}
		})
	}
}

func TestCSRF(t *testing.T) {
	h := sandboxtest.MustStart(t)
	b := connecttest.NewBrowser(h.URL)
	pre := b.Authorize(t, authQuery())
	flow := pre.Hidden("flow")
	for _, tc := range []struct {
		name string
		b    *connecttest.Browser
		csrf string
	}{
		{"missing field", b, ""},
		{"mismatched field", b, "forged"},
		{"no cookie (another browser)", connecttest.NewBrowser(h.URL), pre.Hidden("csrf")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.b.Post(t, connectPath("start"), url.Values{"flow": {flow}, "csrf": {tc.csrf}})
			if p.Status != http.StatusForbidden || !p.Has("Form check failed") {
				t.Fatalf("%d:\n%s", p.Status, p.Body)
			}
		})
	}
	t.Run("tampered flow", func(t *testing.T) {
		p := b.Post(t, connectPath("start"), url.Values{"flow": {flow + "x"}, "csrf": {pre.Hidden("csrf")}})
		if p.Status != http.StatusBadRequest || !p.Has("not valid") {
			t.Fatalf("%d:\n%s", p.Status, p.Body)
		}
	})
	t.Run("expired flow", func(t *testing.T) {
		h.Clock.Advance(2 * time.Hour)
		p := b.Submit(t, pre, connectPath("start"), nil)
		if p.Status != http.StatusBadRequest || !p.Has("expired") {
			t.Fatalf("%d:\n%s", p.Status, p.Body)
		}
	})
}

func TestMakeBypassSkipsBrandPage(t *testing.T) {
	h := sandboxtest.MustStart(t)
	b := connecttest.NewBrowser(h.URL)
	p := b.Submit(t, b.Authorize(t, authQuery("make", "tesla")), connectPath("start"), nil)
	if !p.Has(`id="sign-in-button"`) || !p.Has("Sign in to Tesla") || p.Has("brand-list-item") {
		t.Fatalf("want the Tesla sign-in page:\n%s", p.Body)
	}
}

func TestBrandSearchWorksWithoutJS(t *testing.T) {
	h := sandboxtest.MustStart(t)
	b := connecttest.NewBrowser(h.URL)
	pre := b.Authorize(t, authQuery())
	p := b.Get(t, "/connect/brands?"+url.Values{"flow": {pre.Hidden("flow")}, "q": {"land"}}.Encode())
	if !p.Has(`id="LAND_ROVER"`) || p.Has(`id="TESLA"`) || p.Hidden("csrf") != pre.Hidden("csrf") {
		t.Fatalf("search for land:\n%s", p.Body)
	}
	p = b.Submit(t, p, connectPath("brand"), url.Values{"make": {"LAND_ROVER"}})
	if !p.Has("Sign in to Land Rover") {
		t.Fatalf("%s", p.Body)
	}
}

func TestLoginNeedsUsernameAndPassword(t *testing.T) {
	h := sandboxtest.MustStart(t)
	b := connecttest.NewBrowser(h.URL)
	login := b.Submit(t, b.Authorize(t, authQuery("make", "KIA")), connectPath("start"), nil)
	for _, form := range []url.Values{
		{"username": {""}, "password": {"x"}},
		{"username": {"a@b.c"}, "password": {""}},
		{"username": {"   "}, "password": {"x"}},
	} {
		p := b.Submit(t, login, connectPath("login"), form)
		if p.Status != http.StatusBadRequest || !p.Has(`id="sign-in-button"`) || !p.Has("Enter a username and a password") {
			t.Fatalf("%v: %d\n%s", form, p.Status, p.Body)
		}
	}
}

func TestSingleSelect(t *testing.T) {
	h := sandboxtest.MustStart(t)
	acct, _ := h.Store.Account(sandboxtest.DemoUser)
	b := connecttest.NewBrowser(h.URL)
	login := b.Submit(t, b.Authorize(t, authQuery("make", "TESLA", "single_select", "true")), connectPath("start"), nil)
	p := b.Submit(t, login, connectPath("login"), url.Values{"username": {sandboxtest.DemoUser}, "password": {"x"}})
	if !p.Has(`type="radio"`) || p.Has(`type="checkbox" name="vehicle"`) {
		t.Fatalf("want radios:\n%s", p.Body)
	}
	if got := connecttest.Checked(p, "vehicle"); len(got) != 1 {
		t.Fatalf("preselected %v, want one", got)
	}
	if !p.Has(`id="approval-button"`) {
		t.Fatalf("the vehicles are chosen on the permissions page:\n%s", p.Body)
	}
	bad := b.Submit(t, p, connectPath("consent"), url.Values{"action": {"allow"}, "vehicle": acct.VehicleIDs[:2]})
	if bad.Status != http.StatusBadRequest || !bad.Has("Choose one vehicle") || !bad.Has(`id="approval-button"`) {
		t.Fatalf("two vehicles with single_select: %d\n%s", bad.Status, bad.Body)
	}
	none := b.Submit(t, p, connectPath("consent"), url.Values{"action": {"allow"}})
	if none.Status != http.StatusBadRequest || !none.Has("Choose at least one vehicle") {
		t.Fatalf("no vehicle: %d\n%s", none.Status, none.Body)
	}
	p = b.Submit(t, p, connectPath("consent"), url.Values{"action": {"allow"}, "vehicle": {acct.VehicleIDs[1]}})
	code := wantRedirect(t, p).Get("code")
	c, err := h.Store.ConsumeCode(code)
	if err != nil || !slices.Equal(c.VehicleIDs, acct.VehicleIDs[1:2]) {
		t.Fatalf("code vehicles = %v (%v), want %v", c.VehicleIDs, err, acct.VehicleIDs[1:2])
	}

	t.Run("single_select_vin", func(t *testing.T) {
		v, _ := h.Store.Vehicle(acct.VehicleIDs[2])
		p := b.Flow(t, authQuery("single_select_vin", strings.ToLower(v.VIN), "approval_prompt", "force"), "TESLA", sandboxtest.DemoUser)
		c, err := h.Store.ConsumeCode(wantRedirect(t, p).Get("code"))
		if err != nil || !slices.Equal(c.VehicleIDs, []string{v.ID}) {
			t.Fatalf("code vehicles = %v (%v), want %s", c.VehicleIDs, err, v.ID)
		}
	})
	t.Run("single_select_vin not in account", func(t *testing.T) {
		q := wantRedirect(t, b.Flow(t, authQuery("single_select_vin", "1HGCM82633A004352"), "TESLA", sandboxtest.DemoUser))
		if q.Get("error") != "no_vehicles" {
			t.Fatalf("%v", q)
		}
	})
}

// TestApprovalPrompt: with auto, a second flow for the same vehicles and permissions skips the
// permissions page; force always shows it.
func TestApprovalPrompt(t *testing.T) {
	h := sandboxtest.MustStart(t)
	b := connecttest.NewBrowser(h.URL)
	user := "returning@example.com"
	wantRedirect(t, b.Flow(t, authQuery(), "FORD", user))

	login := b.Submit(t, b.Authorize(t, authQuery("make", "FORD")), connectPath("start"), nil)
	p := b.Submit(t, login, connectPath("login"), url.Values{"username": {user}, "password": {"x"}})
	if q := wantRedirect(t, p); q.Get("code") == "" {
		t.Fatalf("auto: %v", q)
	}

	login = b.Submit(t, b.Authorize(t, authQuery("make", "FORD", "approval_prompt", "force")), connectPath("start"), nil)
	p = b.Submit(t, login, connectPath("login"), url.Values{"username": {user}, "password": {"x"}})
	if !p.Has(`id="approval-button"`) {
		t.Fatalf("force must show the permissions page:\n%d %s", p.Status, p.Body)
	}

	// A permission not granted before brings the page back even with auto.
	login = b.Submit(t, b.Authorize(t, authQuery("make", "FORD", "scope", "read_vin")), connectPath("start"), nil)
	p = b.Submit(t, login, connectPath("login"), url.Values{"username": {user}, "password": {"x"}})
	if !p.Has(`id="approval-button"`) {
		t.Fatalf("new permission must show the permissions page:\n%d %s", p.Status, p.Body)
	}
}

func TestSpecialUsernames(t *testing.T) {
	h := sandboxtest.MustStart(t)
	for _, tc := range []struct {
		name, username, scope string
		wantErr               string
		wantVehicles          int
		wantPerms             []string
		wantExtra             map[string]string
	}{
		{"n vehicles", "7-vehicles@smartcar.com", "read_odometer", "", 7, []string{"read_odometer"}, nil},
		{"bev level drops fuel", "1HGCM82633A004352@bev.smartcar.com", "read_battery read_fuel", "", 1, []string{"read_battery"}, nil},
		{"fuel level drops battery", "1HGCM82633A004352@fuel.smartcar.com", "read_battery read_fuel read_vin", "", 1, []string{"read_fuel", "read_vin"}, nil},
		{"required unsupported", "1HGCM82633A004352@fuel.smartcar.com", "required:read_charge read_fuel", "vehicle_incompatible", 0, nil, map[string]string{"vin": "1HGCM82633A004352"}},
		{"incompatible level", "1HGCM82633A004352@incompatible.smartcar.com", "read_odometer", "vehicle_incompatible", 0, nil, map[string]string{"vin": "1HGCM82633A004352"}},
		{"vehicle incompatible", "smartcar@vehicle-incompatible.com", "read_odometer", "vehicle_incompatible", 0, nil, map[string]string{"vin": "0SCAUDI012FE3B132", "make": "AUDI", "model": "A4"}},
		{"invalid subscription", "smartcar@invalid-subscription.com", "read_odometer", "invalid_subscription", 0, nil, nil},
		{"successful request", "smartcar@successful-request.com", "read_vin", "", 1, []string{"read_vin"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := connecttest.NewBrowser(h.URL)
			q := wantRedirect(t, b.Flow(t, authQuery("scope", tc.scope, "approval_prompt", "force"), "AUDI", tc.username))
			if q.Get("state") != "0facda3319" {
				t.Fatalf("state lost: %v", q)
			}
			if tc.wantErr != "" {
				if q.Get("error") != tc.wantErr || q.Get("error_description") == "" {
					t.Fatalf("query %v, want error %s", q, tc.wantErr)
				}
				if tc.wantErr == "vehicle_incompatible" && len(q.Get("year")) != 4 {
					t.Errorf("year = %q, want the vehicle's year", q.Get("year"))
				}
				for k, v := range tc.wantExtra {
					if q.Get(k) != v {
						t.Errorf("%s = %q, want %q", k, q.Get(k), v)
					}
				}
				return
			}
			c, err := h.Store.ConsumeCode(q.Get("code"))
			if err != nil {
				t.Fatalf("%v: %v", q, err)
			}
			if len(c.VehicleIDs) != tc.wantVehicles || !slices.Equal(c.Permissions, tc.wantPerms) {
				t.Fatalf("code has %d vehicles %v, want %d %v", len(c.VehicleIDs), c.Permissions, tc.wantVehicles, tc.wantPerms)
			}
		})
	}
}

func TestNoVehicles(t *testing.T) {
	h := sandboxtest.MustStart(t)
	empty := sandbox.Account{Username: "empty@sandbox.test", UserID: sandbox.NameUUID("user", "empty@sandbox.test")}
	if err := h.Store.PutAccount(empty, nil); err != nil {
		t.Fatal(err)
	}
	q := wantRedirect(t, connecttest.NewBrowser(h.URL).Flow(t, authQuery(), "TESLA", "Empty@sandbox.test"))
	if q.Get("error") != "no_vehicles" {
		t.Fatalf("%v", q)
	}
}

// TestEchoedInputIsEscaped: state, username and redirect_uri come back escaped on every page.
func TestEchoedInputIsEscaped(t *testing.T) {
	h := sandboxtest.MustStart(t)
	const xss = `<script>alert(1)</script>"'&`
	b := connecttest.NewBrowser(h.URL)
	var pages []*connecttest.Page
	pre := b.Authorize(t, authQuery("state", xss))
	pages = append(pages, pre, b.Authorize(t, authQuery("redirect_uri", "scsandbox-demo://x"+xss)), b.Authorize(t, authQuery("client_id", xss)))
	login := b.Submit(t, pre, connectPath("start"), nil)
	login = b.Submit(t, login, connectPath("brand"), url.Values{"make": {"TESLA"}})
	pages = append(pages, login, b.Submit(t, login, connectPath("login"), url.Values{"username": {xss}, "password": {""}}))
	multi := b.Submit(t, login, connectPath("login"), url.Values{"username": {"2-vehicles@smartcar.com"}, "password": {"x"}})
	pages = append(pages, multi, b.Get(t, "/connect/brands?"+url.Values{"flow": {pre.Hidden("flow")}, "q": {xss}}.Encode()))
	for i, p := range pages {
		if strings.Contains(p.Body, "<script>alert") {
			t.Fatalf("page %d echoes raw script:\n%s", i, p.Body)
		}
	}
	if !pages[1].Has("&lt;script&gt;") {
		t.Fatalf("the redirect mismatch page should show the URI escaped:\n%s", pages[1].Body)
	}
	// The state still comes back to the app byte for byte.
	p := b.Submit(t, multi, connectPath("consent"), url.Values{"action": {"allow"}, "vehicle": connecttest.Checked(multi, "vehicle")})
	if got := wantRedirect(t, p).Get("state"); got != xss {
		t.Fatalf("state = %q, want %q", got, xss)
	}
}

func TestPageHeaders(t *testing.T) {
	h := sandboxtest.MustStart(t)
	p := connecttest.NewBrowser(h.URL).Authorize(t, authQuery())
	csp := p.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'nonce-") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP = %q", csp)
	}
	for k, want := range map[string]string{"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Frame-Options": ""} {
		if got := p.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	for _, s := range []string{`<html lang="en">`, `name="viewport"`, `class="badge"`, "Sandbox", "/connect/static/connect.css"} {
		if !p.Has(s) {
			t.Errorf("page lacks %q", s)
		}
	}
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: p.Header}).Cookies() {
		cookie = c
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
		t.Errorf("CSRF cookie = %+v", cookie)
	}
	css := connecttest.NewBrowser(h.URL).Get(t, "/connect/static/connect.css")
	if css.Status != http.StatusOK || !strings.Contains(css.Body, "prefers-color-scheme: dark") || !strings.Contains(css.Body, "min-height:44px") {
		t.Errorf("css: %d", css.Status)
	}
}

// TestRedirectURIs: a redirect URI with a query keeps it, http://localhost works, and an app
// with one registered URI may omit redirect_uri.
func TestRedirectURIs(t *testing.T) {
	h := sandboxtest.MustStart(t)
	app := sandbox.Application{Name: "Query App", ClientID: "query-app", ClientSecret: "s", RedirectURIs: []string{"http://localhost:3000/cb?tenant=a%2Fb&x=1"}}
	if err := h.Store.PutApplication(app); err != nil {
		t.Fatal(err)
	}
	b := connecttest.NewBrowser(h.URL)
	p := b.Flow(t, authQuery("client_id", "query-app", "redirect_uri", ""), "TESLA", "q@example.com")
	loc := p.Header.Get("Location")
	if p.Status != http.StatusFound || !strings.HasPrefix(loc, "http://localhost:3000/cb?tenant=a%2Fb&x=1&code=") || !strings.Contains(loc, "&state=0facda3319") {
		t.Fatalf("%d Location = %q", p.Status, loc)
	}
	p = b.Flow(t, authQuery("redirect_uri", "http://localhost:8000/exchange"), "TESLA", "q@example.com")
	if loc := p.Header.Get("Location"); !strings.HasPrefix(loc, "http://localhost:8000/exchange?code=") {
		t.Fatalf("Location = %q", loc)
	}
}

// TestRedirectCarriesUserID: the final redirect names the user (user_id, what v3's sc-user-id
// takes) next to the v2.0 code, and it is the user the grants were recorded for.
func TestRedirectCarriesUserID(t *testing.T) {
	h := sandboxtest.MustStart(t)
	q := wantRedirect(t, connecttest.NewBrowser(h.URL).Flow(t, authQuery(), "TESLA", "uid@example.com"))
	if q.Get("code") == "" || q.Get("user_id") == "" {
		t.Fatalf("redirect query %v: want code and user_id", q)
	}
	grants := h.Store.Grants(store.GrantFilter{UserID: q.Get("user_id")})
	if len(grants) == 0 {
		t.Fatalf("user_id %s has no grants", q.Get("user_id"))
	}
}

func TestExternalIDReturned(t *testing.T) {
	h := sandboxtest.MustStart(t)
	state := base64.StdEncoding.EncodeToString([]byte(`{"instanceId":"i","originalState":"o+/="}`))
	q := wantRedirect(t, connecttest.NewBrowser(h.URL).Flow(t, authQuery("external_id", "ext-7", "state", state), "BMW", "x@example.com"))
	if q.Get("external_id") != "ext-7" || q.Get("state") != state {
		t.Fatalf("%v", q)
	}
}

// TestTestModeGarageByBrand: in test mode a username no fixture names signs in to one vehicle
// of the brand picked, a real model of it (Chevrolet: a Volt), the same one every time; a
// sign-in under another brand adds that brand's vehicle to the same user, and shares only it.
func TestTestModeGarageByBrand(t *testing.T) {
	h := sandboxtest.MustStart(t)
	const user = "3f1c2a9e-4b7d-4c1e-9a51-0d6f2e8b7c11@email.com"
	codeVehicles := func(brand string) []sandbox.Vehicle {
		t.Helper()
		p := connecttest.NewBrowser(h.URL).Flow(t, authQuery("approval_prompt", "force"), brand, user)
		c, err := h.Store.ConsumeCode(wantRedirect(t, p).Get("code"))
		if err != nil {
			t.Fatal(err)
		}
		var out []sandbox.Vehicle
		for _, id := range c.VehicleIDs {
			v, _ := h.Store.Vehicle(id)
			out = append(out, v)
		}
		return out
	}
	volt := codeVehicles("CHEVROLET")
	if len(volt) != 1 || volt[0].Make != "CHEVROLET" || volt[0].Model != "Volt" {
		t.Fatalf("a Chevrolet sign-in shared %+v, want one Chevrolet Volt", volt)
	}
	if again := codeVehicles("CHEVROLET"); len(again) != 1 || again[0].ID != volt[0].ID || again[0].VIN != volt[0].VIN {
		t.Fatalf("signing in under Chevrolet again shared %+v, want the same Volt", again)
	}
	ford := codeVehicles("FORD")
	if len(ford) != 1 || ford[0].Make != "FORD" || ford[0].ID == volt[0].ID {
		t.Fatalf("a Ford sign-in shared %+v, want one Ford of its own", ford)
	}
	acct, err := h.Store.Account(user)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(acct.VehicleIDs, []string{volt[0].ID, ford[0].ID}) {
		t.Fatalf("account vehicles = %v, want the Volt and the Ford", acct.VehicleIDs)
	}
	// <n>-vehicles@smartcar.com keeps its n vehicles whatever the brand.
	for _, brand := range []string{"TESLA", "KIA"} {
		p := connecttest.NewBrowser(h.URL).Flow(t, authQuery("approval_prompt", "force"), brand, "3-vehicles@smartcar.com")
		c, err := h.Store.ConsumeCode(wantRedirect(t, p).Get("code"))
		if err != nil || len(c.VehicleIDs) != 3 {
			t.Fatalf("3-vehicles@smartcar.com under %s shared %v (%v), want 3 vehicles", brand, c.VehicleIDs, err)
		}
	}
}
