package faults_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/faults"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
)

// setup starts a sandbox with a connected demo account and returns a token and two vehicles.
func setup(t *testing.T, o sandboxtest.Options) (*sandboxtest.Harness, string, string, string) {
	h := sandboxtest.MustStartWith(t, o)
	tok, acct := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
	if len(acct.VehicleIDs) < 2 {
		t.Fatalf("demo account has %d vehicles, want 2+", len(acct.VehicleIDs))
	}
	return h, tok, acct.VehicleIDs[0], acct.VehicleIDs[1]
}

func addRule(t *testing.T, h *sandboxtest.Harness, rule map[string]any) string {
	t.Helper()
	res := h.Admin(t, http.MethodPost, "/admin/faults", rule)
	if res.Status != http.StatusCreated {
		t.Fatalf("POST /admin/faults %v: %d %s", rule, res.Status, res.Body)
	}
	return res.Map(t)["id"].(string)
}

func path(id, signal string) string { return "/v2.0/vehicles/" + id + "/" + signal }

// statuses makes n GETs and returns their statuses.
func statuses(t *testing.T, h *sandboxtest.Harness, tok, p string, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = h.Do(t, http.MethodGet, p, tok, nil).Status
	}
	return out
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestNextNCalls(t *testing.T) {
	h, tok, v1, _ := setup(t, sandboxtest.Options{})
	id := addRule(t, h, map[string]any{"vehicleId": v1, "count": 2, "error": map[string]any{"type": "VEHICLE_STATE", "code": "ASLEEP"}})
	res := h.Do(t, http.MethodGet, path(v1, "odometer"), tok, nil)
	m := res.Map(t)
	if res.Status != 409 || m["type"] != "VEHICLE_STATE" || m["code"] != "ASLEEP" || m["requestId"] != res.Header.Get("SC-Request-Id") ||
		!strings.HasPrefix(m["docURL"].(string), "https://smartcar.com/docs/errors/api-errors/vehicle-state-errors") {
		t.Errorf("faulted response = %d %v", res.Status, m)
	}
	if got := res.Header.Get(faults.RuleHeader); got != id {
		t.Errorf("%s = %q, want %q", faults.RuleHeader, got, id)
	}
	if got, want := statuses(t, h, tok, path(v1, "odometer"), 3), []int{409, 200, 200}; !equal(got, want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
	var list struct{ Faults []faults.Rule }
	h.Admin(t, http.MethodGet, "/admin/faults", nil).JSON(t, &list)
	if len(list.Faults) != 0 {
		t.Errorf("used-up rule still listed: %+v", list.Faults)
	}
}

func TestPerVehiclePathAndApplication(t *testing.T) {
	h, tok, v1, v2 := setup(t, sandboxtest.Options{})
	addRule(t, h, map[string]any{"vehicleId": v2, "error": map[string]any{"type": "UPSTREAM", "code": "NO_RESPONSE"}})
	addRule(t, h, map[string]any{"path": "/v2.0/vehicles/*/location", "method": "get", "error": map[string]any{"type": "COMPATIBILITY", "code": "VEHICLE_NOT_CAPABLE"}})
	for _, tc := range []struct {
		p    string
		want int
	}{
		{path(v1, "odometer"), 200},
		{path(v2, "odometer"), 502},
		{path(v1, "location"), 501},
	} {
		if got := h.Do(t, http.MethodGet, tc.p, tok, nil).Status; got != tc.want {
			t.Errorf("GET %s = %d, want %d", tc.p, got, tc.want)
		}
	}
	wantStatus := func(name string, got, want int) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %d, want %d", name, got, want)
		}
	}
	// Per application: another app's token is not affected.
	h.Admin(t, http.MethodDelete, "/admin/faults", nil)
	other := sandbox.Application{ClientID: "other-app", ClientSecret: "s", RedirectURIs: []string{"o://x"}}
	if err := h.Store.PutApplication(other); err != nil {
		t.Fatal(err)
	}
	otherTok, _ := h.Connect(t, other.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
	addRule(t, h, map[string]any{"clientId": sandboxtest.ClientID, "error": map[string]any{"type": "AUTHENTICATION"}})
	wantStatus("faulted app", h.Do(t, http.MethodGet, path(v1, "odometer"), tok, nil).Status, 401)
	wantStatus("other app", h.Do(t, http.MethodGet, path(v1, "odometer"), otherTok, nil).Status, 200)
}

