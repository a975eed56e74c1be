package admin_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

const teslaID = "d21b0a03-5c3f-5c86-8c05-122d6fde0b3c" // first demo vehicle, a BEV

func odometer(id string) string { return "/v2.0/vehicles/" + id + "/odometer" }

func wantStatus(t *testing.T, what string, res *sandboxtest.Response, want int) {
	t.Helper()
	if res.Status != want {
		t.Fatalf("%s: status %d, want %d; body %s", what, res.Status, want, res.Body)
	}
}

func wantAdminError(t *testing.T, res *sandboxtest.Response, status int, code string) {
	t.Helper()
	wantStatus(t, code, res, status)
	m := res.Map(t)
	if m["error"] != code || m["message"] == "" || m["requestId"] != res.Header.Get("SC-Request-Id") {
		t.Errorf("admin error = %v, want error %q with message and the request id", m, code)
	}
}

func TestAdminAuth(t *testing.T) {
	h := sandboxtest.MustStart(t)
	scTok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
	for _, tc := range []struct{ name, tok string }{
		{"no token", ""},
		{"wrong token", "not-the-admin-token"},
		{"Smartcar access token", scTok},
		{"management token", sandboxtest.ManagementToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := h.Do(t, http.MethodGet, "/admin/vehicles", tc.tok, nil)
			wantAdminError(t, res, http.StatusUnauthorized, "unauthorized")
		})
	}
	// The admin token is not a Smartcar token either.
	res := h.Do(t, http.MethodGet, odometer(teslaID), h.AdminToken, nil)
	wantStatus(t, "admin token on the vehicle API", res, http.StatusUnauthorized)
	if got := res.Map(t)["type"]; got != sandbox.TypeAuthentication {
		t.Errorf("type = %v, want AUTHENTICATION", got)
	}
	// Unknown admin paths answer in the admin shape.
	wantAdminError(t, h.Admin(t, http.MethodGet, "/admin/nope", nil), http.StatusNotFound, "not_found")
	wantStatus(t, "index", h.Admin(t, http.MethodGet, "/admin", nil), http.StatusOK)
}

func TestNoAdmin(t *testing.T) {
	h := sandboxtest.MustStartWith(t, sandboxtest.Options{NoAdmin: true})
	for _, p := range []string{"/admin", "/admin/vehicles", "/admin/reset"} {
		if res := h.Do(t, http.MethodGet, p, sandboxtest.AdminToken, nil); res.Status != http.StatusNotFound {
			t.Errorf("GET %s with -no-admin: status %d, want 404", p, res.Status)
		}
	}
}

func TestApplications(t *testing.T) {
	h := sandboxtest.MustStart(t)
	res := h.Admin(t, http.MethodPost, "/admin/applications", map[string]any{"name": "CI app", "redirectUris": []string{"ciapp://exchange"}})
	wantStatus(t, "add", res, http.StatusCreated)
	var app sandbox.Application
	res.JSON(t, &app)
	if app.ClientID == "" || app.ClientSecret == "" || app.Source != "admin API" {
		t.Errorf("added app = %+v, want generated id and secret, source admin API", app)
	}
	if got, ok := h.Store.Application(app.ClientID); !ok || got.Name != "CI app" {
		t.Errorf("store has %+v, %v", got, ok)
	}
	var list struct{ Applications []sandbox.Application }
	h.Admin(t, http.MethodGet, "/admin/applications", nil).JSON(t, &list)
	if len(list.Applications) != len(h.Dataset.Applications)+1 {
		t.Errorf("listed %d applications, want %d", len(list.Applications), len(h.Dataset.Applications)+1)
	}
	for _, bad := range []any{
		map[string]any{"name": "x"},
		map[string]any{"redirectUris": []string{"not a uri"}},
		map[string]any{"redirectUris": []string{"a://b"}, "bogus": 1},
		"{not json",
	} {
		res := h.Admin(t, http.MethodPost, "/admin/applications", bad)
		if res.Status != http.StatusBadRequest {
			t.Errorf("POST %v: status %d, want 400", bad, res.Status)
		}
	}
}

func TestAccountsAndVehicles(t *testing.T) {
	h := sandboxtest.MustStart(t)
	res := h.Admin(t, http.MethodPost, "/admin/accounts", map[string]any{
		"username": "ci@sandbox.test",
		"vehicles": []map[string]any{{"make": "FORD", "model": "F-150", "year": 2021, "powertrain": "ICE"}},
	})
	wantStatus(t, "add account", res, http.StatusCreated)
	var added struct {
		Account  sandbox.Account
		Vehicles []sandbox.Vehicle
	}
	res.JSON(t, &added)
	if len(added.Vehicles) != 1 || !sandbox.ValidVIN(added.Vehicles[0].VIN) || added.Vehicles[0].State.Fuel == nil {
		t.Fatalf("added = %+v, want one vehicle with a valid VIN and fuel", added)
	}
	id := added.Vehicles[0].ID
	acct, err := h.Store.Account("ci@sandbox.test")
	if err != nil || len(acct.VehicleIDs) != 1 || acct.VehicleIDs[0] != id {
		t.Errorf("store account = %+v, %v", acct, err)
	}
	var accts struct{ Accounts []sandbox.Account }
	h.Admin(t, http.MethodGet, "/admin/accounts", nil).JSON(t, &accts)
	if len(accts.Accounts) != len(h.Dataset.Accounts)+1 {
		t.Errorf("listed %d accounts, want %d", len(accts.Accounts), len(h.Dataset.Accounts)+1)
	}
	var vs struct{ Vehicles []sandbox.Vehicle }
	h.Admin(t, http.MethodGet, "/admin/vehicles", nil).JSON(t, &vs)
	if len(vs.Vehicles) != len(h.Dataset.Vehicles)+1 {
		t.Errorf("listed %d vehicles, want %d", len(vs.Vehicles), len(h.Dataset.Vehicles)+1)
	}
	var v sandbox.Vehicle
	h.Admin(t, http.MethodGet, "/admin/vehicles/"+id, nil).JSON(t, &v)
	if v.Make != "FORD" {
		t.Errorf("GET vehicle = %+v", v)
	}
	wantAdminError(t, h.Admin(t, http.MethodGet, "/admin/vehicles/nope", nil), http.StatusNotFound, "not_found")
	for _, bad := range []map[string]any{
		{"vehicles": []map[string]any{}},
		{"username": "x", "vehicleIds": []string{"nope"}},
		{"username": "x", "vehicles": []map[string]any{{"make": "A", "model": "B", "year": 1800, "powertrain": "STEAM"}}},
		{"username": "x", "vehicles": []map[string]any{{"make": "A", "model": "B", "year": 2020, "powertrain": "BEV", "vin": "123"}}},
	} {
		res := h.Admin(t, http.MethodPost, "/admin/accounts", bad)
		wantAdminError(t, res, http.StatusBadRequest, "invalid")
	}
}

func TestPatchVehicle(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
	res := h.Admin(t, http.MethodPatch, "/admin/vehicles/"+teslaID, map[string]any{
		"odometerKm": 50000,
		"battery":    map[string]any{"percentRemaining": 0.1},
		"location":   map[string]any{"latitude": 48.85, "longitude": 2.35},
	})
	wantStatus(t, "patch", res, http.StatusOK)
	v, _ := h.Store.Vehicle(teslaID)
	if v.State.OdometerKm != 50000 || v.State.Battery.PercentRemaining != 0.1 || v.State.Battery.CapacityKWh != 75 || v.State.Location.Latitude != 48.85 {
		t.Errorf("state after patch = %+v, want merged values with the rest kept", v.State)
	}
	if !v.State.UpdatedAt.Equal(h.Clock.Now()) {
		t.Errorf("updatedAt = %v, want now %v", v.State.UpdatedAt, h.Clock.Now())
	}
	// The vehicle API serves the new value.
	api := h.Do(t, http.MethodGet, odometer(teslaID), tok, nil, "sc-unit-system", "metric")
	if got := api.Map(t)["distance"]; got != 50000.0 {
		t.Errorf("API odometer = %v, want 50000", got)
	}
	for _, tc := range []struct {
		name  string
		patch any
	}{
		{"unknown signal", map[string]any{"odometer": 5}},
		{"wrong type", map[string]any{"odometerKm": "far"}},
		{"negative", map[string]any{"odometerKm": -1}},
		{"share above 1", map[string]any{"battery": map[string]any{"percentRemaining": 73}}},
		{"fuel on a BEV", map[string]any{"fuel": map[string]any{"percentRemaining": 0.5}}},
		{"battery removed", map[string]any{"battery": nil}},
		{"bad charge state", map[string]any{"charge": map[string]any{"state": "BOILING"}}},
		{"bad door status", map[string]any{"security": map[string]any{"doors": []map[string]any{{"type": "frontLeft", "status": "OPEN"}}}}},
		{"latitude", map[string]any{"location": map[string]any{"latitude": 91}}},
		{"not an object", []int{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := h.Admin(t, http.MethodPatch, "/admin/vehicles/"+teslaID, tc.patch)
			wantStatus(t, tc.name, res, http.StatusBadRequest)
		})
	}
	if after, _ := h.Store.Vehicle(teslaID); after.State.OdometerKm != 50000 {
		t.Errorf("a refused patch changed the state: odometer %v", after.State.OdometerKm)
	}
	wantAdminError(t, h.Admin(t, http.MethodPatch, "/admin/vehicles/nope", map[string]any{}), http.StatusNotFound, "not_found")
}