func TestRateIsDeterministic(t *testing.T) {
	run := func() []int {
		h, tok, v1, _ := setup(t, sandboxtest.Options{})
		addRule(t, h, map[string]any{"rate": 0.5, "seed": 7, "error": map[string]any{"type": "SERVER", "code": "INTERNAL"}})
		return statuses(t, h, tok, path(v1, "odometer"), 20)
	}
	a, b := run(), run()
	if !equal(a, b) {
		t.Errorf("same seed, different runs: %v vs %v", a, b)
	}
	failed := 0
	for _, s := range a {
		if s == 500 {
			failed++
		} else if s != 200 {
			t.Errorf("unexpected status %d", s)
		}
	}
	if failed == 0 || failed == len(a) {
		t.Errorf("rate 0.5 failed %d of %d calls, want some but not all", failed, len(a))
	}
}

func TestRateLimitSetsRetryAfter(t *testing.T) {
	h, tok, v1, _ := setup(t, sandboxtest.Options{})
	addRule(t, h, map[string]any{"count": 1, "error": map[string]any{"type": "RATE_LIMIT", "code": "VEHICLE", "retryAfter": 30}})
	addRule(t, h, map[string]any{"count": 1, "error": map[string]any{"type": "RATE_LIMIT", "code": "VEHICLE"}})
	for _, want := range []string{"30", "60"} {
		res := h.Do(t, http.MethodGet, path(v1, "odometer"), tok, nil)
		if res.Status != 429 || res.Header.Get("Retry-After") != want {
			t.Errorf("status %d Retry-After %q, want 429 %q", res.Status, res.Header.Get("Retry-After"), want)
		}
	}
}

func TestLatency(t *testing.T) {
	h, tok, v1, _ := setup(t, sandboxtest.Options{})
	for _, l := range []map[string]any{{"fixed": "50ms"}, {"min": "50ms", "max": "60ms"}} {
		h.Admin(t, http.MethodDelete, "/admin/faults", nil)
		addRule(t, h, map[string]any{"latency": l})
		start := time.Now()
		res := h.Do(t, http.MethodGet, path(v1, "odometer"), tok, nil)
		if d := time.Since(start); d < 50*time.Millisecond || res.Status != 200 {
			t.Errorf("latency %v: took %v with status %d, want >= 50ms and 200", l, d, res.Status)
		}
	}
}

func TestV3AndTokenEndpoint(t *testing.T) {
	h, tok, v1, _ := setup(t, sandboxtest.Options{})
	addRule(t, h, map[string]any{"path": "/v3/", "count": 1, "error": map[string]any{"type": "VEHICLE_STATE", "code": "ASLEEP"}})
	res := h.Do(t, http.MethodGet, "/v3/vehicles/"+v1, tok, nil)
	if res.Status != 409 {
		t.Errorf("v3 fault = %d %s, want 409", res.Status, res.Body)
	} else if e := res.V3Error(t); e.Type != "VEHICLE_STATE" || e.Code != "ASLEEP" {
		t.Errorf("v3 fault = %+v, want VEHICLE_STATE:ASLEEP in v3's error shape", e)
	}
	addRule(t, h, map[string]any{"path": "/oauth/token", "clientId": sandboxtest.ClientID, "count": 1, "error": map[string]any{"type": "invalid_grant"}})
	res = tokenRequest(t, h, url.Values{"grant_type": {"client_credentials"}}, "")
	if m := res.Map(t); res.Status != 400 || m["error"] != "invalid_grant" || m["error_description"] == "" {
		t.Errorf("token fault = %d %v, want 400 invalid_grant", res.Status, m)
	}
	// v3's IAM token endpoint is a token endpoint too: OAuth codes, OAuth shape.
	addRule(t, h, map[string]any{"path": "/oauth2/token", "count": 1, "error": map[string]any{"type": "invalid_client"}})
	res = h.Do(t, http.MethodPost, "/oauth2/token", "", map[string]any{"grant_type": "client_credentials", "client_id": sandboxtest.ClientID, "client_secret": sandboxtest.ClientSecret})
	if m := res.Map(t); res.Status != 401 || m["error"] != "invalid_client" || m["error_description"] == "" {
		t.Errorf("IAM token fault = %d %v, want 401 invalid_client", res.Status, m)
	}
	// OAuth codes only make sense on the token endpoint.
	bad := h.Admin(t, http.MethodPost, "/admin/faults", map[string]any{"error": map[string]any{"type": "invalid_grant"}})
	if bad.Status != 400 {
		t.Errorf("OAuth code on API paths: %d, want 400", bad.Status)
	}
}