func TestResetAndGrants(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, acct := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, "read_odometer")
	var g struct{ Grants []sandbox.Grant }
	h.Admin(t, http.MethodGet, "/admin/grants?clientId="+sandboxtest.ClientID, nil).JSON(t, &g)
	if len(g.Grants) != len(acct.VehicleIDs) {
		t.Errorf("listed %d grants, want %d", len(g.Grants), len(acct.VehicleIDs))
	}
	h.Admin(t, http.MethodGet, "/admin/grants?clientId=someone-else", nil).JSON(t, &g)
	if len(g.Grants) != 0 {
		t.Errorf("filtered grants = %v, want none", g.Grants)
	}
	h.Admin(t, http.MethodPost, "/admin/faults", map[string]any{"error": map[string]any{"type": "SERVER"}})
	wantStatus(t, "reset", h.Admin(t, http.MethodPost, "/admin/reset", nil), http.StatusOK)
	if n := len(h.Store.Grants(storeFilter())); n != 0 {
		t.Errorf("%d grants after reset, want 0", n)
	}
	var f struct{ Faults []any }
	h.Admin(t, http.MethodGet, "/admin/faults", nil).JSON(t, &f)
	if len(f.Faults) != 0 {
		t.Errorf("faults after reset = %v, want none", f.Faults)
	}
	// The grant is gone, so the token no longer works.
	wantStatus(t, "API after reset", h.Do(t, http.MethodGet, odometer(acct.VehicleIDs[0]), tok, nil), http.StatusUnauthorized)
	// Without a fixture folder there is nothing to reload.
	wantAdminError(t, h.Admin(t, http.MethodPost, "/admin/reload", nil), http.StatusConflict, "no_fixture_folder")
}

type tokenList struct {
	Tokens []struct {
		ID       string `json:"id"`
		ClientID string `json:"clientId"`
		Status   string `json:"status"`
	}
}

func TestTokensExpireRevokeAndClock(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok1, acct := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
	tok2, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
	tok3, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
	vid := acct.VehicleIDs[0]
	var list tokenList
	h.Admin(t, http.MethodGet, "/admin/tokens", nil).JSON(t, &list)
	if len(list.Tokens) != 3 || list.Tokens[0].Status != "active" {
		t.Fatalf("tokens = %+v, want 3 active", list.Tokens)
	}
	// Newest first: tok3, tok2, tok1.
	expireID, revokeID := list.Tokens[1].ID, list.Tokens[2].ID
	wantStatus(t, "expire", h.Admin(t, http.MethodPost, "/admin/tokens/"+expireID+"/expire", nil), http.StatusOK)
	wantStatus(t, "revoke", h.Admin(t, http.MethodPost, "/admin/tokens/"+revokeID+"/revoke", nil), http.StatusOK)
	wantAdminError(t, h.Admin(t, http.MethodPost, "/admin/tokens/nope/expire", nil), http.StatusNotFound, "not_found")

	for _, tc := range []struct {
		name, tok string
		want      int
		desc      string
	}{
		{"expired now", tok2, 401, "expired"},
		{"revoked", tok1, 401, "revoked"},
		{"untouched", tok3, 200, ""},
	} {
		res := h.Do(t, http.MethodGet, odometer(vid), tc.tok, nil)
		wantStatus(t, tc.name, res, tc.want)
		if tc.want == 401 {
			// The description is Smartcar's, the same for every cause; the request log's note
			// says which.
			if m := res.Map(t); m["type"] != sandbox.TypeAuthentication || !strings.Contains(h.Note(t, res), tc.desc) {
				t.Errorf("%s: %v (note %q), want AUTHENTICATION noting %q", tc.name, m, h.Note(t, res), tc.desc)
			}
		}
	}
	h.Admin(t, http.MethodGet, "/admin/tokens", nil).JSON(t, &list)
	got := map[string]string{}
	for _, tk := range list.Tokens {
		got[tk.ID] = tk.Status
	}
	if got[expireID] != "expired" || got[revokeID] != "revoked" {
		t.Errorf("statuses = %v, want expired and revoked", got)
	}

	// The clock: only forward, and two hours on every access token has expired.
	for _, bad := range []string{"-1h", "0s", "soon"} {
		wantStatus(t, "advance "+bad, h.Admin(t, http.MethodPost, "/admin/clock", map[string]string{"advance": bad}), http.StatusBadRequest)
	}
	before := h.Clock.Now()
	res := h.Admin(t, http.MethodPost, "/admin/clock", map[string]string{"advance": "2h1s"})
	wantStatus(t, "advance", res, http.StatusOK)
	if now, _ := time.Parse(time.RFC3339Nano, res.Map(t)["now"].(string)); !now.Equal(before.Add(2*time.Hour + time.Second)) {
		t.Errorf("clock now %v, want %v", now, before.Add(2*time.Hour+time.Second))
	}
	wantStatus(t, "GET clock", h.Admin(t, http.MethodGet, "/admin/clock", nil), http.StatusOK)
	res = h.Do(t, http.MethodGet, odometer(vid), tok3, nil)
	wantStatus(t, "after the clock moved", res, http.StatusUnauthorized)
	if note := h.Note(t, res); !strings.Contains(note, "expired") {
		t.Errorf("note %q, want it to say expired", note)
	}
}

func TestExpireCodeAndRefreshToken(t *testing.T) {
	h := sandboxtest.MustStart(t)
	acct, _ := h.Store.Account(sandboxtest.DemoUser)
	now := h.Clock.Now()
	if err := h.Store.SaveCode(sandbox.AuthCode{Code: "code-1", ClientID: sandboxtest.ClientID, RedirectURI: sandboxtest.RedirectURI,
		UserID: acct.UserID, VehicleIDs: acct.VehicleIDs, Permissions: []string{"read_odometer"}, ExpiresAt: now.Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := h.Store.SaveRefreshToken(sandbox.RefreshToken{Token: "refresh-1", ClientID: sandboxtest.ClientID, UserID: acct.UserID,
		VehicleIDs: acct.VehicleIDs, Permissions: []string{"read_odometer"}, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var codes struct{ Codes []sandbox.AuthCode }
	h.Admin(t, http.MethodGet, "/admin/codes", nil).JSON(t, &codes)
	var rts struct{ RefreshTokens []sandbox.RefreshToken }
	h.Admin(t, http.MethodGet, "/admin/refresh-tokens", nil).JSON(t, &rts)
	if len(codes.Codes) != 1 || len(rts.RefreshTokens) != 1 {
		t.Fatalf("codes %v refresh tokens %v, want one each", codes.Codes, rts.RefreshTokens)
	}
	wantStatus(t, "expire code", h.Admin(t, http.MethodPost, "/admin/codes/code-1/expire", nil), http.StatusOK)
	wantStatus(t, "expire refresh", h.Admin(t, http.MethodPost, "/admin/refresh-tokens/refresh-1/expire", nil), http.StatusOK)
	wantAdminError(t, h.Admin(t, http.MethodPost, "/admin/codes/nope/expire", nil), http.StatusNotFound, "not_found")
	wantAdminError(t, h.Admin(t, http.MethodPost, "/admin/refresh-tokens/nope/expire", nil), http.StatusNotFound, "not_found")

	for _, form := range []url.Values{
		{"grant_type": {"authorization_code"}, "code": {"code-1"}, "redirect_uri": {sandboxtest.RedirectURI}},
		{"grant_type": {"refresh_token"}, "refresh_token": {"refresh-1"}},
	} {
		res := tokenRequest(t, h, form, "")
		wantStatus(t, form.Get("grant_type"), res, http.StatusBadRequest)
		if got := res.Map(t)["error"]; got != "invalid_grant" {
			t.Errorf("%s: error %v, want invalid_grant", form.Get("grant_type"), got)
		}
	}
}

func tokenRequest(t *testing.T, h *sandboxtest.Harness, form url.Values, fault string) *sandboxtest.Response {
	t.Helper()
	if fault != "" {
		return h.Token(t, form, "SC-Sandbox-Fault", fault)
	}
	return h.Token(t, form)
}

func TestRequestLog(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, acct := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, "read_odometer")
	ok := h.Do(t, http.MethodGet, odometer(acct.VehicleIDs[0]), tok, nil)
	bad := h.Do(t, http.MethodGet, "/v2.0/vehicles/"+acct.VehicleIDs[0]+"/location", tok, nil)
	tokRes := tokenRequest(t, h, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}, "client_secret": {"s3cret"}}, "")
	h.Do(t, http.MethodGet, "/healthz", "", nil) // not an API path: not logged
	var log struct {
		Requests []struct {
			RequestID      string `json:"requestId"`
			Method, Path   string
			Status         int
			RequestHeaders map[string]string `json:"requestHeaders"`
			RequestBody    string            `json:"requestBody"`
			ResponseBody   string            `json:"responseBody"`
		}
		Size int
	}
	h.Admin(t, http.MethodGet, "/admin/requests", nil).JSON(t, &log)
	if len(log.Requests) != 3 || log.Size != 200 {
		t.Fatalf("request log = %+v, want 3 entries of 200", log)
	}
	for i, want := range []*sandboxtest.Response{tokRes, bad, ok} { // newest first
		e := log.Requests[i]
		if e.RequestID != want.Header.Get("SC-Request-Id") || e.Status != want.Status {
			t.Errorf("entry %d = %s %d, want %s %d", i, e.RequestID, e.Status, want.Header.Get("SC-Request-Id"), want.Status)
		}
	}
	if e := log.Requests[1]; !strings.Contains(e.ResponseBody, "PERMISSION") || strings.Contains(e.RequestHeaders["Authorization"], tok) {
		t.Errorf("error entry = %+v, want the error body and a redacted token", e)
	}
	if e := log.Requests[0]; e.Path != "/oauth/token" || strings.Contains(e.RequestBody, "s3cret") || !strings.Contains(e.RequestBody, "grant_type=refresh_token") {
		t.Errorf("token entry body = %q, want the form with client_secret redacted", e.RequestBody)
	}
	h.Admin(t, http.MethodGet, "/admin/requests?limit=1", nil).JSON(t, &log)
	if len(log.Requests) != 1 {
		t.Errorf("limit=1 gave %d entries", len(log.Requests))
	}
	wantStatus(t, "bad limit", h.Admin(t, http.MethodGet, "/admin/requests?limit=x", nil), http.StatusBadRequest)
	wantStatus(t, "clear", h.Admin(t, http.MethodDelete, "/admin/requests", nil), http.StatusNoContent)
	h.Admin(t, http.MethodGet, "/admin/requests", nil).JSON(t, &log)
	if len(log.Requests) != 0 {
		t.Errorf("after clear: %d entries", len(log.Requests))
	}
}

func storeFilter() store.GrantFilter { return store.GrantFilter{} }

// The domain's state rules answer with the body's JSON field, every line of them.
func TestStateProblemsNameTheJSONField(t *testing.T) {
	h := sandboxtest.MustStart(t)
	for _, tc := range []struct {
		name, method, path string
		body               any
		want               []string
	}{
		{"patch", http.MethodPatch, "/admin/vehicles/" + teslaID,
			map[string]any{"battery": map[string]any{"percentRemaining": 73}, "charge": map[string]any{"state": "CHARGING", "isPluggedIn": false}},
			[]string{"battery.percentRemaining 73 is outside 0..1 (percentages are fractions: write 0.73 for 73%)", "charge.state CHARGING needs isPluggedIn: true"}},
		{"new vehicle", http.MethodPost, "/admin/accounts",
			map[string]any{"username": "state@sandbox.test", "vehicles": []map[string]any{{"make": "FORD", "model": "F-150", "year": 2021, "powertrain": "ICE",
				"state": map[string]any{"odometerKm": -5, "battery": map[string]any{"percentRemaining": 0.5}}}}},
			[]string{"vehicles[0]: state.odometerKm -5 must not be negative",
				"vehicles[0]: state.battery contradicts powertrain ICE: only BEV and PHEV have a traction battery and charge port"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := h.Admin(t, tc.method, tc.path, tc.body)
			wantAdminError(t, res, http.StatusBadRequest, "invalid")
			var body struct{ Details []string }
			res.JSON(t, &body)
			if !slices.Equal(body.Details, tc.want) {
				t.Errorf("details = %q, want %q", body.Details, tc.want)
			}
		})
	}
}