func TestBadRules(t *testing.T) {
	h := sandboxtest.MustStart(t)
	for _, rule := range []map[string]any{
		{},
		{"error": map[string]any{"type": "NAPPING"}},
		{"rate": 1.5, "error": map[string]any{"type": "SERVER"}},
		{"count": -1, "error": map[string]any{"type": "SERVER"}},
		{"path": "v2.0", "error": map[string]any{"type": "SERVER"}},
		{"latency": map[string]any{"fixed": "soon"}},
		{"latency": map[string]any{"min": "2s", "max": "1s"}},
		{"latency": map[string]any{"fixed": "1h"}},
	} {
		if res := h.Admin(t, http.MethodPost, "/admin/faults", rule); res.Status != 400 {
			t.Errorf("POST %v: %d, want 400", rule, res.Status)
		}
	}
	id := addRule(t, h, map[string]any{"error": map[string]any{"type": "SERVER"}})
	if res := h.Admin(t, http.MethodDelete, "/admin/faults/"+id, nil); res.Status != 204 {
		t.Errorf("DELETE rule: %d", res.Status)
	}
	if res := h.Admin(t, http.MethodDelete, "/admin/faults/"+id, nil); res.Status != 404 {
		t.Errorf("DELETE gone rule: %d, want 404", res.Status)
	}
}

func TestHeader(t *testing.T) {
	off, tok, v1, _ := setup(t, sandboxtest.Options{})
	if res := off.Do(t, http.MethodGet, path(v1, "odometer"), tok, nil, faults.HeaderName, "VEHICLE_STATE:ASLEEP"); res.Status != 200 {
		t.Errorf("header while off: %d, want 200 (ignored)", res.Status)
	}
	h, tok, v1, _ := setup(t, sandboxtest.Options{FaultHeader: true})
	for _, tc := range []struct {
		header, typ, code, retry string
		status                   int
	}{
		{"VEHICLE_STATE:ASLEEP", "VEHICLE_STATE", "ASLEEP", "", 409},
		{"RATE_LIMIT:VEHICLE:15", "RATE_LIMIT", "VEHICLE", "15", 429},
		{"UPSTREAM:NO_RESPONSE", "UPSTREAM", "NO_RESPONSE", "", 502},
		{"AUTHENTICATION", "AUTHENTICATION", "", "", 401},
		{"NAPPING:DEEPLY", "VALIDATION", "PARAMETER", "", 400},
		{"RATE_LIMIT:VEHICLE:soon", "VALIDATION", "PARAMETER", "", 400},
	} {
		res := h.Do(t, http.MethodGet, path(v1, "odometer"), tok, nil, faults.HeaderName, tc.header)
		m := res.Map(t)
		code, _ := m["code"].(string)
		if res.Status != tc.status || m["type"] != tc.typ || code != tc.code || res.Header.Get("Retry-After") != tc.retry {
			t.Errorf("%s: %d %v Retry-After %q; want %d %s:%s %q", tc.header, res.Status, m, res.Header.Get("Retry-After"), tc.status, tc.typ, tc.code, tc.retry)
		}
	}
	// One shot: the next call without the header is fine.
	if res := h.Do(t, http.MethodGet, path(v1, "odometer"), tok, nil); res.Status != 200 {
		t.Errorf("after header faults: %d, want 200", res.Status)
	}
	res := tokenRequest(t, h, url.Values{"grant_type": {"client_credentials"}}, "SERVER")
	if m := res.Map(t); res.Status != 500 || m["error"] != "server_error" {
		t.Errorf("token endpoint header fault = %d %v, want 500 server_error", res.Status, m)
	}
}

func tokenRequest(t *testing.T, h *sandboxtest.Harness, form url.Values, fault string) *sandboxtest.Response {
	t.Helper()
	if fault != "" {
		return h.Token(t, form, faults.HeaderName, fault)
	}
	return h.Token(t, form)
}
